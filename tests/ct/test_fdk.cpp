// FDK: the filter, the weights, and quantitative reconstructions (uniform cylinder to its true
// attenuation, Shepp-Logan to a measured PSNR) for full and short cone-beam scans and parallel beam.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "lumen/ct/fdk.hpp"
#include "lumen/ct/geometry.hpp"
#include "lumen/ct/phantom.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/metrics.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {


// An infinitely long (along z) cylinder of radius 0.35 n mm and attenuation mu, reconstructed by
// FDK; returns {mean, max relative deviation} over the central slices within radius 0.25 n.
struct CylinderStats {
    double mean, worst;
};
CylinderStats fdk_cylinder(const Geometry& g, double mu, const FdkOptions& options, double noise = 0.0,
                           double* stddev = nullptr) {
    const index_t n = g.volume.nx;
    Ellipsoid cyl;
    cyl.value = mu;
    cyl.semi[0] = cyl.semi[1] = 0.35 * double(n);
    cyl.semi[2] = 100.0 * double(n);
    Array<float> proj = project_analytic({cyl}, g, 1, false, Device::cpu);
    if (noise > 0) {
        std::mt19937 rng(5);
        std::normal_distribution<float> gauss(0.0f, float(noise));
        for (float& v : proj) v += gauss(rng);
    }
    Projector P(g, Device::cpu);
    Array<float> vol(g.volume_shape());
    fdk(P, proj, vol, options);
    double sum = 0, sum2 = 0, worst = 0;
    index_t count = 0;
    const index_t nz = g.volume.nz;
    for (index_t z = nz / 2 - 2; z < nz / 2 + 2; ++z)
        for (index_t y = 0; y < n; ++y)
            for (index_t x = 0; x < n; ++x) {
                const double dx = double(x) - 0.5 * double(n - 1), dy = double(y) - 0.5 * double(n - 1);
                if (dx * dx + dy * dy > 0.0625 * double(n * n)) continue;
                const double v = vol[(z * n + y) * n + x];
                sum += v;
                sum2 += v * v;
                worst = std::max(worst, std::abs(v / mu - 1.0));
                ++count;
            }
    const double mean = sum / double(count);
    if (stddev) *stddev = std::sqrt(std::max(0.0, sum2 / double(count) - mean * mean));
    return {mean, worst};
}

// A ball of radius 10 mm projected analytically (the slab tests' scan), and its whole-volume FDK.
struct BallScan {
    Array<float> projections, volume;
};
BallScan ball_scan(const Geometry& g) {
    Ellipsoid ball;
    ball.value = 0.02;
    ball.semi[0] = ball.semi[1] = ball.semi[2] = 10.0;
    BallScan b{project_analytic({ball}, g, 1, false, Device::cpu), Array<float>(g.volume_shape())};
    Projector P(g, Device::cpu);
    fdk(P, b.projections, b.volume, FdkOptions{});
    return b;
}

}  // namespace

TEST(CtFdk, RampSpectrumIsTheBandLimitedRamp) {
    const index_t np = fdk_padded_length(100);
    EXPECT_GE(np, 199);
    const double tau = 0.5;
    const std::vector<float> h = ramp_filter_spectrum(np, tau, FilterWindow::ram_lak, 1.0);
    const double nyquist = 1.0 / (2.0 * tau);
    EXPECT_GE(h[0], 0.0f);
    EXPECT_LT(h[0], 0.01 * nyquist);
    for (index_t k = np / 8; k <= np / 2; ++k) {
        const double f = double(k) / (double(np) * tau);  // cycles per mm
        EXPECT_NEAR(h[std::size_t(k)], f, 0.01 * nyquist) << "k = " << k;
        EXPECT_FLOAT_EQ(h[std::size_t(k)], h[std::size_t((np - k) % np)]);
    }
    // Windows only attenuate, and Hann reaches zero at Nyquist.
    const std::vector<float> hann = ramp_filter_spectrum(np, tau, FilterWindow::hann, 1.0);
    const std::vector<float> sl = ramp_filter_spectrum(np, tau, FilterWindow::shepp_logan, 1.0);
    for (index_t k = 1; k < np; ++k) {
        EXPECT_LE(hann[std::size_t(k)], h[std::size_t(k)] + 1e-6f);
        EXPECT_LE(sl[std::size_t(k)], h[std::size_t(k)] + 1e-6f);
    }
    EXPECT_NEAR(hann[std::size_t(np / 2)], 0.0, 1e-3 * nyquist);
    EXPECT_NEAR(sl[std::size_t(np / 2)], nyquist * 2.0 / kPi, 0.01 * nyquist);
    EXPECT_THROW(ramp_filter_spectrum(np, tau, FilterWindow::hann, 0.0), Error);
}

TEST(CtFdk, AngularStepsCoverTheScan) {
    const auto full = equally_spaced_angles(90, 2 * kPi, 0.3);
    EXPECT_TRUE(is_full_scan(full));
    const auto s = angular_steps(full);
    EXPECT_NEAR(std::accumulate(s.begin(), s.end(), 0.0), 2 * kPi, 1e-9);
    std::vector<double> irregular = {0.0, 0.1, 0.35, 0.4, 1.0, 2.5, 3.3};
    const auto si = angular_steps(irregular);
    EXPECT_FALSE(is_full_scan(irregular));
    EXPECT_NEAR(si[2], 0.5 * (0.4 - 0.1), 1e-12);
    EXPECT_NEAR(std::accumulate(si.begin(), si.end(), 0.0), angular_coverage(irregular), 1e-9);
}

TEST(CtFdk, FullScanCylinderIsQuantitative) {
    const Geometry g = default_cone_geometry(48, 1.0, 120);
    FdkOptions o;
    const CylinderStats s = fdk_cylinder(g, 0.02, o);
    RecordProperty("mean_ratio", std::to_string(s.mean / 0.02));
    RecordProperty("worst_deviation", std::to_string(s.worst));
    EXPECT_NEAR(s.mean / 0.02, 1.0, 0.02);  // the requirement; measured 1.001
    EXPECT_LT(s.worst, 0.03);               // flat; measured 0.6%
}

TEST(CtFdk, ShortScanWithParkerWeightsIsQuantitative) {
    // 180 degrees plus the fan (~14.4 degrees here) plus a little: Parker's weights.
    const Geometry g = default_cone_geometry(48, 1.0, 80, 200.0 * kPi / 180.0);
    EXPECT_FALSE(is_full_scan(g.angles));
    FdkOptions o;
    const CylinderStats s = fdk_cylinder(g, 0.02, o);
    RecordProperty("mean_ratio", std::to_string(s.mean / 0.02));
    RecordProperty("worst_deviation", std::to_string(s.worst));
    EXPECT_NEAR(s.mean / 0.02, 1.0, 0.02);
    // With the fan angle's sign flipped the profile ramps by +-19% across the cylinder.
    EXPECT_LT(s.worst, 0.04);
    // Without redundancy weighting the doubly measured wedge is counted twice.
    o.short_scan = ShortScan::off;
    EXPECT_GT(fdk_cylinder(g, 0.02, o).worst, 0.05);
}

TEST(CtFdk, ShortScanBelowHalfCirclePlusFanIsRejected) {
    const Geometry g = default_cone_geometry(32, 1.0, 40, 185.0 * kPi / 180.0);
    Projector P(g, Device::cpu);
    Array<float> proj(g.projection_shape()), vol(g.volume_shape());
    try {
        fdk(P, proj, vol, FdkOptions{});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_NE(std::string(e.what()).find("fan angle"), std::string::npos) << e.what();
    }
}

TEST(CtFdk, ParallelBeamFbpCylinder) {
    Geometry g = default_cone_geometry(48, 1.0, 90, kPi);
    g.type = BeamType::parallel;
    g.du = g.dv = 1.0;
    FdkOptions o;
    o.window = FilterWindow::shepp_logan;
    const CylinderStats s = fdk_cylinder(g, 0.03, o);
    EXPECT_NEAR(s.mean / 0.03, 1.0, 0.02);
    EXPECT_LT(s.worst, 0.03);
}

TEST(CtFdk, SmootherWindowsLowerTheNoise) {
    const Geometry g = default_cone_geometry(40, 1.0, 90);
    double sd_ramlak = 0, sd_sl = 0, sd_cos = 0, sd_hamming = 0, sd_hann = 0;
    FdkOptions o;
    o.window = FilterWindow::ram_lak;
    fdk_cylinder(g, 0.02, o, 0.02, &sd_ramlak);
    o.window = FilterWindow::shepp_logan;
    fdk_cylinder(g, 0.02, o, 0.02, &sd_sl);
    o.window = FilterWindow::cosine;
    fdk_cylinder(g, 0.02, o, 0.02, &sd_cos);
    o.window = FilterWindow::hamming;
    fdk_cylinder(g, 0.02, o, 0.02, &sd_hamming);
    o.window = FilterWindow::hann;
    const CylinderStats s = fdk_cylinder(g, 0.02, o, 0.02, &sd_hann);
    EXPECT_GT(sd_ramlak, sd_sl);
    EXPECT_GT(sd_sl, sd_cos);
    EXPECT_GT(sd_cos, sd_hann);
    EXPECT_GT(sd_hamming, sd_hann);
    EXPECT_LT(sd_hann, 0.6 * sd_ramlak);
    EXPECT_NEAR(s.mean / 0.02, 1.0, 0.02);  // windows keep the DC gain
}

TEST(CtFdk, SheppLoganPsnr) {
    // Noiseless analytic projections of the 3-D Shepp-Logan phantom (64^3, 180 views).
    const Geometry g = default_cone_geometry(64, 1.0, 180);
    const auto phantom = scale_phantom(shepp_logan_table(true), 0.5 * 64 * 0.95, 0.02);
    Array<float> truth = voxelize(phantom, g.volume, 2, Device::cpu);
    Array<float> proj = project_analytic(phantom, g, 1, false, Device::cpu);
    Projector P(g, Device::cpu);
    Array<float> vol(g.volume_shape());
    fdk(P, proj, vol, FdkOptions{});
    const double p = psnr(truth, vol, 0.0);
    RecordProperty("psnr_db", std::to_string(p));
    EXPECT_GT(p, 27.0);  // measured 28.4 dB (peak = max of the truth)
}

TEST(CtFdk, SlabOfSlicesIsTheWholeVolumesSlab) {
    // A distributed FDK (docs/scaling.md) reconstructs one slab per rank: inside the slab the
    // voxels are the whole volume's, outside they are zero. Slabs on multiples of 8 slices run the
    // same vector steps as the whole volume and keep its bits; others round the slices the AVX2
    // path would take 8 at a time one by one (slices 5 to 11: max difference 1.7e-7 of the maximum).
    const Geometry g = default_cone_geometry(32, 1.0, 36);
    const auto [proj, whole] = ball_scan(g);
    Projector P(g, Device::cpu);
    const index_t plane = g.volume.nx * g.volume.ny;
    double top = 0.0;
    for (float v : whole) top = std::max(top, double(std::abs(v)));
    for (const auto& [z0, z1] : {std::pair<index_t, index_t>{8, 24}, {24, 32}, {5, 12}, {0, 0}}) {
        SCOPED_TRACE("slices " + std::to_string(z0) + " to " + std::to_string(z1));
        Array<float> slab(g.volume_shape());
        std::fill(slab.begin(), slab.end(), 1.0f);  // overwritten: zero outside the slab
        fdk(P, proj, slab, FdkOptions{}, z0, z1);
        double worst = 0.0;
        bool same = true;
        for (index_t i = 0; i < slab.size(); ++i) {
            const index_t z = i / plane;
            const float expected = z >= z0 && z < z1 ? whole[i] : 0.0f;
            same = same && slab[i] == expected;
            worst = std::max(worst, double(std::abs(slab[i] - expected)));
        }
        if (z0 % 8 == 0 && z1 % 8 == 0) {
            EXPECT_TRUE(same) << worst / top;
        }
        EXPECT_LE(worst, 1e-6 * top);
    }
    Array<float> vol(g.volume_shape());
    EXPECT_THROW(fdk(P, proj, vol, FdkOptions{}, 4, 40), Error);
}

namespace {

// The detector rows FDK's bilinear read touches for slices [z0, z1), by brute force: every voxel
// centre of the slab projected at every view (in double), its row and the next one.
DetectorRows brute_force_rows(const Geometry& g, index_t z0, index_t z1) {
    const VolumeGrid& v = g.volume;
    index_t lo = g.nv, hi = -1;
    for (double a : g.angles)
        for (index_t iz = z0; iz < z1; ++iz)
            for (index_t iy = 0; iy < v.ny; ++iy)
                for (index_t ix = 0; ix < v.nx; ++ix) {
                    const double x = v.offset_x + (double(ix) - 0.5 * double(v.nx - 1)) * v.voxel_x;
                    const double y = v.offset_y + (double(iy) - 0.5 * double(v.ny - 1)) * v.voxel_y;
                    const double z = v.offset_z + (double(iz) - 0.5 * double(v.nz - 1)) * v.voxel_z;
                    const double depth = g.dso - x * std::sin(a) + y * std::cos(a);
                    const double vv = g.type == BeamType::cone ? z * g.dsd / depth : z;
                    const double r = (vv - g.offset_v) / g.dv + 0.5 * double(g.nv - 1);
                    const index_t r0 = index_t(std::floor(r));
                    if (r0 + 1 < 0 || r0 > g.nv - 1) continue;  // off the detector: reads zeros
                    lo = std::min(lo, std::max<index_t>(r0, 0));
                    hi = std::max(hi, std::min(r0 + 1, g.nv - 1));
                }
    return hi < lo ? DetectorRows{} : DetectorRows{lo, hi - lo + 1};
}

}  // namespace

TEST(CtFdk, DetectorRowsOfASlabHoldEveryRowItsVoxelsRead) {
    // The rows a distributed FDK reads for its slab (docs/scaling.md): a superset of the rows the
    // slab's voxels read (brute force over every voxel and view), a few rows more at most (the
    // voxel's half height, one margin row either side, even pairs), and for a slab of 8 of 32
    // slices a strict part of the detector. Also with the detector and the volume shifted.
    Geometry shifted = default_cone_geometry(32, 1.0, 24);
    shifted.nv = 41;
    shifted.offset_v = 3.3;
    shifted.offset_u = -2.0;
    shifted.volume.offset_z = -1.7;
    shifted.volume.offset_x = 1.5;
    shifted.volume.nz = 40;
    Geometry parallel = default_cone_geometry(32, 1.0, 24);
    parallel.type = BeamType::parallel;
    Geometry cone = default_cone_geometry(32, 1.0, 24);
    cone.dso = 40.0;  // a wide cone: 32 mm of volume seen from 40 mm
    cone.dsd = 80.0;
    cone.dv = 2.0;
    cone.nv = 64;
    for (const Geometry* g : {&shifted, &parallel, &cone})
        for (const auto& [z0, z1] : {std::pair<index_t, index_t>{0, 8}, {8, 16}, {16, 24}, {24, 32}, {5, 12}, {0, 32}}) {
            SCOPED_TRACE(std::string(beam_type_name(g->type)) + " nv " + std::to_string(g->nv) + ", slices " +
                         std::to_string(z0) + " to " + std::to_string(z1));
            const DetectorRows got = fdk_detector_rows(*g, z0, z1), need = brute_force_rows(*g, z0, z1);
            ASSERT_GT(need.count, 0);
            EXPECT_LE(got.first, need.first);
            EXPECT_GE(got.end(), need.end());
            EXPECT_EQ(got.first % 2, 0);
            // Measured: at most 4 rows beyond the brute force's on either side here (the half voxel
            // of the slab's faces magnified, one margin row, the pair); 6 leaves room.
            EXPECT_LE(need.first - got.first, 6);
            EXPECT_LE(got.end() - need.end(), 6);
            if (z1 - z0 == 8) {
                EXPECT_LT(got.count, g->nv);
            }
        }
    EXPECT_EQ(fdk_detector_rows(cone, 4, 4).count, 0);
}

TEST(CtFdk, SlabFromItsDetectorRowsIsTheWholeDetectorsSlab) {
    // A distributed FDK weights and filters only the rows its slab reads (fdk_detector_rows): the
    // slab is the whole detector's to the bit (the filter's row pairs are the same pairs), also
    // with an odd number of rows, where the last row is filtered alone in both.
    for (index_t nv : {32, 33}) {
        Geometry g = default_cone_geometry(32, 1.0, 36);
        g.nv = nv;
        const auto [proj, whole] = ball_scan(g);
        Projector P(g, Device::cpu);
        const index_t plane = g.volume.nx * g.volume.ny;
        for (const auto& [z0, z1] : {std::pair<index_t, index_t>{0, 8}, {8, 24}, {24, 32}}) {
            SCOPED_TRACE("nv " + std::to_string(nv) + ", slices " + std::to_string(z0) + " to " + std::to_string(z1));
            const DetectorRows rows = fdk_detector_rows(g, z0, z1);
            EXPECT_LT(rows.count, nv);
            Array<float> part(Shape{g.n_angles(), rows.count, g.nu});
            for (index_t v = 0; v < g.n_angles(); ++v)
                std::copy_n(proj.data() + (v * nv + rows.first) * g.nu, rows.count * g.nu,
                            part.data() + v * rows.count * g.nu);
            Array<float> slab(g.volume_shape());
            fdk(P, part, slab, FdkOptions{}, z0, z1, rows.first);
            bool same = true;
            for (index_t i = 0; i < slab.size(); ++i) {
                const index_t z = i / plane;
                same = same && slab[i] == (z >= z0 && z < z1 ? whole[i] : 0.0f);
            }
            EXPECT_TRUE(same);
            // Rows that miss part of the slab are refused, naming them.
            Array<float> short_part(Shape{g.n_angles(), rows.count - 2, g.nu});
            try {
                fdk(P, short_part, slab, FdkOptions{}, z0, z1, rows.first);
                ADD_FAILURE() << "rows that miss the slab were accepted";
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("project to detector rows"), std::string::npos) << e.what();
            }
        }
    }
}
