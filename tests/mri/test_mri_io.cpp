// fastMRI and ISMRMRD files: round trips through the writers, the header's recon size and
// padding, and every bad-input case the reader must reject with Error(bad_input).
#include <cmath>
#include <functional>
#include <limits>

#include "lumen/io/hdf5.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/run.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

SimulatedScan small(index_t coils = 4, index_t slices = 2) {
    SimulationOptions o;
    o.height = 64;
    o.width = 48;
    o.coils = coils;
    o.slices = slices;
    return simulate(o);
}

void write_sim(const std::string& path, const SimulatedScan& s, View<const float> mask = {}) {
    FastMriWriteOptions wo;
    wo.mask = mask;
    wo.truth_image = s.image.view();
    wo.truth_sensitivities = s.sensitivities.view();
    wo.reconstruction_rss = s.rss.view();
    wo.recon_height = s.recon_height;
    wo.recon_width = s.recon_width;
    write_fastmri(path, s.kspace.view(), wo, s.kspace.dim(1) == 1);
}

ErrorCode open_and_read_error(const std::string& path) {
    try {
        const ScanReader r = ScanReader::open(path);
        for (index_t s = 0; s < r.header().slices; ++s) (void)r.read_slice(s);
        (void)r.file_mask();
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::internal;
}

}  // namespace

TEST(MriIo, FastMriRoundTripWithHeaderAndTruth) {
    const SimulatedScan s = small();
    const std::string p = test::temp_path("sim.h5");
    Array<float> cols = random_column_mask(48, 4.0, 0.08, 1);
    write_sim(p, s, cols.view());
    const ScanReader r = ScanReader::open(p);
    const ScanHeader& h = r.header();
    EXPECT_EQ(h.format, "fastmri");
    EXPECT_EQ(h.slices, 2);
    EXPECT_EQ(h.coils, 4);
    EXPECT_EQ(h.height, 64);
    EXPECT_EQ(h.width, 48);
    EXPECT_EQ(h.recon_height, 32);
    EXPECT_EQ(h.recon_width, 32);
    EXPECT_TRUE(h.has_xml_header && h.has_mask && h.has_truth);
    EXPECT_EQ(h.first_column, 0);
    EXPECT_EQ(h.last_column, 48);
    const Array<complex64> k1 = r.read_slice(1);
    EXPECT_EQ(test::max_rel_diff(k1.view(), s.kspace.view().item(1)), 0.0);
    const Array<float> m = r.file_mask();
    for (index_t x = 0; x < 48; ++x) EXPECT_EQ(m[10 * 48 + x], cols[x]);
    const Array<float> ref = r.reference();
    EXPECT_LT(nrmse(s.target.view(), ref.view()), 1e-6);
}

TEST(MriIo, SingleCoilLayout) {
    const SimulatedScan s = small(1, 1);
    const std::string p = test::temp_path("sc.h5");
    write_sim(p, s);
    const io::H5File f = io::H5File::open(p);
    EXPECT_EQ(f.info("/kspace").shape.rank(), 3);
    EXPECT_TRUE(f.exists("/reconstruction_esc"));
    const ScanReader r = ScanReader::open(p);
    EXPECT_TRUE(r.header().single_coil);
    EXPECT_EQ(r.read_slice(0).shape(), Shape({1, 64, 48}));
}

TEST(MriIo, HeaderPaddingLimitsTheAcquiredColumns) {
    // fastMRI: padding_left = enc_y // 2 - center, padding_right = padding_left + maximum + 1.
    const SimulatedScan s = small(2, 1);
    const std::string p = test::temp_path("pad.h5");
    {
        io::H5Writer w(p);
        w.write("/kspace", s.kspace.view());
        std::string xml = ismrmrd_header_xml(64, 48, 32, 30, 2, 1);
        const auto replace = [&](const std::string& from, const std::string& to) {
            xml.replace(xml.find(from), from.size(), to);
        };
        replace("<maximum>47</maximum><center>24</center>", "<maximum>39</maximum><center>20</center>");
        w.write_string("/ismrmrd_header", xml);
        w.commit();
    }
    const ScanReader r = ScanReader::open(p);
    EXPECT_EQ(r.header().first_column, 4);
    EXPECT_EQ(r.header().last_column, 44);
    EXPECT_EQ(r.header().recon_width, 30);
}

TEST(MriIo, IsmrmrdRoundTripKeepsTheAcquiredLines) {
    const SimulatedScan s = small(3, 2);
    const std::string p = test::temp_path("scan.mrd.h5");
    const Array<float> mask = make_mask(MaskSpec{MaskKind::equispaced, 4.0, 0.125, 24, 2}, 64, 48);
    Array<complex64> k = s.kspace.clone();
    for (index_t sl = 0; sl < 2; ++sl) {
        View<complex64> v = k.view().item(sl);
        apply_mask(v, mask.view(), v);
    }
    write_ismrmrd(p, k.view(), mask.view(), 32, 32);
    const ScanReader r = ScanReader::open(p);
    const ScanHeader& h = r.header();
    EXPECT_EQ(h.format, "ismrmrd");
    EXPECT_EQ(h.slices, 2);
    EXPECT_EQ(h.coils, 3);
    EXPECT_EQ(h.recon_height, 32);
    EXPECT_EQ(test::max_rel_diff(r.read_slice(1), k.view().item(1)), 0.0);
    const Array<float> m = r.file_mask();
    for (index_t i = 0; i < m.size(); ++i) EXPECT_EQ(m[i], mask[i]);
}

TEST(MriIo, BadInputsAreRejected) {
    const SimulatedScan s = small(2, 1);
    const std::string dir = test::temp_dir();
    auto file = [&](const std::string& name, const std::function<void(io::H5Writer&)>& fill_file) {
        const std::string p = dir + "/" + name;
        io::H5Writer w(p);
        fill_file(w);
        w.commit();
        return p;
    };
    // No /kspace at all.
    EXPECT_EQ(open_and_read_error(file("nokspace.h5", [](io::H5Writer& w) { w.write_scalar("/x", 1.0); })),
              ErrorCode::bad_input);
    // Real instead of complex.
    EXPECT_EQ(open_and_read_error(file("real.h5", [](io::H5Writer& w) {
                  w.write("/kspace", Array<float>(Shape{1, 2, 8, 8}).view());
              })),
              ErrorCode::bad_input);
    // Wrong rank.
    EXPECT_EQ(open_and_read_error(file("rank2.h5", [](io::H5Writer& w) {
                  w.write("/kspace", Array<complex64>(Shape{8, 8}));
              })),
              ErrorCode::bad_input);
    // All-zero k-space.
    EXPECT_EQ(open_and_read_error(file("zeros.h5", [](io::H5Writer& w) {
                  w.write("/kspace", Array<complex64>(Shape{1, 2, 8, 8}));
              })),
              ErrorCode::bad_input);
    // NaN.
    EXPECT_EQ(open_and_read_error(file("nan.h5", [&](io::H5Writer& w) {
                  Array<complex64> k = s.kspace.clone();
                  k[5] = complex64(std::numeric_limits<float>::quiet_NaN(), 0.0f);
                  w.write("/kspace", k.view());
              })),
              ErrorCode::bad_input);
    // A mask that does not match the k-space width.
    EXPECT_EQ(open_and_read_error(file("mask.h5", [&](io::H5Writer& w) {
                  w.write("/kspace", s.kspace.view());
                  w.write("/mask", Array<float>(Shape{47}).view());
              })),
              ErrorCode::bad_input);
    // Broken XML header.
    EXPECT_EQ(open_and_read_error(file("xml.h5", [&](io::H5Writer& w) {
                  w.write("/kspace", s.kspace.view());
                  w.write_string("/ismrmrd_header", "<ismrmrdHeader><encoding>");
              })),
              ErrorCode::bad_input);
    // Not HDF5.
    EXPECT_EQ(open_and_read_error(dir + "/missing.h5"), ErrorCode::bad_input);
}

TEST(MriIo, RunReconWritesTheDesignLayout) {
    const SimulatedScan s = small(4, 2);
    const std::string in = test::temp_path("in.h5"), out = test::temp_path("out.h5");
    write_sim(in, s);
    RunOptions o;
    o.input = in;
    o.output = out;
    o.recon.method = Method::cg_sense;
    o.recon.iterations = 10;
    o.recon.stop = Stop::iterations;  // the history holds exactly 10 per slice
    o.undersample = true;
    o.mask = MaskSpec{MaskKind::poisson, 3.0, 0.0, 16, 1};
    const RunSummary sum = run_recon(o);
    EXPECT_EQ(sum.mask_source, "generated");
    EXPECT_NEAR(sum.acceleration, 3.0, 0.1);
    ASSERT_TRUE(sum.quality.measured());
    EXPECT_GT(sum.quality.ssim, 0.8);
    const io::H5File f = io::H5File::open(out);
    EXPECT_EQ(f.info("/reconstruction").shape, Shape({2, 32, 32}));
    EXPECT_EQ(f.info("/reconstruction").dtype, "float32");
    EXPECT_EQ(f.info("/history/objective").shape, Shape({20}));
    EXPECT_EQ(f.attr_string("/", "method"), "cg-sense");
    EXPECT_NEAR(f.attr_double("/", "ssim"), sum.quality.ssim, 1e-12);
    o.output = in;  // never overwrite the input
    EXPECT_THROW(run_recon(o), Error);
}
