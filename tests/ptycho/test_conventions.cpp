// The conventions other tools write scans in (issue 11), each trap written with lumen's own
// simulator: detector basis vectors (flipped, transposed, the (3, 2) layout), CXI mask bits,
// frames in FFT order, translations in another orientation, positions off by 10x, near-field
// frames, a given probe refined by default, and the noise-normalised residual. Each test asserts
// that lumen reconstructs correctly or reports the check that says what to change.
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/ptycho/ptycho_ops.hpp"
#include "lumen/core/checks.hpp"
#include "lumen/fft.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/linalg.hpp"
#include "lumen/ptycho/conventions.hpp"
#include "lumen/ptycho/io.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/run.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

Scan small(std::uint64_t seed = 5, bool poisson = true, index_t positions = 64) {
    SimulationOptions o;
    o.frame = 32;
    o.positions = positions;
    o.photons = 1e5;
    o.poisson = poisson;
    o.seed = seed;
    return simulate(o);
}

// A CXI file written part by part, as another tool might: frames and mask as given, the
// translations from the scan's positions, optional basis vectors.
void write_file(const std::string& path, const Scan& s, const Array<float>& frames, const Array<float>& basis = {},
                const Array<std::int64_t>& mask = {}, const Array<float>& positions = {}) {
    io::H5Writer w(path);
    w.write(cxi::data, frames.view());
    const Array<float>& p = positions.empty() ? s.positions : positions;
    const index_t J = p.dim(0);
    const double dx = s.geometry.object_pixel_x_m(s.intensities.dim(2)),
                 dy = s.geometry.object_pixel_y_m(s.intensities.dim(1));
    Array<float> t(Shape{J, 3});
    for (index_t j = 0; j < J; ++j) {
        t[3 * j] = float(p[2 * j + 1] * dx);
        t[3 * j + 1] = float(p[2 * j] * dy);
    }
    w.write(cxi::translation, t.view());
    w.write_scalar(cxi::distance, s.geometry.distance_m);
    w.write_scalar(cxi::x_pixel_size, s.geometry.pixel_x_m);
    w.write_scalar(cxi::y_pixel_size, s.geometry.pixel_y_m);
    w.write_scalar(cxi::energy, s.geometry.energy_j);
    if (!basis.empty()) w.write(cxi::basis_vectors, basis.view());
    if (!mask.empty()) w.write(cxi::mask, mask.view());
    w.commit();
}

// frames[j][r][c] -> out[j][r'][c'] with flips and an optional transpose (out = transpose first).
Array<float> turned(const Array<float>& in, bool transpose, bool flip_rows, bool flip_cols) {
    const index_t J = in.dim(0), a = in.dim(1), b = in.dim(2);
    const index_t ny = transpose ? b : a, nx = transpose ? a : b;
    Array<float> out(Shape{J, ny, nx});
    for (index_t j = 0; j < J; ++j)
        for (index_t r = 0; r < ny; ++r)
            for (index_t c = 0; c < nx; ++c) {
                const index_t sr = transpose ? c : r, sc = transpose ? r : c;
                const index_t rr = flip_rows ? a - 1 - sr : sr, cc = flip_cols ? b - 1 - sc : sc;
                out[(j * ny + r) * nx + c] = in[(j * a + rr) * b + cc];
            }
    return out;
}

Array<float> basis_2x3(double sy_x, double sy_y, double fa_x, double fa_y) {
    Array<float> b(Shape{2, 3});
    b[0] = float(sy_x);
    b[1] = float(sy_y);
    b[3] = float(fa_x);
    b[4] = float(fa_y);
    return b;
}

template <class T>
Array<T> clone_or_empty(const Array<T>& a) {
    return a.empty() ? Array<T>() : a.clone();
}

Scan copy_of(const Scan& s) {
    Scan c;
    c.intensities = clone_or_empty(s.intensities);
    c.positions = clone_or_empty(s.positions);
    c.mask = clone_or_empty(s.mask);
    c.probe = clone_or_empty(s.probe);
    c.geometry = s.geometry;
    c.object_shape = s.object_shape;
    c.true_object = clone_or_empty(s.true_object);
    c.true_probe = clone_or_empty(s.true_probe);
    c.true_positions = clone_or_empty(s.true_positions);
    return c;
}

// FFT order <-> detector order per frame (ifftshift).
Array<float> to_fft_order(const Array<float>& in) {
    const index_t J = in.dim(0), ny = in.dim(1), nx = in.dim(2);
    Array<float> out(in.shape());
    for (index_t j = 0; j < J; ++j)
        for (index_t r = 0; r < ny; ++r)
            for (index_t c = 0; c < nx; ++c)
                out[(j * ny + r) * nx + c] = in[(j * ny + (r + ny / 2) % ny) * nx + (c + nx / 2) % nx];
    return out;
}

double nrmse_of(const Scan& truth_scan, const ReconResult& r, bool blind) {
    Model m(truth_scan.object_shape, truth_scan.probe_shape(), truth_scan.positions, Device::cpu);
    m.set_probe(truth_scan.true_probe);
    return object_nrmse(truth_scan.true_object, r.object, illuminated_region(m.illumination(), 0.1), blind);
}

ReconOptions known_probe(int iterations) {
    ReconOptions o;
    o.iterations = iterations;
    o.refine_probe = false;
    return o;
}

}  // namespace

// ---- 1. basis vectors -------------------------------------------------------------------------

TEST(PtychoConventions, BasisVectorsTurnFlippedAndTransposedFramesBack) {
    const Scan s = small();
    const double p = s.geometry.pixel_x_m;
    struct Case {
        const char* what;
        bool transpose, flip_rows, flip_cols;
        Array<float> basis;
    };
    // Stored frames D relate to lumen's frames F by the turn; the basis vectors say where D's
    // axes point (slow = D's rows, fast = D's columns).
    Case cases[] = {
        {"columns along -x", false, false, true, basis_2x3(0, p, -p, 0)},
        {"rows along -y (PyNX's top-left origin seen from the sample)", false, true, false, basis_2x3(0, -p, p, 0)},
        {"both flipped", false, true, true, basis_2x3(0, -p, -p, 0)},
        {"transposed", true, false, false, basis_2x3(p, 0, 0, p)},
        {"transposed and flipped", true, true, false, basis_2x3(-p, 0, 0, p)},
    };
    for (Case& c : cases) {
        // D = the inverse turn of F: flips are their own inverses; a transpose with flips is
        // undone by the flips of the other axis.
        const Array<float> stored = c.transpose ? turned(s.intensities, true, c.flip_cols, c.flip_rows)
                                                : turned(s.intensities, false, c.flip_rows, c.flip_cols);
        const std::string path = test::temp_path("basis.cxi");
        write_file(path, s, stored, c.basis);
        const Scan r = read_cxi(path);
        ASSERT_EQ(r.intensities.shape(), s.intensities.shape()) << c.what;
        EXPECT_EQ(test::max_rel_diff(r.intensities, s.intensities), 0.0) << c.what;
        // The transposed (3, 2) layout of the same vectors.
        Array<float> b32(Shape{3, 2});
        for (int v = 0; v < 2; ++v)
            for (int k = 0; k < 3; ++k) b32[k * 2 + v] = c.basis[v * 3 + k];
        write_file(path, s, stored, b32);
        EXPECT_EQ(test::max_rel_diff(read_cxi(path).intensities, s.intensities), 0.0) << c.what << " (3, 2)";
    }
    // Per-frame vectors (N, 2, 3), all equal, as speckle-tracking writes them.
    const index_t J = s.n_positions();
    Array<float> per_frame(Shape{J, 2, 3});
    const Array<float> b = basis_2x3(0, p, -p, 0);
    for (index_t j = 0; j < J; ++j)
        for (int k = 0; k < 6; ++k) per_frame[j * 6 + k] = b[k];
    const std::string path = test::temp_path("perframe.cxi");
    write_file(path, s, turned(s.intensities, false, false, true), per_frame);
    EXPECT_EQ(test::max_rel_diff(read_cxi(path).intensities, s.intensities), 0.0);
    // lumen's own files say their orientation and read back unchanged.
    write_cxi(path, s);
    EXPECT_TRUE(io::H5File::open(path).exists(cxi::basis_vectors));
    EXPECT_EQ(test::max_rel_diff(read_cxi(path).intensities, s.intensities), 0.0);
}

TEST(PtychoConventions, RotatedOrMovingDetectorsAreRefused) {
    const Scan s = small();
    const double p = s.geometry.pixel_x_m, c = std::cos(0.3), sn = std::sin(0.3);
    const std::string path = test::temp_path("rotated.cxi");
    write_file(path, s, s.intensities, basis_2x3(-sn * p, c * p, c * p, sn * p));
    try {
        read_cxi(path);
        ADD_FAILURE() << "a rotated detector should be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_NE(std::string(e.what()).find("basis_vectors"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not along x or y"), std::string::npos) << e.what();
    }
    write_file(path, s, s.intensities, Array<float>(Shape{4, 3}));
    EXPECT_THROW(read_cxi(path), Error);
}

// ---- 4. mask bits -----------------------------------------------------------------------------

TEST(PtychoConventions, InformationalMaskBitsKeepThePixel) {
    const Scan s = small();
    const index_t ny = 32, nx = 32;
    // Only "pixel has signal" (0x1000) in a central disc: every pixel stays measured.
    Array<std::int64_t> bits(Shape{ny, nx});
    for (index_t r = 0; r < ny; ++r)
        for (index_t c = 0; c < nx; ++c)
            if (std::hypot(double(r - ny / 2), double(c - nx / 2)) < 8) bits[r * nx + c] = 0x1000;
    const std::string path = test::temp_path("signal.cxi");
    write_file(path, s, s.intensities, {}, bits);
    const Scan a = read_cxi(path);
    ASSERT_FALSE(a.mask.empty());
    for (index_t i = 0; i < a.mask.size(); ++i) ASSERT_EQ(a.mask[i], 1.0f) << i;
    // Every pixel flagged with information only (signal, peak mask, resolution, corrected): all good.
    for (index_t i = 0; i < bits.size(); ++i) bits[i] = 0x1000 | 0x20 | 0x100 | 0x800;
    write_file(path, s, s.intensities, {}, bits);
    EXPECT_NO_THROW(read_cxi(path));
    // Bad bits still exclude: invalid, saturated, hot, dead, shadowed, ignored, bad, missing, noisy.
    const std::int64_t bad[] = {0x1, 0x2, 0x4, 0x8, 0x10, 0x40, 0x80, 0x200, 0x400};
    for (index_t i = 0; i < bits.size(); ++i) bits[i] = 0x1000;
    for (int k = 0; k < 9; ++k) bits[k] = bad[k] | 0x1000;
    write_file(path, s, s.intensities, {}, bits);
    const Scan b = read_cxi(path);
    for (index_t i = 0; i < b.mask.size(); ++i) EXPECT_EQ(b.mask[i], i < 9 ? 0.0f : 1.0f) << i;
    // A mask that excludes most pixels is suspicious (written with 1 = good?).
    for (index_t i = 0; i < bits.size(); ++i) bits[i] = 1;
    bits[0] = 0;
    write_file(path, s, s.intensities, {}, bits);
    CheckCollector checks;
    check_scan(read_cxi(path));
    EXPECT_TRUE(checks.has_warning("ptycho.mask"));
}

// ---- 3. frames in FFT order -------------------------------------------------------------------

TEST(PtychoConventions, FramesInFftOrderAreDetectedAndReordered) {
    const Scan s = small(5, true, 81);
    const Array<float> fft_frames = to_fft_order(s.intensities);
    const FrameStats centred = frame_stats(s.intensities), fft = frame_stats(fft_frames);
    std::printf("[ measured ] centre / corner power: centred %.3f / %.3f, fft order %.3f / %.3f\n", centred.centre,
                centred.corner, fft.centre, fft.corner);
    EXPECT_FALSE(centred.fft_order());
    EXPECT_TRUE(fft.fft_order());

    const std::string path = test::temp_path("fft.cxi");
    write_file(path, s, fft_frames);
    {
        CheckCollector checks;
        const Scan as_is = read_scan_for_recon(path, FrameOrder::centred);
        EXPECT_TRUE(checks.has_warning("ptycho.frames_centred"));
    }
    for (FrameOrder order : {FrameOrder::fft, FrameOrder::automatic}) {
        CheckCollector checks;
        bool reordered = false;
        const Scan r = read_scan_for_recon(path, order, &reordered);
        EXPECT_TRUE(reordered);
        EXPECT_FALSE(checks.has_warning("ptycho.frames_centred"));
        EXPECT_EQ(test::max_rel_diff(r.intensities, s.intensities), 0.0);
    }
    // A centred file stays as it is under auto.
    const std::string ok = test::temp_path("centred.cxi");
    write_file(ok, s, s.intensities);
    bool reordered = true;
    read_scan_for_recon(ok, FrameOrder::automatic, &reordered);
    EXPECT_FALSE(reordered);

    // What the trap costs: reconstructing FFT-order frames as if centred gives a wrong object.
    Scan wrong = copy_of(s);
    wrong.intensities = fft_frames.clone();
    const double bad = nrmse_of(s, reconstruct(wrong, known_probe(40)), false);
    const double good = nrmse_of(s, reconstruct(s, known_probe(40)), false);
    std::printf("[ measured ] NRMSE after 40 iterations: fft-order frames read as centred %.3f, reordered %.3f\n", bad,
                good);
    EXPECT_GT(bad, 4 * good);
}

// ---- 7. overlap and coverage --------------------------------------------------------------------

TEST(PtychoConventions, PositionsOffByTenAreWarned) {
    const Scan s = small();
    const ScanOverlap o = scan_overlap(s.positions, s.true_probe);
    std::printf("[ measured ] step %.2f px, probe diameter %.2f px, overlap %.3f\n", o.step, o.probe_diameter,
                o.overlap);
    // The simulator's nominal scan: 70 % linear overlap of a 16-pixel beam.
    EXPECT_GT(o.overlap, 0.4);
    EXPECT_LT(o.overlap, 0.9);
    {
        CheckCollector checks;
        check_overlap(s.positions, s.true_probe);
        EXPECT_TRUE(checks.warnings().empty());
        EXPECT_EQ(checks.results().size(), 2u);
    }
    for (double factor : {10.0, 0.1}) {
        Array<float> p = s.positions.clone();
        for (index_t i = 0; i < p.size(); ++i) p[i] *= float(factor);
        CheckCollector checks;
        check_overlap(p, s.true_probe);
        EXPECT_TRUE(checks.has_warning("ptycho.overlap")) << factor;
        // Through the reader: a file whose translations are 10x too large or small.
        const std::string path = test::temp_path("units.cxi");
        Scan t = copy_of(s);
        t.positions = std::move(p);
        t.object_shape = object_shape_for(t.positions, t.probe_shape());
        t.true_object = Array<complex64>();
        write_cxi(path, t);
        CheckCollector file_checks;
        check_scan(read_cxi(path));  // as info does
        EXPECT_TRUE(file_checks.has_warning("ptycho.overlap")) << factor;
    }
}

// ---- 2. orientation ---------------------------------------------------------------------------

TEST(PtychoConventions, OrientationsComposeAsDocumented) {
    Array<float> p(Shape{2, 2});
    p[2] = 1.0f;  // (row 1, column 3)
    p[3] = 3.0f;
    const Array<float> x = orient_positions(p, 1);  // negate x: columns mirrored
    EXPECT_EQ(x[1], 3.0f);
    EXPECT_EQ(x[3], 0.0f);
    EXPECT_EQ(x[2], 1.0f);
    const Array<float> t = orient_positions(p, 4);  // swap: row 3, column 1
    EXPECT_EQ(t[2], 3.0f);
    EXPECT_EQ(t[3], 1.0f);
    const Array<float> a = orient_positions(p, 4, 2.0);  // dy = 2 dx: x = 3 dx, y = 2 dx -> row 1.5, col 2
    EXPECT_FLOAT_EQ(a[2], 1.5f);
    EXPECT_FLOAT_EQ(a[3], 2.0f);
    EXPECT_THROW(orient_positions(p, 8), Error);
    EXPECT_EQ(orientation_name(0), "as stored");
    EXPECT_EQ(orientation_name(5), "x and y swapped, then x negated");
}

TEST(PtychoConventions, AnotherOrientationIsFoundAndCorrected) {
    const Scan s = small(7, true, 81);
    // The file's translations with x negated (another tool's convention): lumen reads mirrored
    // positions. The right answer is orientation 1 (negate x back).
    Scan file = copy_of(s);
    file.positions = orient_positions(s.positions, 1);
    const OrientationFit fit = fit_orientation(file.positions, file.intensities, {}, file.probe, 0, 1.0, Device::cpu);
    std::printf("[ measured ] orientation losses:");
    for (double l : fit.loss) std::printf(" %.4g", l);
    std::printf(" (best %d, ratio %.3f)\n", fit.best, fit.ratio());
    EXPECT_EQ(fit.best, 1);
    EXPECT_LT(fit.ratio(), orientation_margin);
    {
        CheckCollector checks;
        report_orientation(fit);
        ASSERT_TRUE(checks.has_warning("ptycho.orientation"));
        EXPECT_NE(checks.warnings()[0].message.find("orientation 1 (ReconOptions.orientation)"), std::string::npos);
    }
    // The chosen orientation fits: no warning.
    {
        CheckCollector checks;
        report_orientation(fit_orientation(file.positions, file.intensities, {}, file.probe, 1, 1.0, Device::cpu));
        EXPECT_FALSE(checks.has_warning("ptycho.orientation"));
    }
    // And with --orientation 1 the reconstruction is right; as stored it is wrong.
    ReconOptions o = known_probe(60);
    const double wrong = nrmse_of(s, reconstruct(file, o), false);
    o.orientation = 1;
    const ReconResult r = reconstruct(file, o);
    ASSERT_EQ(r.object.shape(), s.true_object.shape());
    const double right = nrmse_of(s, r, false);
    std::printf("[ measured ] NRMSE: x negated %.3f, with --orientation 1 %.3f\n", wrong, right);
    EXPECT_LT(right, 0.06);
    EXPECT_GT(wrong, 4 * right);
}

// ---- 5. near-field frames -----------------------------------------------------------------------

TEST(PtychoConventions, NearFieldFramesAreWarned) {
    const Scan s = small();
    {
        CheckCollector checks;
        check_scan(s);
        EXPECT_FALSE(checks.has_warning("ptycho.far_field"));
        EXPECT_FALSE(checks.has_warning("ptycho.frames_centred"));
    }
    // Frames that are images of the illuminated sample (the contact-plane limit of near-field
    // data): |psi_j|^2 of a probe wider than the window's half.
    Scan near = copy_of(s);
    const Array<complex64> wide = make_probe(32, 28.0);
    Model m(s.object_shape, s.probe_shape(), s.positions, Device::cpu);
    m.set_probe(wide);
    Array<complex64> psi(m.data_shape());
    m.far_field(s.true_object, psi);
    FftPlan plan({32, 32}, s.n_positions(), Device::cpu);
    plan.inverse(psi);
    for (index_t i = 0; i < psi.size(); ++i) near.intensities[i] = 1e5f * norm(psi[i]);
    const FrameStats f = frame_stats(near.intensities), ff = frame_stats(s.intensities);
    std::printf("[ measured ] brightest 10 %% of pixels: far field %.3f, near-field images %.3f\n", ff.bright,
                f.bright);
    CheckCollector checks;
    check_scan(near);
    EXPECT_TRUE(checks.has_warning("ptycho.far_field"));
}

TEST(PtychoConventions, NearFieldScansReconstructWithTheFresnelPropagator) {
    // 8 keV, 100 nm (effective) pixels, 3.3 mm (effective) distance: lambda z / (32 p)^2 = 0.05, a
    // window Fresnel number of 20.
    SimulationOptions o;
    o.frame = 32;
    o.positions = 81;
    o.photons = 1e5;
    o.seed = 6;
    o.beam_diameter = 26;  // near-field beams fill most of the detector
    o.near_field = true;
    o.detector_pixel_m = 1e-7;
    o.distance_m = 0.05 * (32 * 1e-7) * (32 * 1e-7) / Geometry{Geometry::joules_from_kev(8.0), 1, 1, 1}.wavelength_m();
    const Scan s = simulate(o);
    const ModelOptions mo = s.model_options();
    EXPECT_NEAR(mo.fresnel_x, 0.05, 1e-6);
    // lumen's own files say near field; the reader takes it and converts positions with the pixel.
    const std::string path = test::temp_path("near.cxi");
    write_cxi(path, s);
    const Scan r = read_cxi(path);
    EXPECT_TRUE(r.near_field);
    for (index_t i = 0; i < s.positions.size(); ++i) EXPECT_NEAR(r.positions[i], s.positions[i], 1e-3);
    {
        CheckCollector checks;
        check_scan(r);
        EXPECT_FALSE(checks.has_warning("ptycho.far_field"));
    }
    // Read as far field (the frame check cannot tell these images from diffraction patterns: a
    // narrow beam keeps its power in few pixels), the far-field model does not fit: the residual
    // says so.
    Scan as_far = copy_of(s);
    as_far.near_field = false;
    const ReconResult far = reconstruct(as_far, known_probe(30));
    // The Fresnel model reconstructs the object (known probe, and blind from the data's estimate).
    Model m(s.object_shape, s.probe_shape(), s.positions, Device::cpu, mo);
    m.set_probe(s.true_probe);
    const Array<float> region = illuminated_region(m.illumination(), 0.1);
    const ReconResult near = reconstruct(s, known_probe(60));
    const double e_near = object_nrmse(s.true_object, near.object, region, false);
    Scan no_probe = copy_of(s);
    no_probe.probe = Array<complex64>();
    ReconOptions blind;
    blind.iterations = 20;
    const ReconResult b = reconstruct(no_probe, blind);
    const double e_blind = object_nrmse(s.true_object, b.object, region, true);
    std::printf(
        "[ measured ] near field: NRMSE known probe %.3f (residual ratio %.2f); blind from the data's "
        "estimate after 20 iterations %.3f\n",
        e_near, near.residual.ratio(), e_blind);
    EXPECT_LT(e_near, 0.06);
    EXPECT_LT(near.residual.ratio(), 1.3);
    std::printf(
        "[ measured ] near-field data through the far-field model: residual ratio %.2f, frames' bright "
        "fraction %.3f\n",
        far.residual.ratio(), frame_stats(s.intensities).bright);
    EXPECT_GT(far.residual.ratio(), 5 * near.residual.ratio());
    // Without a probe in the file only a rough start exists (sqrt of the mean frame, propagated back).
    EXPECT_TRUE(b.probe_from_data);
    EXPECT_TRUE(std::isfinite(e_blind));
}

// ---- 6. a given probe is refined by default ----------------------------------------------------

TEST(PtychoConventions, AGivenProbeIsRefinedByDefault) {
    EXPECT_TRUE(ReconOptions{}.refine_probe);
    Scan s = small(3, true, 81);
    // The file's probe is an estimate: the right beam, a different width (defocus).
    Array<complex64> estimate = make_probe(32, 0.4 * 32);
    scale(complex64(float(std::sqrt(norm2_squared(s.true_probe.view())))), estimate.view());
    s.probe = std::move(estimate);
    ReconOptions o;
    o.iterations = 120;
    const ReconResult refined = reconstruct(s, o);
    EXPECT_TRUE(refined.refined_probe);
    o.refine_probe = false;
    const ReconResult fixed = reconstruct(s, o);
    EXPECT_FALSE(fixed.refined_probe);
    const double a = nrmse_of(s, refined, true), b = nrmse_of(s, fixed, false);
    std::printf("[ measured ] NRMSE: given probe refined %.3f, held fixed %.3f; residual ratio %.2f / %.2f\n", a, b,
                refined.residual.ratio(), fixed.residual.ratio());
    EXPECT_LT(a, 0.05);
    EXPECT_GT(b, 2 * a);
    // The fit says so too: the held probe leaves a residual well above the noise.
    EXPECT_GT(fixed.residual.ratio(), 1.4 * refined.residual.ratio());
}

// ---- the noise-normalised residual ---------------------------------------------------------------

TEST(PtychoConventions, PoissonAmplitudeVarianceMatchesItsDefinition) {
    namespace kp = kern::ptycho;
    // Direct sum over the Poisson weights in long double, against the kernel (both branches).
    for (double lam : {0.01, 0.3, 1.0, 4.0, 20.0, 39.9, 40.1, 100.0, 1e4}) {
        long double p = std::exp(-(long double)lam), e = 0;
        for (int k = 1; k < int(lam + 40 * std::sqrt(lam) + 60); ++k) {
            p *= (long double)lam / k;
            e += p * std::sqrt((long double)k);
        }
        const double want = double(2 * (long double)lam - 2 * std::sqrt((long double)lam) * e);
        EXPECT_NEAR(kp::poisson_amplitude_variance(lam), want, 2e-4 + 1e-6 * want) << lam;
    }
    EXPECT_EQ(kp::poisson_amplitude_variance(0.0), 0.0);
    EXPECT_NEAR(kp::poisson_amplitude_variance(1e6), 0.25, 1e-6);
}

TEST(PtychoConventions, TabulatedPoissonVarianceMatchesTheSum) {
    namespace kp = kern::ptycho;
    // The table the model builds, then the interpolation against the direct sum at 20,000 model
    // intensities spread over (0, 40] (dense near 0, where the variance has a lam^(3/2) term) and
    // a few beyond 40. Measured: largest difference 4.5e-11 (absolute, near lam = 0.1; the variance is at most
    // about 1.2 here); a wrong stencil or node position gives 1e-4 or more.
    std::vector<double> table(kp::k_variance_intervals + 1);
    for (int i = 0; i <= kp::k_variance_intervals; ++i)
        table[std::size_t(i)] = kp::variance_table_node(i);
    double worst = 0;
    for (int j = 1; j <= 20000; ++j) {
        const double u = double(j) / 20000.0, lam = 40.0 * u * u * u;
        worst = std::max(worst, std::fabs(kp::poisson_amplitude_variance_tabulated(table.data(), lam) -
                                          kp::poisson_amplitude_variance(lam)));
    }
    std::printf("[ measured ] tabulated Poisson amplitude variance: largest difference %.2e\n", worst);
    EXPECT_LT(worst, 1e-10);
    for (double lam : {40.5, 1e3})
        EXPECT_EQ(kp::poisson_amplitude_variance_tabulated(table.data(), lam), kp::poisson_amplitude_variance(lam)) << lam;
    EXPECT_EQ(kp::poisson_amplitude_variance_tabulated(table.data(), 0.0), 0.0);
}

TEST(PtychoConventions, ResidualIsAboutOneAtTheNoiseLevel) {
    const Scan s = small(4, true, 81);
    const ReconResult r = reconstruct(s, known_probe(100));
    // The truth itself fits to the noise: its ratio is about 1.
    Model m(s.object_shape, s.probe_shape(), s.positions, Device::cpu);
    m.set_data(s.intensities);
    m.set_probe(s.true_probe);
    const double at_truth = m.residual(s.true_object).ratio();
    std::printf("[ measured ] residual ratio: truth %.3f, AWF %.3f (per pixel %.4f)\n", at_truth, r.residual.ratio(),
                r.residual.per_pixel());
    EXPECT_NEAR(at_truth, 1.0, 0.05);
    EXPECT_GT(r.residual.ratio(), 0.7);
    EXPECT_LT(r.residual.ratio(), 1.3);
}
