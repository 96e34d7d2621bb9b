// CXI reading and writing for ptychographic scans (include/lumen/ptycho/io.hpp).
#include "lumen/ptycho/io.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/version.hpp"
#include "src/text.hpp"

namespace lumen::ptycho {

namespace {
using detail::num;
}  // namespace

Propagation parse_propagation(const std::string& text) {
    if (text == "far" || text == "far-field") return Propagation::far_field;
    if (text == "near" || text == "near-field" || text == "fresnel") return Propagation::near_field;
    if (text == "file" || text == "auto") return Propagation::from_file;
    invalid_option("RunOptions.propagation", "unknown propagation '" + text + "' (expected far, near or file)");
}

namespace {

double positive_scalar(const io::H5File& f, const std::string& ds, const char* what) {
    require(f.exists(ds), f.path() + ": dataset " + ds + " (" + what + ") is missing; lumen needs it to convert " +
                              "positions from metres to pixels");
    const double v = f.read_scalar(ds);
    require(std::isfinite(v) && v > 0, f.path() + ": dataset " + ds + " (" + what + ") is " + num(v) +
                                           ", expected a positive number");
    return v;
}

// Translations as [J][3] (x, y, z) whether stored (J, 3) or (3, J).
Array<float> read_translations(const io::H5File& f, index_t frames) {
    const std::string ds = cxi::translation;
    require(f.exists(ds), f.path() + ": dataset " + ds + " (scan positions in metres) is missing");
    Array<float> t = f.read_float(ds, 2);
    const index_t a = t.dim(0), b = t.dim(1);
    if (b == 3 && a == frames) return t;
    if (a == 3 && b == frames) {
        Array<float> out(Shape{frames, 3});
        for (index_t j = 0; j < frames; ++j)
            for (index_t k = 0; k < 3; ++k) out[3 * j + k] = t[k * frames + j];
        return out;
    }
    throw Error(ErrorCode::bad_input, f.path() + ": dataset " + ds + " has shape " + t.shape().str() + ", expected (" +
                                          std::to_string(frames) + ", 3) or (3, " + std::to_string(frames) +
                                          ") for the " + std::to_string(frames) + " frames of " + cxi::data);
}

// How the stored frames sit relative to lumen's frame (rows along +y, columns along +x), from the
// detector's basis vectors.
struct FrameTurn {
    bool transpose = false;  // stored rows run along x
    bool flip_rows = false;  // (after transposing) rows run along -y
    bool flip_cols = false;  // columns run along -x
    bool any() const { return transpose || flip_rows || flip_cols; }
};

FrameTurn read_basis(const io::H5File& f, index_t frames) {
    const std::string ds = cxi::basis_vectors;
    FrameTurn turn;
    if (!f.exists(ds)) return turn;
    const Array<float> b = f.read_float(ds);
    const Shape sh = b.shape();
    // Index of component c (0 x, 1 y, 2 z) of vector v (0 slow, 1 fast) in the first frame's block.
    bool columns = false;
    if (sh == Shape({2, 3}) || (sh.rank() == 3 && sh[1] == 2 && sh[2] == 3)) {
        columns = false;
    } else if (sh == Shape({3, 2}) || (sh.rank() == 3 && sh[1] == 3 && sh[2] == 2)) {
        columns = true;
    } else {
        throw Error(ErrorCode::bad_input, f.path() + ": dataset " + ds + " has shape " + sh.str() +
                                              ", expected (2, 3) (a row per detector axis: slow, fast; x, y, z "
                                              "components), (3, 2), or one of those per frame");
    }
    if (sh.rank() == 3) {
        require(sh[0] == frames, f.path() + ": dataset " + ds + " has " + std::to_string(sh[0]) +
                                     " blocks of basis vectors for " + std::to_string(frames) + " frames");
        // lumen turns all frames alike: the detector must not move during the scan.
        for (index_t j = 1; j < sh[0]; ++j)
            for (index_t k = 0; k < 6; ++k)
                require(std::fabs(b[j * 6 + k] - b[k]) <= 1e-6f * (std::fabs(b[k]) + 1e-12f),
                        f.path() + ": dataset " + ds + " changes between frame 0 and frame " + std::to_string(j) +
                            "; lumen needs one detector orientation for the whole scan");
    }
    auto at = [&](int v, int c) { return double(columns ? b[c * 2 + v] : b[v * 3 + c]); };
    // Each axis must point along +-x or +-y: lumen turns frames by flips and transposes only.
    int along[2];
    double sign[2];
    for (int v = 0; v < 2; ++v) {
        const double x = at(v, 0), y = at(v, 1), z = at(v, 2);
        const double len = std::sqrt(x * x + y * y + z * z);
        require(len > 0 && std::isfinite(len), f.path() + ": dataset " + ds + ": the " + (v ? "fast" : "slow") +
                                                   " axis vector is zero or not finite");
        const int c = std::fabs(x) >= std::fabs(y) ? 0 : 1;
        const double off = std::sqrt(len * len - (c ? y * y : x * x));
        if (off > 1e-3 * len)
            throw Error(ErrorCode::bad_input,
                        f.path() + ": dataset " + ds + ": the " + (v ? "fast" : "slow") + " detector axis (" + num(x) +
                            ", " + num(y) + ", " + num(z) + ") is not along x or y; lumen handles detectors whose "
                            "axes are flipped or swapped, not rotated or tilted");
        along[v] = c;
        sign[v] = (c ? y : x) > 0 ? 1.0 : -1.0;
    }
    require(along[0] != along[1], f.path() + ": dataset " + ds + ": both detector axes point along " +
                                      (along[0] ? "y" : "x"));
    turn.transpose = along[0] == 0;  // the slow axis (stored rows) runs along x
    // After a transpose the new rows are the stored fast axis.
    turn.flip_rows = (turn.transpose ? sign[1] : sign[0]) < 0;
    turn.flip_cols = (turn.transpose ? sign[0] : sign[1]) < 0;
    return turn;
}

// Frames [J][a][b] stored with `turn` -> lumen's orientation.
Array<float> turn_frames(const Array<float>& in, const FrameTurn& t) {
    const index_t J = in.rank() == 3 ? in.dim(0) : 1, a = in.dim(in.rank() - 2), b = in.dim(in.rank() - 1);
    const index_t ny = t.transpose ? b : a, nx = t.transpose ? a : b;
    Array<float> out(in.rank() == 3 ? Shape{J, ny, nx} : Shape{ny, nx});
    for (index_t j = 0; j < J; ++j)
        for (index_t r = 0; r < ny; ++r)
            for (index_t c = 0; c < nx; ++c) {
                const index_t rr = t.flip_rows ? ny - 1 - r : r, cc = t.flip_cols ? nx - 1 - c : c;
                const index_t src = t.transpose ? cc * b + rr : rr * b + cc;
                out[(j * ny + r) * nx + c] = in[j * a * b + src];
            }
    return out;
}

}  // namespace

Scan read_cxi(const std::string& path, Propagation propagation, const Communicator& ranks) {
    const io::H5File f = io::H5File::open(path);
    Scan s;
    if (propagation == Propagation::from_file && f.exists(cxi::propagation))
        s.near_field = f.read_string(cxi::propagation) == "near";
    else
        s.near_field = propagation == Propagation::near_field;
    require(f.exists(cxi::data), path + ": dataset " + std::string(cxi::data) +
                                     " (diffraction intensities, (N, ny, nx)) is missing; is this a CXI file?");
    // Distributed (docs/scaling.md): this rank's block of the frames only, read as a hyperslab.
    index_t J = 0;
    if (ranks.distributed()) {
        const Shape stored = f.info(cxi::data).shape;
        require(stored.rank() == 3, path + ": dataset " + std::string(cxi::data) + " has shape " + stored.str() +
                                        ", expected (N, ny, nx)");
        J = stored[0];
        require(J >= ranks.size(), path + ": " + std::to_string(J) + " frames cannot be split over " +
                                       std::to_string(ranks.size()) + " ranks; run on at most " + std::to_string(J));
        const RankBlock mine = block_of(J, ranks.rank(), ranks.size());
        s.intensities = f.read_float_items(cxi::data, mine.begin, mine.size());
        s.first_frame = mine.begin;
    } else {
        s.intensities = f.read_float(cxi::data, 3);
        J = s.intensities.dim(0);
    }
    const FrameTurn turn = read_basis(f, J);
    if (turn.any()) s.intensities = turn_frames(s.intensities, turn);
    const index_t ny = s.intensities.dim(1), nx = s.intensities.dim(2);
    require(J >= 1 && ny >= 2 && nx >= 2, path + ": dataset " + std::string(cxi::data) + " has shape " +
                                              s.intensities.shape().str() + ", expected at least one frame of 2x2");
    for (index_t i = 0; i < s.intensities.size(); ++i) {
        const float v = s.intensities[i];
        if (!std::isfinite(v) || v < 0) {
            const index_t m = ny * nx, r = i % m;
            throw Error(ErrorCode::bad_input,
                        path + ": dataset " + std::string(cxi::data) + " holds " + num(v) + " at frame " +
                            std::to_string(s.first_frame + i / m) + ", pixel (" + std::to_string(r / nx) + ", " + std::to_string(r % nx) +
                            "); intensities must be finite and non-negative");
        }
    }
    {
        double total = 0;
        for (const float v : s.intensities) total += v;
        total = ranks.sum(total);  // every rank's frames (distributed runs)
        require(total > 0, path + ": dataset " + std::string(cxi::data) +
                               " is all zero: no photons were recorded, nothing can be reconstructed");
    }
    Geometry& g = s.geometry;
    g.distance_m = positive_scalar(f, cxi::distance, "detector distance in metres");
    g.pixel_x_m = positive_scalar(f, cxi::x_pixel_size, "detector pixel width in metres");
    g.pixel_y_m = positive_scalar(f, cxi::y_pixel_size, "detector pixel height in metres");
    if (f.exists(cxi::energy)) {
        g.energy_j = positive_scalar(f, cxi::energy, "photon energy in joules");
    } else {
        require(f.exists(cxi::wavelength), path + ": neither " + std::string(cxi::energy) + " (photon energy, J) nor " +
                                               cxi::wavelength + " (m) is present; lumen needs one of them");
        g.energy_j = Geometry::joules_from_wavelength(positive_scalar(f, cxi::wavelength, "wavelength in metres"));
    }
    const Array<float> t = read_translations(f, J);
    for (index_t i = 0; i < t.size(); ++i)
        if (!std::isfinite(t[i]))
            require(false, path + ": dataset " + std::string(cxi::translation) + " holds a non-finite value at " +
                                         "frame " + std::to_string(i / 3));
    s.positions = positions_from_translations(t, g, Shape{ny, nx});
    if (s.near_field) {
        // The object pixel is the detector pixel: rescale from the far-field pixel used above.
        const double sy = g.object_pixel_y_m(ny) / g.pixel_y_m, sx = g.object_pixel_x_m(nx) / g.pixel_x_m;
        for (index_t j = 0; j < J; ++j) {
            s.positions[2 * j] = float(double(s.positions[2 * j]) * sy);
            s.positions[2 * j + 1] = float(double(s.positions[2 * j + 1]) * sx);
        }
    }
    // Far translations (a wrong unit) would give an object of absurd size; name the dataset
    // here rather than let object_shape_for report positions in pixels.
    for (index_t i = 0; i < s.positions.size(); ++i)
        require(s.positions[i] < 1e7f, path + ": dataset " + std::string(cxi::translation) + " spans " +
                                           num(double(s.positions[i])) + " object pixels at frame " +
                                           std::to_string(i / 2) + "; check the translation units (metres) "
                                           "and the geometry");
    s.object_shape = object_shape_for(s.positions, Shape{ny, nx});
    require(double(s.object_shape[0]) * double(s.object_shape[1]) < 4.0e9,
            path + ": the scan spans an object of " + s.object_shape.str() +
                " pixels; check the translation units (metres) and the geometry");
    // A reconstruction holds the object with its gradient, momentum and illumination (about six
    // complex64 images) and the data with a model of it and exit waves of a batch.
    io::require_memory(6.0 * 8.0 * double(s.object_shape[0]) * double(s.object_shape[1]) +
                           3.0 * 4.0 * double(s.intensities.size()),
                       path + ": an object of " + s.object_shape.str() + " pixels (from " + cxi::translation +
                           ") with " + cxi::data + " " + s.intensities.shape().str());

    if (f.exists(cxi::mask)) {
        const Array<std::int64_t> bits = f.read_int(cxi::mask);
        // The mask is stored like a frame: (rows, columns) before any turn.
        const Shape stored = turn.transpose ? Shape{nx, ny} : Shape{ny, nx};
        require(bits.shape() == stored, path + ": dataset " + std::string(cxi::mask) + " has shape " +
                                            bits.shape().str() + ", expected " + stored.str() + " like one frame");
        s.mask = Array<float>(stored);
        index_t good = 0;
        for (index_t i = 0; i < bits.size(); ++i) {
            // CXI: a pixel is bad when a bit that says so is set; the other bits are information.
            const bool ok = (bits[i] & cxi::mask_bad_bits) == 0;
            s.mask[i] = ok ? 1.0f : 0.0f;
            good += ok;
        }
        if (turn.any()) s.mask = turn_frames(s.mask, turn);
        require(good > 0, path + ": dataset " + std::string(cxi::mask) + " marks every pixel bad (bits " +
                              num(double(cxi::mask_bad_bits)) + " = invalid, saturated, hot, dead, shadowed, ignored, "
                              "bad, missing, noisy)");
    }
    if (f.exists(cxi::illumination)) {
        s.probe = f.read_complex(cxi::illumination);
        require(s.probe.shape() == Shape({ny, nx}), path + ": dataset " + std::string(cxi::illumination) +
                                                        " has shape " + s.probe.shape().str() + ", expected (" +
                                                        std::to_string(ny) + ", " + std::to_string(nx) + ")");
        // A zero probe illuminates nothing: every gradient is zero and the object would be
        // returned unchanged from its start, with exit 0.
        double energy = 0;
        for (const complex64& v : s.probe) {
            require(std::isfinite(v.re) && std::isfinite(v.im),
                    path + ": dataset " + std::string(cxi::illumination) + " holds non-finite values");
            energy += double(v.re) * v.re + double(v.im) * v.im;
        }
        require(energy > 0, path + ": dataset " + std::string(cxi::illumination) +
                                " is all zero; a probe must illuminate something (omit it to estimate one)");
    }
    if (f.exists(cxi::truth_object)) {
        s.true_object = f.read_complex(cxi::truth_object, 2);
        require(s.true_object.shape() == s.object_shape,
                path + ": dataset " + std::string(cxi::truth_object) + " has shape " + s.true_object.shape().str() +
                    " but the scan's positions span an object of " + s.object_shape.str());
        if (f.exists(cxi::truth_probe)) s.true_probe = f.read_complex(cxi::truth_probe, 2);
        if (f.exists(cxi::truth_positions)) s.true_positions = f.read_float(cxi::truth_positions, 2);
        if (f.exists(cxi::truth_slices)) {
            s.true_slices = f.read_complex(cxi::truth_slices, 3);
            require(s.true_slices.shape().drop_front() == s.object_shape,
                    path + ": dataset " + std::string(cxi::truth_slices) + " has shape " + s.true_slices.shape().str() +
                        " but the scan's positions span an object of " + s.object_shape.str());
        }
    }
    if (f.exists(cxi::slice_distance)) {
        s.slice_distance_m = f.read_scalar(cxi::slice_distance);
        require(std::isfinite(s.slice_distance_m) && s.slice_distance_m > 0,
                path + ": dataset " + std::string(cxi::slice_distance) + " is " + std::to_string(s.slice_distance_m) +
                    "; a slice distance must be finite and > 0 metres");
    }
    return s;
}

void write_cxi(const std::string& path, const Scan& s) {
    require(!s.intensities.empty() && s.intensities.rank() == 3, "ptycho::write_cxi: the scan has no intensities");
    require(s.geometry.valid(), "ptycho::write_cxi: the scan's geometry must be set (energy, distance, pixel sizes)");
    require(!s.partial(), "ptycho::write_cxi: the scan holds frames " + std::to_string(s.first_frame) + " to " +
                              std::to_string(s.first_frame + s.intensities.dim(0) - 1) + " of " +
                              std::to_string(s.positions.dim(0)) + " (a rank's part of a distributed scan); write a whole scan");
    const index_t J = s.n_positions(), ny = s.intensities.dim(1), nx = s.intensities.dim(2);
    require(s.positions.shape() == Shape({J, 2}), "ptycho::write_cxi: positions must be [J][2], got " +
                                                      s.positions.shape().str());
    io::H5Writer w(path);
    const Array<std::int64_t> version = Array<std::int64_t>::from({150}, Shape{1});
    w.write("/cxi_version", version.view());
    w.write(cxi::data, s.intensities.view());
    const Geometry& g = s.geometry;
    const double dx = s.near_field ? g.pixel_x_m : g.object_pixel_x_m(nx);
    const double dy = s.near_field ? g.pixel_y_m : g.object_pixel_y_m(ny);
    const Array<float> p = Array<float>::copy_of(s.positions, Device::cpu);
    Array<float> t(Shape{J, 3});
    for (index_t j = 0; j < J; ++j) {
        t[3 * j] = float(double(p[2 * j + 1]) * dx);
        t[3 * j + 1] = float(double(p[2 * j]) * dy);
        t[3 * j + 2] = 0.0f;
    }
    w.write(cxi::translation, t.view());
    w.set_attr(cxi::translation, "units", "m");
    w.write_scalar(cxi::distance, g.distance_m);
    w.write_scalar(cxi::x_pixel_size, g.pixel_x_m);
    w.write_scalar(cxi::y_pixel_size, g.pixel_y_m);
    w.write_scalar(cxi::energy, g.energy_j);
    w.write_scalar(cxi::wavelength, g.wavelength_m());
    // lumen's frame orientation, said explicitly: rows along +y, columns along +x.
    Array<float> basis(Shape{2, 3});
    basis[1] = float(g.pixel_y_m);
    basis[3] = float(g.pixel_x_m);
    w.write(cxi::basis_vectors, basis.view());
    if (!s.mask.empty()) {
        Array<std::uint8_t> bits(Shape{ny, nx});
        const Array<float> mk = Array<float>::copy_of(s.mask, Device::cpu);
        for (index_t i = 0; i < bits.size(); ++i) bits[i] = mk[i] == 0.0f ? 1 : 0;
        w.write(cxi::mask, bits.view());
    }
    if (!s.probe.empty()) w.write(cxi::illumination, s.probe.view());
    if (s.has_truth()) {
        w.write(cxi::truth_object, s.true_object.view());
        if (!s.true_probe.empty()) w.write(cxi::truth_probe, s.true_probe.view());
        if (!s.true_positions.empty()) {
            w.write(cxi::truth_positions, s.true_positions.view());
            w.set_attr(cxi::truth_positions, "units", "object pixels (row, column) of the window corner");
        }
        if (!s.true_slices.empty()) w.write(cxi::truth_slices, s.true_slices.view());
    }
    if (s.slice_distance_m > 0) {
        w.write_scalar(cxi::slice_distance, s.slice_distance_m);
        w.set_attr(cxi::slice_distance, "units", "m");
    }
    // Not CXI: says how lumen's own simulations propagate, so that recon picks the model.
    w.write_string(cxi::propagation, s.near_field ? "near" : "far");
    w.set_attr("/", "creator", std::string("lumen ") + LUMEN_VERSION);
    w.commit();
}

std::string describe_cxi(const std::string& path) {
    const Scan s = read_cxi(path);
    const Geometry& g = s.geometry;
    const index_t ny = s.intensities.dim(1), nx = s.intensities.dim(2);
    std::ostringstream o;
    o << path << ": CXI ptychography scan, readable by lumen\n";
    o << "  frames          " << s.n_positions() << " of " << ny << " x " << nx << " pixels\n";
    double total = 0, peak = 0;
    for (index_t i = 0; i < s.intensities.size(); ++i) {
        total += s.intensities[i];
        peak = std::max(peak, double(s.intensities[i]));
    }
    o << "  photons         " << total / double(s.n_positions()) << " per frame on average, peak pixel " << peak << "\n";
    o << "  energy          " << g.energy_j / Geometry::joules_from_kev(1.0) << " keV (wavelength " << g.wavelength_m() * 1e10 << " A)\n";
    o << "  detector        " << g.distance_m << " m away, pixels " << g.pixel_x_m * 1e6 << " x " << g.pixel_y_m * 1e6
      << " um\n";
    if (s.near_field)
        o << "  propagation     near field (Fresnel), object pixel " << g.pixel_x_m * 1e9 << " x " << g.pixel_y_m * 1e9
          << " nm, window Fresnel number " << double(nx) * g.pixel_x_m * double(nx) * g.pixel_x_m / (g.wavelength_m() * g.distance_m)
          << "\n";
    else
        o << "  object pixel    " << g.object_pixel_x_m(nx) * 1e9 << " x " << g.object_pixel_y_m(ny) * 1e9 << " nm\n";
    o << "  object grid     " << s.object_shape[0] << " x " << s.object_shape[1] << " pixels\n";
    o << "  mask            " << (s.mask.empty() ? "none (all pixels measured)" : "yes") << "\n";
    o << "  probe           " << (s.probe.empty() ? "none (estimated from the data, refined)" : "given (refined, unless held fixed)") << "\n";
    o << "  ground truth    " << (s.has_truth() ? "yes (/lumen/truth)" : "no") << "\n";
    if (!s.true_slices.empty())
        o << "  truth slices    " << s.true_slices.dim(0) << " (multi-slice object, " << cxi::truth_slices << ")\n";
    if (s.slice_distance_m > 0)
        o << "  slice distance  " << s.slice_distance_m * 1e6 << " um (recon --slices N takes it)\n";
    return o.str();
}

}  // namespace lumen::ptycho
