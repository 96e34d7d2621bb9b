// fastMRI and ISMRMRD readers, and the writers the simulator uses.
#include "lumen/mri/io.hpp"

#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/xml.h>

#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "lumen/io/hdf5.hpp"
#include "lumen/io/history.hpp"
#include "lumen/io/output.hpp"
#include "lumen/io/png.hpp"
#include "lumen/io/watchdog.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/simulate.hpp"
#include "lumen/version.hpp"
#include "src/io/ismrmrd_check.hpp"
#include "src/text.hpp"

namespace lumen::mri {

namespace {

// The ISMRMRD XML namespace is the default namespace of the document; pugixml does not resolve
// namespaces, so elements are matched by their local name (any prefix dropped).
const char* local_name(const pugi::xml_node& n) {
    const char* name = n.name();
    const char* colon = std::strrchr(name, ':');
    return colon ? colon + 1 : name;
}

pugi::xml_node child(const pugi::xml_node& parent, const char* name) {
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element && std::strcmp(local_name(c), name) == 0) return c;
    return {};
}

pugi::xml_node path(pugi::xml_node n, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        if (!n) return {};
        n = child(n, name);
    }
    return n;
}

bool read_long(const pugi::xml_node& n, long& out) {
    if (!n) return false;
    const std::string text = n.text().as_string();
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str()) return false;
    out = v;
    return true;
}

struct XmlInfo {
    long enc_x = 0, enc_y = 0, recon_x = 0, recon_y = 0;
    bool limits = false;
    long center = 0, maximum = 0, minimum = 0;
};

XmlInfo parse_header_xml(const std::string& xml, const std::string& where) {
    pugi::xml_document doc;
    const pugi::xml_parse_result ok = doc.load_string(xml.c_str());
    require(bool(ok), where + ": the ISMRMRD XML header cannot be parsed (" + std::string(ok.description()) +
                          "); expected an ismrmrdHeader document");
    pugi::xml_node root;
    for (pugi::xml_node c = doc.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element && std::strcmp(local_name(c), "ismrmrdHeader") == 0) root = c;
    require(bool(root), where + ": the XML header has no ismrmrdHeader element");
    const pugi::xml_node enc = child(root, "encoding");
    require(bool(enc), where + ": the XML header has no encoding element");
    XmlInfo info;
    read_long(path(enc, {"encodedSpace", "matrixSize", "x"}), info.enc_x);
    read_long(path(enc, {"encodedSpace", "matrixSize", "y"}), info.enc_y);
    read_long(path(enc, {"reconSpace", "matrixSize", "x"}), info.recon_x);
    read_long(path(enc, {"reconSpace", "matrixSize", "y"}), info.recon_y);
    const pugi::xml_node lim = path(enc, {"encodingLimits", "kspace_encoding_step_1"});
    info.limits = read_long(child(lim, "center"), info.center) && read_long(child(lim, "maximum"), info.maximum);
    read_long(child(lim, "minimum"), info.minimum);
    return info;
}

void apply_xml(ScanHeader& h, const XmlInfo& x) {
    h.has_xml_header = true;
    if (x.recon_x > 0 && x.recon_y > 0) {
        h.recon_height = std::min<index_t>(x.recon_x, h.height);
        h.recon_width = std::min<index_t>(x.recon_y, h.width);
    }
    // fastMRI: padding_left = enc_y // 2 - center; padding_right = padding_left + maximum + 1.
    // A minimum above 0 (partial Fourier: the first lines were not acquired) moves the first
    // acquired column on by that much; fastMRI's own files all have minimum 0.
    if (x.limits && x.enc_y == h.width) {
        const index_t left = x.enc_y / 2 - x.center;
        const index_t right = left + x.maximum + 1;
        const index_t first = left + std::max<long>(0, x.minimum);
        if (left >= 0 && right <= h.width && first < right) {
            h.first_column = first;
            h.last_column = right;
        }
    }
}

// float32 reconstruction sums squares of k-space values over whole images: values beyond about
// 1e15 overflow (non-finite results, misleading "not finite" messages later), values below about
// 1e-15 underflow. The largest component is found without squaring, so 1e-35 is not mistaken
// for zero.
constexpr double k_kspace_max = 1e15, k_kspace_min = 1e-15;

void check_values(const Array<complex64>& k, const std::string& where) {
    double peak = 0;
    for (const complex64& v : k) {
        require(std::isfinite(v.re) && std::isfinite(v.im), where + " contains NaN or Inf values; expected finite k-space");
        peak = std::max({peak, std::fabs(double(v.re)), std::fabs(double(v.im))});
    }
    require(peak > 0.0, where + " is all zero; expected measured k-space");
    require(peak >= k_kspace_min && peak <= k_kspace_max,
            where + " has values up to " + detail::num(peak) + " in magnitude, outside [1e-15, 1e15] where " +
                "float32 reconstruction is exact enough (squares would under- or overflow); rescale the k-space");
}

// What a reconstruction of this scan needs at least: a slice's k-space, its coil maps and the
// solver's images (about twelve coil stacks of complex64), and the float output volume. Checked
// when the file is opened, before anything is allocated from the header's sizes, so that `info`
// and `recon` refuse a file whose declared sizes this machine cannot hold.
void check_memory(const ScanHeader& h, const std::string& dataset) {
    const double stack = 8.0 * double(h.coils) * double(h.height) * double(h.width);
    io::require_memory(12.0 * stack + 4.0 * double(h.slices) * double(h.recon_height) * double(h.recon_width) +
                           (h.format == "ismrmrd" ? stack * double(h.slices) : 0.0),
                       h.path + ": " + dataset + " of " + std::to_string(h.slices) + " slice(s) x " +
                           std::to_string(h.coils) + " coil(s) x " + std::to_string(h.height) + " x " +
                           std::to_string(h.width));
}

}  // namespace

struct ScanReader::Impl {
    ScanHeader h;
    std::unique_ptr<io::H5File> file;       // fastMRI
    Array<complex64> ismrmrd_kspace;        // ISMRMRD: whole volume [S][C][H][W]
    Array<float> ismrmrd_mask;              // [H][W]
    Array<complex64> noise;                 // ISMRMRD noise pre-scan [coils][n]
};

ScanReader::ScanReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScanReader::ScanReader(ScanReader&&) noexcept = default;
ScanReader& ScanReader::operator=(ScanReader&&) noexcept = default;
ScanReader::~ScanReader() = default;
const ScanHeader& ScanReader::header() const { return impl_->h; }

namespace {

std::unique_ptr<ScanReader::Impl> open_fastmri(io::H5File f) {
    auto impl = std::make_unique<ScanReader::Impl>();
    ScanHeader& h = impl->h;
    h.path = f.path();
    h.format = "fastmri";
    const io::DatasetInfo info = f.info("/kspace");
    require(info.is_complex(), f.path() + ": dataset /kspace has dtype " + info.dtype +
                                   "; expected complex64 (the {r, i} compound h5py writes)");
    require(info.shape.rank() == 3 || info.shape.rank() == 4,
            f.path() + ": dataset /kspace has shape " + info.shape.str() +
                "; expected (slices, coils, H, W) for multi-coil or (slices, H, W) for single-coil data");
    h.single_coil = info.shape.rank() == 3;
    h.slices = info.shape[0];
    h.coils = h.single_coil ? 1 : info.shape[1];
    h.height = info.shape[-2];
    h.width = info.shape[-1];
    require(h.slices >= 1 && h.coils >= 1 && h.height >= 2 && h.width >= 2,
            f.path() + ": dataset /kspace of shape " + info.shape.str() + " is empty; expected measured k-space");
    h.recon_height = std::min<index_t>(320, h.height);
    h.recon_width = std::min<index_t>(320, h.width);
    h.first_column = 0;
    h.last_column = h.width;
    check_memory(h, "dataset /kspace");
    h.first_row = 0;
    h.last_row = h.height;
    if (f.exists("/ismrmrd_header")) apply_xml(h, parse_header_xml(f.read_string("/ismrmrd_header"), f.path() + ": /ismrmrd_header"));
    if (f.exists("/mask")) {
        const io::DatasetInfo mi = f.info("/mask");
        require(mi.is_real_number(), f.path() + ": dataset /mask has dtype " + mi.dtype + "; expected bool, integer or float");
        h.has_mask = true;
        h.mask_shape = mi.shape.str();
        // Validate the shape now so that a mismatch is reported before any work.
        expand_mask(f.read_float("/mask").view(), h.height, h.width, f.path() + ": dataset /mask");
    }
    h.has_truth = f.exists("/lumen/truth/image") && f.exists("/lumen/truth/sensitivities");
    for (const char* t : {"/reconstruction_rss", "/reconstruction_esc"})
        if (h.target.empty() && f.exists(t)) h.target = t;
    if (f.has_attr("/", "acquisition")) h.acquisition = f.attr_string("/", "acquisition");
    impl->file = std::make_unique<io::H5File>(std::move(f));
    return impl;
}

std::unique_ptr<ScanReader::Impl> open_ismrmrd(const std::string& file) {
    auto impl = std::make_unique<ScanReader::Impl>();
    ScanHeader& h = impl->h;
    h.path = file;
    h.format = "ismrmrd";
    // libismrmrd trusts each record's header for how much to copy (src/io/ismrmrd_check.hpp).
    io::check_ismrmrd_acquisitions(file);
    // libismrmrd reads the whole table here: under the read time limit (lumen/io/watchdog.hpp).
    const io::ReadWatch watch(file);
    try {
        ISMRMRD::Dataset d(file.c_str(), "dataset", false);
        std::string xml;
        d.readHeader(xml);
        ISMRMRD::IsmrmrdHeader hdr;
        try {
            ISMRMRD::deserialize(xml.c_str(), hdr);
        } catch (const std::exception& e) {
            throw Error(ErrorCode::bad_input, file + ": /dataset/xml is not a valid ISMRMRD header (" + e.what() + ")");
        }
        require(!hdr.encoding.empty(), file + ": the ISMRMRD header has no encoding");
        const ISMRMRD::Encoding& enc = hdr.encoding[0];
        require(enc.trajectory == ISMRMRD::TrajectoryType::CARTESIAN,
                file + ": the ISMRMRD trajectory is not Cartesian; lumen reads Cartesian MRD data only");
        require(enc.encodedSpace.matrixSize.z <= 1,
                file + ": the encoded matrix has z = " + std::to_string(enc.encodedSpace.matrixSize.z) +
                    " (3-D encoding); lumen reads 2-D (multi-slice) Cartesian MRD data only");
        h.height = enc.encodedSpace.matrixSize.x;
        h.width = enc.encodedSpace.matrixSize.y;
        require(h.height >= 2 && h.width >= 2, file + ": the encoded matrix " + std::to_string(h.height) + "x" +
                                                   std::to_string(h.width) + " is too small");
        h.recon_height = std::min<index_t>(enc.reconSpace.matrixSize.x, h.height);
        h.recon_width = std::min<index_t>(enc.reconSpace.matrixSize.y, h.width);
        if (h.recon_height <= 0 || h.recon_width <= 0) {
            h.recon_height = std::min<index_t>(320, h.height);
            h.recon_width = std::min<index_t>(320, h.width);
        }
        h.has_xml_header = true;
        h.first_column = 0;
        h.last_column = h.width;
        // The ky centre of the encoding limits maps to column W/2 (fastMRI's convention for padding).
        index_t ky_offset = 0;
        if (enc.encodingLimits.kspace_encoding_step_1) {
            const auto& lim = *enc.encodingLimits.kspace_encoding_step_1;
            ky_offset = h.width / 2 - index_t(lim.center);
            h.first_column = std::max<index_t>(0, ky_offset + lim.minimum);
            h.last_column = std::min<index_t>(h.width, ky_offset + lim.maximum + 1);
        }
        const uint32_t n = d.getNumberOfAcquisitions();
        require(n > 0, file + ": /dataset/data holds no acquisitions");
        // First pass: geometry (slices, coils).
        std::vector<ISMRMRD::Acquisition> acqs;
        acqs.reserve(n);
        std::vector<ISMRMRD::Acquisition> noise;
        index_t slices = 1, coils = 0;
        for (uint32_t i = 0; i < n; ++i) {
            ISMRMRD::Acquisition a;
            d.readAcquisition(i, a);
            // The noise pre-scan (receiver on, no RF) is kept for pre-whitening the coils.
            if (a.isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_NOISE_MEASUREMENT)) {
                if (a.number_of_samples() > 0 && a.active_channels() > 0) noise.push_back(std::move(a));
                continue;
            }
            if (a.isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_NAVIGATION_DATA) ||
                a.isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_PHASECORR_DATA) ||
                a.isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_DUMMYSCAN_DATA) || a.isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_RTFEEDBACK_DATA))
                continue;
            require(a.idx().kspace_encode_step_2 == 0,
                    file + ": acquisition " + std::to_string(i) + " has kspace_encode_step_2 = " +
                        std::to_string(a.idx().kspace_encode_step_2) + "; lumen reads 2-D Cartesian data only");
            if (coils == 0) coils = a.active_channels();
            require(index_t(a.active_channels()) == coils,
                    file + ": acquisition " + std::to_string(i) + " has " + std::to_string(a.active_channels()) +
                        " channels, the first had " + std::to_string(coils) + "; expected the same coils throughout");
            slices = std::max<index_t>(slices, index_t(a.idx().slice) + 1);
            acqs.push_back(std::move(a));
        }
        require(!acqs.empty() && coils > 0, file + ": no imaging acquisitions (all were noise or calibration scans)");
        h.slices = slices;
        h.coils = coils;
        check_memory(h, "/dataset/data");
        h.acquisition_dwell_us = acqs.front().sample_time_us();
        if (!noise.empty()) {
            index_t total = 0;
            for (auto& a : noise) {
                require(index_t(a.active_channels()) == coils,
                        file + ": a noise-measurement acquisition has " + std::to_string(a.active_channels()) +
                            " channels, the imaging data " + std::to_string(coils) +
                            "; expected the same coils (the noise pre-scan whitens them)");
                total += a.number_of_samples();
            }
            // [coils][n]: every noise readout's samples one after another, per coil.
            impl->noise = Array<complex64>(Shape{coils, total});
            index_t at = 0;
            for (auto& a : noise) {
                const index_t ns = a.number_of_samples();
                const complex_float_t* src = a.getDataPtr();
                for (index_t c = 0; c < coils; ++c)
                    for (index_t r = 0; r < ns; ++r)
                        impl->noise[c * total + at + r] = complex64(src[c * ns + r].real(), src[c * ns + r].imag());
                at += ns;
            }
            h.noise_scans = index_t(noise.size());
            h.noise_dwell_us = noise.front().sample_time_us();
        }
        impl->ismrmrd_kspace = Array<complex64>(Shape{slices, coils, h.height, h.width});
        Array<float> count(Shape{slices, h.width});
        impl->ismrmrd_mask = Array<float>(Shape{h.height, h.width});
        h.first_row = h.height;
        h.last_row = 0;
        for (std::size_t i = 0; i < acqs.size(); ++i) {
            ISMRMRD::Acquisition& a = acqs[i];
            const index_t ky = index_t(a.idx().kspace_encode_step_1) + ky_offset;
            const index_t s = a.idx().slice;
            const index_t ns = a.number_of_samples();
            // Readout placement: the centre sample lands on row H/2 when the line is shorter or longer
            // (a reversed line's center_sample counts in acquisition order, so it moves with the flip).
            const bool reverse = a.isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_REVERSE);
            const index_t centre = reverse ? ns - 1 - index_t(a.center_sample()) : index_t(a.center_sample());
            const index_t x0 = ns == h.height ? 0 : h.height / 2 - centre;
            require(ky >= 0 && ky < h.width, file + ": acquisition with kspace_encode_step_1 = " +
                                                 std::to_string(a.idx().kspace_encode_step_1) +
                                                 " lies outside the encoded matrix (y = " + std::to_string(h.width) + ")");
            require(x0 >= 0 && x0 + ns <= h.height,
                    file + ": a readout of " + std::to_string(ns) + " samples (centre " + std::to_string(a.center_sample()) +
                        ") does not fit the encoded matrix x = " + std::to_string(h.height));
            const complex_float_t* data = a.getDataPtr();
            // A reversed readout (bipolar gradients, EPI) traversed k-space from +kx to -kx: its
            // samples are stored in acquisition order and must be flipped, or every other line is
            // mirrored and the image shows N/2 ghosts (ISMRMRD's ACQ_IS_REVERSE, as Gadgetron
            // reads it).
            if (reverse) ++h.reversed_lines;
            h.first_row = std::min(h.first_row, x0);
            h.last_row = std::max(h.last_row, x0 + ns);
            for (index_t c = 0; c < coils; ++c)
                for (index_t r = 0; r < ns; ++r) {
                    const complex_float_t v = data[c * ns + (reverse ? ns - 1 - r : r)];
                    complex64& dst = impl->ismrmrd_kspace[((s * coils + c) * h.height + x0 + r) * h.width + ky];
                    dst += complex64(v.real(), v.imag());
                }
            count[s * h.width + ky] += 1.0f;
            for (index_t r = x0; r < x0 + ns; ++r) impl->ismrmrd_mask[r * h.width + ky] = 1.0f;
        }
        // Repeated lines (averages, repetitions) are averaged.
        for (index_t s = 0; s < slices; ++s)
            for (index_t ky = 0; ky < h.width; ++ky) {
                const float c = count[s * h.width + ky];
                if (c > 1.0f)
                    for (index_t coil = 0; coil < coils; ++coil)
                        for (index_t r = 0; r < h.height; ++r) {
                            complex64& v = impl->ismrmrd_kspace[((s * coils + coil) * h.height + r) * h.width + ky];
                            v = v * (1.0f / c);
                        }
            }
        h.has_mask = true;
        h.mask_shape = "(" + std::to_string(h.height) + ", " + std::to_string(h.width) + ") from the acquired lines";
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorCode::bad_input, file + ": cannot read the ISMRMRD dataset: " + e.what());
    }
    return impl;
}

}  // namespace

ScanReader ScanReader::open(const std::string& file) {
    io::H5File f = io::H5File::open(file);
    if (f.exists("/kspace")) return ScanReader(open_fastmri(std::move(f)));
    if (f.exists("/dataset/data") && f.exists("/dataset/xml")) return ScanReader(open_ismrmrd(file));
    throw Error(ErrorCode::bad_input, file + ": no /kspace dataset (fastMRI layout: /kspace complex64 (slices, coils, H, W)) "
                                             "and no ISMRMRD /dataset/data; expected a fastMRI or ISMRMRD HDF5 file");
}

Array<complex64> ScanReader::read_slice(index_t s) const {
    const ScanHeader& h = impl_->h;
    require(s >= 0 && s < h.slices, h.path + ": slice " + std::to_string(s) + " does not exist (the file has " +
                                        std::to_string(h.slices) + ")");
    Array<complex64> k;
    if (impl_->file) {
        k = impl_->file->read_complex_items("/kspace", s, 1);
        k.reshape(Shape{h.coils, h.height, h.width});
    } else {
        k = Array<complex64>::copy_of(impl_->ismrmrd_kspace.view().item(s), Device::cpu);
    }
    check_values(k, h.path + ": k-space slice " + std::to_string(s));
    return k;
}

Array<float> ScanReader::file_mask() const {
    const ScanHeader& h = impl_->h;
    if (!impl_->file) return impl_->ismrmrd_mask.clone();
    if (!h.has_mask) return {};
    return expand_mask(impl_->file->read_float("/mask").view(), h.height, h.width, h.path + ": dataset /mask");
}

Array<complex64> ScanReader::noise_samples() const {
    return impl_->noise.empty() ? Array<complex64>() : impl_->noise.clone();
}

Array<complex64> ScanReader::truth_image() const {
    require(impl_->file && impl_->h.has_truth, impl_->h.path + ": no /lumen/truth/image (not a lumen simulation)");
    Array<complex64> x = impl_->file->read_complex("/lumen/truth/image", 3);
    require(x.shape() == Shape({impl_->h.slices, impl_->h.height, impl_->h.width}),
            impl_->h.path + ": /lumen/truth/image has shape " + x.shape().str() + "; expected (slices, H, W) like /kspace");
    return x;
}

Array<complex64> ScanReader::truth_sensitivities() const {
    require(impl_->file && impl_->h.has_truth, impl_->h.path + ": no /lumen/truth/sensitivities (not a lumen simulation)");
    Array<complex64> s = impl_->file->read_complex("/lumen/truth/sensitivities");
    const ScanHeader& h = impl_->h;
    require(s.shape() == Shape({h.coils, h.height, h.width}) || s.shape() == Shape({h.slices, h.coils, h.height, h.width}),
            h.path + ": /lumen/truth/sensitivities has shape " + s.shape().str() +
                "; expected (coils, H, W) or (slices, coils, H, W) matching /kspace");
    return s;
}

Array<float> ScanReader::reference() const {
    const ScanHeader& h = impl_->h;
    if (h.has_truth) return truth_target(truth_image().view(), truth_sensitivities().view(), h.recon_height, h.recon_width);
    if (!h.target.empty() && impl_->file) {
        Array<float> t = impl_->file->read_float(h.target, 3);
        require(t.dim(0) == h.slices, h.path + ": " + h.target + " has " + std::to_string(t.dim(0)) +
                                          " slices; expected " + std::to_string(h.slices) + " like /kspace");
        return t;
    }
    return {};
}

std::string ismrmrd_header_xml(index_t height, index_t width, index_t recon_height, index_t recon_width, index_t coils,
                               index_t slices, index_t first_column) {
    std::ostringstream x;
    // Field of view: 0.5 mm per reconstructed pixel, the readout oversampled as the matrix says.
    const double px = 0.5;
    x << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      << "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
      << "  <acquisitionSystemInformation><receiverChannels>" << coils
      << "</receiverChannels></acquisitionSystemInformation>\n"
      << "  <experimentalConditions><H1resonanceFrequency_Hz>127740000</H1resonanceFrequency_Hz></experimentalConditions>\n"
      << "  <encoding>\n"
      << "    <encodedSpace><matrixSize><x>" << height << "</x><y>" << width << "</y><z>1</z></matrixSize>"
      << "<fieldOfView_mm><x>" << px * double(height) << "</x><y>" << px * double(width) << "</y><z>3</z></fieldOfView_mm></encodedSpace>\n"
      << "    <reconSpace><matrixSize><x>" << recon_height << "</x><y>" << recon_width << "</y><z>1</z></matrixSize>"
      << "<fieldOfView_mm><x>" << px * double(recon_height) << "</x><y>" << px * double(recon_width)
      << "</y><z>3</z></fieldOfView_mm></reconSpace>\n"
      << "    <encodingLimits>\n"
      << "      <kspace_encoding_step_1><minimum>" << first_column << "</minimum><maximum>" << width - 1
      << "</maximum><center>" << width / 2
      << "</center></kspace_encoding_step_1>\n"
      << "      <kspace_encoding_step_2><minimum>0</minimum><maximum>0</maximum><center>0</center></kspace_encoding_step_2>\n"
      << "      <slice><minimum>0</minimum><maximum>" << slices - 1 << "</maximum><center>0</center></slice>\n"
      << "    </encodingLimits>\n"
      << "    <trajectory>cartesian</trajectory>\n"
      << "  </encoding>\n"
      << "</ismrmrdHeader>\n";
    return x.str();
}

void write_fastmri(const std::string& file, View<const complex64> kspace, const FastMriWriteOptions& o, bool single_coil) {
    require(kspace.rank() == 4, "write_fastmri: k-space must be [slices][coils][H][W], got " + kspace.shape().str());
    const index_t S = kspace.dim(0), C = kspace.dim(1), H = kspace.dim(2), W = kspace.dim(3);
    require(!single_coil || C == 1, "write_fastmri: single-coil output needs one coil, got " + std::to_string(C));
    const index_t rh = o.recon_height > 0 ? o.recon_height : std::min<index_t>(320, H);
    const index_t rw = o.recon_width > 0 ? o.recon_width : std::min<index_t>(320, W);
    io::H5Writer out(file);
    out.write("/kspace", single_coil ? kspace.reshaped(Shape{S, H, W}) : kspace);
    out.write_string("/ismrmrd_header", ismrmrd_header_xml(H, W, rh, rw, C, S, o.first_column));
    if (!o.mask.empty()) {
        // Stored as uint8 0/1 like fastMRI's boolean masks ((W,) when every row is the same).
        const Array<float> m = Array<float>::copy_of(o.mask, Device::cpu);
        bool rows_equal = m.rank() == 2;
        if (m.rank() == 2)
            for (index_t y = 1; y < m.dim(0) && rows_equal; ++y)
                for (index_t x = 0; x < m.dim(1); ++x)
                    if (m[y * m.dim(1) + x] != m[x]) {
                        rows_equal = false;
                        break;
                    }
        const Shape s = m.rank() == 1 ? m.shape() : (rows_equal ? Shape{m.dim(1)} : m.shape());
        Array<std::uint8_t> u(s);
        for (index_t i = 0; i < u.size(); ++i) u[i] = m[i] != 0.0f ? 1 : 0;
        out.write("/mask", u);
    }
    if (!o.reconstruction_rss.empty()) {
        out.write(single_coil ? "/reconstruction_esc" : "/reconstruction_rss", o.reconstruction_rss);
        const Array<float> t = Array<float>::copy_of(o.reconstruction_rss, Device::cpu);
        out.set_attr("/", "max", max_abs(t.view()));
        out.set_attr("/", "norm", norm2(t.view()));
    }
    if (!o.truth_image.empty()) out.write("/lumen/truth/image", o.truth_image);
    if (!o.truth_sensitivities.empty()) out.write("/lumen/truth/sensitivities", o.truth_sensitivities);
    out.set_attr("/", "acquisition", o.acquisition);
    out.set_attr("/", "patient_id", std::string("lumen-simulation"));
    out.commit();
}

void write_ismrmrd(const std::string& file, View<const complex64> kspace, const IsmrmrdWriteOptions& o) {
    require(kspace.rank() == 4, "write_ismrmrd: k-space must be [slices][coils][H][W], got " + kspace.shape().str());
    const index_t S = kspace.dim(0), C = kspace.dim(1), H = kspace.dim(2), W = kspace.dim(3);
    require(H <= 65535 && C <= 65535, "write_ismrmrd: readouts and channels are limited to 65535 by the format");
    require(o.noise.empty() || (o.noise.rank() == 2 && o.noise.dim(0) == C),
            "write_ismrmrd: the noise pre-scan must be [coils][samples] with " + std::to_string(C) + " coils, got " +
                o.noise.shape().str());
    const Array<complex64> k = Array<complex64>::copy_of(kspace, Device::cpu);
    Array<float> m;
    if (!o.mask.empty()) m = expand_mask(o.mask, H, W, "write_ismrmrd: mask");
    const index_t rh = o.recon_height > 0 ? o.recon_height : std::min<index_t>(320, H);
    const index_t rw = o.recon_width > 0 ? o.recon_width : std::min<index_t>(320, W);
    // The lines written per slice, so that the first and last of each carry the loop flags.
    std::vector<index_t> lines;
    for (index_t ky = 0; ky < W; ++ky)
        if (m.empty() || m[(H / 2) * W + ky] != 0.0f) lines.push_back(ky);
    require(!lines.empty(), "write_ismrmrd: the mask selects no phase-encode line");
    // libismrmrd appends to an existing file, so it writes a fresh file staged in a private
    // directory (lumen/io/output.hpp), renamed into place only when complete.
    io::OutputSet outputs;
    const std::string tmp = outputs.stage(file);
    try {
        {
            ISMRMRD::Dataset d(tmp.c_str(), "dataset", true);
            d.writeHeader(ismrmrd_header_xml(H, W, rh, rw, C, S, o.first_column));
            std::uint32_t counter = 0;
            if (!o.noise.empty()) {
                const Array<complex64> nz = Array<complex64>::copy_of(o.noise, Device::cpu);
                const index_t total = nz.dim(1);
                for (index_t at = 0; at < total; at += H) {
                    const index_t ns = std::min(H, total - at);
                    ISMRMRD::Acquisition a{std::uint16_t(ns), std::uint16_t(C)};
                    a.setFlag(ISMRMRD::ISMRMRD_ACQ_IS_NOISE_MEASUREMENT);
                    a.scan_counter() = counter++;
                    a.sample_time_us() = o.noise_dwell_us;
                    for (index_t c = 0; c < C; ++c)
                        for (index_t r = 0; r < ns; ++r) {
                            const complex64 v = nz[c * total + at + r];
                            a.data(std::uint16_t(r), std::uint16_t(c)) = complex_float_t(v.re, v.im);
                        }
                    d.appendAcquisition(a);
                }
            }
            ISMRMRD::Acquisition a{std::uint16_t(H), std::uint16_t(C)};
            for (index_t s = 0; s < S; ++s)
                for (std::size_t li = 0; li < lines.size(); ++li) {
                    const index_t ky = lines[li];
                    a.clearAllFlags();
                    a.scan_counter() = counter++;
                    a.sample_time_us() = o.dwell_us;
                    a.idx().kspace_encode_step_1 = std::uint16_t(ky);
                    a.idx().slice = std::uint16_t(s);
                    a.center_sample() = std::uint16_t(H / 2);
                    if (li == 0) a.setFlag(ISMRMRD::ISMRMRD_ACQ_FIRST_IN_SLICE);
                    if (li + 1 == lines.size()) a.setFlag(ISMRMRD::ISMRMRD_ACQ_LAST_IN_SLICE);
                    if (li + 1 == lines.size() && s + 1 == S) a.setFlag(ISMRMRD::ISMRMRD_ACQ_LAST_IN_MEASUREMENT);
                    // A reversed readout stores its samples in acquisition order, +kx first; its
                    // center_sample counts in that order too (H/2 of the flipped line is H-1-H/2).
                    const bool reverse = o.reverse_odd_lines && ky % 2 == 1;
                    if (reverse) {
                        a.setFlag(ISMRMRD::ISMRMRD_ACQ_IS_REVERSE);
                        a.center_sample() = std::uint16_t(H - 1 - H / 2);
                    }
                    for (index_t c = 0; c < C; ++c)
                        for (index_t r = 0; r < H; ++r) {
                            const complex64 v = k[((s * C + c) * H + (reverse ? H - 1 - r : r)) * W + ky];
                            a.data(std::uint16_t(r), std::uint16_t(c)) = complex_float_t(v.re, v.im);
                        }
                    d.appendAcquisition(a);
                }
        }
        outputs.finished(tmp);
        outputs.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorCode::bad_input, file + ": cannot write the ISMRMRD dataset: " + e.what());
    }
}

void write_reconstruction(io::OutputSet& outputs, const std::string& path, View<const float> volume,
                          const SolverResult& history, View<const std::int64_t> history_slice, View<const float> mask,
                          const ReconstructionAttributes& a) {
    io::require_finite(volume, path + ": the reconstructed /reconstruction");
    io::H5Writer out(outputs, path);
    out.write("/reconstruction", volume);
    write_history(out, history, "/history");
    out.write("/history/slice", history_slice);
    const Array<float> m = Array<float>::copy_of(mask, Device::cpu);
    Array<std::uint8_t> mask_u8(m.shape());
    for (index_t i = 0; i < mask_u8.size(); ++i) mask_u8[i] = m[i] != 0.0f ? 1 : 0;
    out.write("/mask", mask_u8);
    out.set_attr("/", "method", a.method);
    out.set_attr("/", "lambda", a.lambda);
    out.set_attr("/", "iterations", a.iterations);
    out.set_attr("/", "maps", a.maps);
    out.set_attr("/", "mask_source", a.mask_source);
    if (a.undersampled) {
        out.set_attr("/", "mask_kind", a.mask_kind);
        out.set_attr("/", "mask_seed", a.mask_seed);
        out.set_attr("/", "requested_acceleration", a.requested_acceleration);
    }
    out.set_attr("/", "acceleration", a.acceleration);
    out.set_attr("/", "espirit_kernel", std::int64_t(a.espirit.kernel));
    out.set_attr("/", "espirit_calibration", std::int64_t(a.espirit.calibration));
    out.set_attr("/", "espirit_threshold", a.espirit.threshold);
    out.set_attr("/", "espirit_crop", a.espirit.crop);
    out.set_attr("/", "device", a.device);
    out.set_attr("/", "ranks", a.ranks);
    out.set_attr("/", "prewhitened", std::int64_t(a.prewhitened ? 1 : 0));
    out.set_attr("/", "partial_fourier", a.partial_fourier);
    out.set_attr("/", "noise_variance", a.noise_variance);
    out.set_attr("/", "noise_source", a.noise_source);
    if (!a.stopping.empty()) out.set_attr("/", "stopping", a.stopping);
    if (a.discrepancy_tau > 0.0) out.set_attr("/", "discrepancy_tau", a.discrepancy_tau);
    if (!a.cycle_spinning.empty()) out.set_attr("/", "cycle_spinning", a.cycle_spinning);
    if (!a.slice_stop_reasons.empty()) out.set_attr("/history", "slice_stop_reasons", a.slice_stop_reasons);
    if (a.residual >= 0.0) out.set_attr("/", "noise_normalised_residual", a.residual);
    out.set_attr("/", "input", a.input);
    out.set_attr("/", "lumen_version", std::string(LUMEN_VERSION));
    if (std::isfinite(a.quality.nmse)) out.set_attr("/", "nmse", a.quality.nmse);
    if (std::isfinite(a.quality.psnr_db)) out.set_attr("/", "psnr", a.quality.psnr_db);
    if (std::isfinite(a.quality.ssim)) out.set_attr("/", "ssim", a.quality.ssim);
    out.commit();
}

namespace {
std::string slice_png(const std::string& stem, index_t s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "_s%03ld.png", long(s));
    return stem + buf;
}
}  // namespace

std::vector<std::string> write_previews(io::OutputSet& outputs, const std::string& prefix, View<const float> volume,
                                        View<const float> reference) {
    require(volume.rank() == 3, "write_previews: expected a volume [slices][h][w], got " + volume.shape().str());
    const Array<float> vol = Array<float>::copy_of(volume, Device::cpu);
    const Array<float> ref = reference.empty() ? Array<float>() : Array<float>::copy_of(reference, Device::cpu);
    const double top = max_abs((ref.empty() ? vol : ref).view());
    const index_t S = vol.dim(0);
    std::vector<std::string> written;
    for (index_t s = 0; s < S; ++s) {
        const std::string p = slice_png(prefix, s);
        io::write_png(outputs, p, vol.view().item(s), 0.0f, float(top));
        written.push_back(p);
        if (!ref.empty()) {
            const std::string q = slice_png(prefix + "_reference", s);
            io::write_png(outputs, q, ref.view().item(s), 0.0f, float(top));
            written.push_back(q);
        }
    }
    return written;
}

void write_maps(io::OutputSet& outputs, const std::string& path, View<const complex64> maps,
                View<const float> eigenvalues, const EspiritOptions& e, const CalibrationBox& box,
                const std::string& input) {
    io::require_finite(maps, path + ": the estimated /sensitivities");
    io::require_finite(eigenvalues, path + ": the /eigenvalues");
    io::H5Writer out(outputs, path);
    out.write("/sensitivities", maps);
    out.write("/eigenvalues", eigenvalues);
    out.set_attr("/", "kernel", std::int64_t(e.kernel));
    out.set_attr("/", "calibration", std::int64_t(e.calibration));
    out.set_attr("/", "threshold", e.threshold);
    out.set_attr("/", "crop", e.crop);
    out.set_attr("/", "calibration_rows", std::int64_t(box.rows));
    out.set_attr("/", "calibration_cols", std::int64_t(box.cols));
    out.set_attr("/", "input", input);
    out.set_attr("/", "lumen_version", std::string(LUMEN_VERSION));
    out.commit();
}

OutputFileInfo describe_output(const std::string& path) {
    const io::H5File f = io::H5File::open(path);
    OutputFileInfo d;
    std::vector<const char*> text, numbers;
    if (f.exists("/reconstruction")) {
        d.kind = "reconstruction";
        d.dataset = "/reconstruction";
        text = {"method", "maps", "mask_source", "mask_kind", "device", "partial_fourier", "noise_source", "stopping",
                "cycle_spinning", "input", "lumen_version"};
        numbers = {"lambda", "iterations", "acceleration", "requested_acceleration", "noise_variance", "discrepancy_tau",
                   "noise_normalised_residual", "nmse", "psnr", "ssim", "ranks"};
    } else if (f.exists("/sensitivities")) {
        d.kind = "maps";
        d.dataset = "/sensitivities";
        text = {"input", "lumen_version"};
        numbers = {"kernel", "calibration", "threshold", "crop", "calibration_rows", "calibration_cols"};
    } else {
        return d;
    }
    d.shape = f.info(d.dataset).shape;
    for (const char* name : text)
        if (f.has_attr("/", name)) d.text.emplace_back(name, f.attr_string("/", name));
    for (const char* name : numbers)
        if (f.has_attr("/", name)) d.numbers.emplace_back(name, f.attr_double("/", name));
    return d;
}

}  // namespace lumen::mri
