// Reconstructions on simulated scans (8 coils, 128x96 k-space, 80x80 recon box) with measured
// thresholds, scale invariance of the relative weights, and the fastMRI metrics.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

constexpr index_t kC = 8, kH = 128, kW = 96, kR = 80;

SimulatedScan scan(double noise, double scale_factor = 1.0) {
    SimulationOptions o;
    o.height = kH;
    o.width = kW;
    o.coils = kC;
    o.recon_height = kR;
    o.recon_width = kR;
    o.noise = noise;
    o.scale = scale_factor;
    o.seed = 5;
    return simulate(o);
}

struct Outcome {
    Array<float> image;  // [1][kR][kR]
    Quality q;
};

Outcome run(const SimulatedScan& s, const Array<float>& mask, const Array<complex64>& maps, Method m, int iters,
            double lambda = -1.0) {
    ReconOptions o;
    o.method = m;
    o.iterations = iters;
    o.stop = Stop::iterations;  // these tests compare the methods at fixed counts (test_mri_stop.cpp: the stopping)
    if (lambda >= 0.0) o.lambda = lambda;
    const View<const complex64> k(s.kspace.data(), Shape{kC, kH, kW});
    const SliceRecon r = reconstruct_slice(k, mask.view(), maps.view(), o);
    Outcome out;
    out.image = center_crop(r.magnitude.view(), kR, kR);
    out.image.reshape(Shape{1, kR, kR});
    out.q = fastmri_quality(s.target.view(), out.image.view());
    return out;
}

Array<complex64> espirit_maps(const SimulatedScan& s, const Array<float>& mask) {
    Array<complex64> y(Shape{kC, kH, kW});
    apply_mask(s.kspace.view().item(0), mask, y.view());
    return espirit(y.view(), mask.view(), EspiritOptions{}, Device::cpu).maps;
}

bool same(const Array<float>& a, const Array<float>& b) {
    if (a.shape() != b.shape()) return false;
    for (index_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

Array<float> poisson(double acc) {
    MaskSpec spec;
    spec.kind = MaskKind::poisson;
    spec.acceleration = acc;
    spec.seed = 11;
    return make_mask(spec, kH, kW);
}

}  // namespace

TEST(MriRecon, CgSenseRecoversNoiselessImageAt4x) {
    const SimulatedScan s = scan(0.0);
    const Array<float> mask = poisson(4.0);
    const Outcome r = run(s, mask, espirit_maps(s, mask), Method::cg_sense, 30);
    const double e = nrmse(s.target.view(), r.image.view());
    std::printf("CG-SENSE 4x noiseless: NRMSE %.4f SSIM %.4f PSNR %.2f\n", e, r.q.ssim, r.q.psnr_db);
    EXPECT_LT(e, 0.08);  // measured 0.055
}

TEST(MriRecon, L1WaveletBeatsZeroFilledAndCgSenseAt8x) {
    const SimulatedScan s = scan(0.02);
    const Array<float> mask = poisson(8.0);
    const Array<complex64> maps = espirit_maps(s, mask);
    const Outcome zf = run(s, mask, maps, Method::zero_filled, 0);
    const Outcome cg = run(s, mask, maps, Method::cg_sense, 30);
    const Outcome l1 = run(s, mask, maps, Method::l1_wavelet, 60);
    const Outcome tv = run(s, mask, maps, Method::tv, 30);
    std::printf("8x: SSIM zf %.4f cg %.4f l1 %.4f tv %.4f | PSNR zf %.2f cg %.2f l1 %.2f tv %.2f\n", zf.q.ssim,
                cg.q.ssim, l1.q.ssim, tv.q.ssim, zf.q.psnr_db, cg.q.psnr_db, l1.q.psnr_db, tv.q.psnr_db);
    EXPECT_GT(l1.q.ssim, zf.q.ssim + 0.2);
    EXPECT_GT(l1.q.ssim, cg.q.ssim + 0.05);  // measured: SSIM zf 0.545, cg 0.880, l1 0.984, tv 0.996
    EXPECT_GT(l1.q.psnr_db, zf.q.psnr_db + 8.0);
    EXPECT_GT(l1.q.psnr_db, cg.q.psnr_db + 2.0);  // measured: PSNR zf 22.7, cg 36.3, l1 39.6, tv 41.9 dB
    EXPECT_GT(tv.q.ssim, cg.q.ssim + 0.05);
    EXPECT_GT(tv.q.psnr_db, cg.q.psnr_db + 2.0);
}

TEST(MriRecon, RelativeWeightsAreScaleInvariant) {
    // The same scan at fastMRI's raw scale (1e-4) gives the same image up to that scale.
    const SimulatedScan a = scan(0.02, 1.0), b = scan(0.02, 1e-4);
    const Array<float> mask = poisson(6.0);
    for (Method m : {Method::l1_wavelet, Method::tv}) {
        const Outcome ra = run(a, mask, espirit_maps(a, mask), m, 15);
        Outcome rb = run(b, mask, espirit_maps(b, mask), m, 15);
        scale(1e4f, rb.image.view());
        EXPECT_LT(nrmse(ra.image.view(), rb.image.view()), 1e-3) << method_name(m);
        EXPECT_NEAR(ra.q.ssim, rb.q.ssim, 1e-3) << method_name(m);
    }
}

TEST(MriRecon, ZeroFilledIsFastMriBaseline) {
    // Fully sampled: zero-filled RSS equals fastMRI's reconstruction_rss target.
    const SimulatedScan s = scan(0.0);
    Array<float> full(Shape{kH, kW});
    fill(full.view(), 1.0f);
    const Outcome zf = run(s, full, Array<complex64>(), Method::zero_filled, 0);
    EXPECT_LT(nrmse(s.rss.view(), zf.image.view()), 1e-5);
    EXPECT_GT(zf.q.ssim, 0.9999);
}

TEST(MriRecon, BadSlicesAreRejected) {
    const SimulatedScan s = scan(0.0);
    const Array<float> mask = poisson(4.0);
    const Array<complex64> zeros(Shape{kC, kH, kW});
    ReconOptions o;
    EXPECT_THROW(reconstruct_slice(zeros.view(), mask.view(), zeros.view(), o), Error);
    const View<const complex64> k(s.kspace.data(), Shape{kC, kH, kW});
    EXPECT_THROW(reconstruct_slice(k, mask.view(), zeros.view(), o), Error);  // all-zero maps
    EXPECT_THROW(reconstruct_slice(k, Array<float>(Shape{kH, kW - 1}).view(), zeros.view(), o), Error);
    EXPECT_THROW(parse_method("grappa"), Error);
}

TEST(MriRecon, OneReconstructorForManySlicesGivesEachSlicesOwnResult) {
    // Two different slices (noise seeds, masks and maps) through one SliceReconstructor, the
    // second after the first, equal (to the bit) what a fresh reconstruction of each gives; the
    // progress callback sees each slice as a part.
    const SimulatedScan a = scan(0.02), b = scan(0.05);
    const Array<float> ma = poisson(4.0), mb = poisson(6.0);
    const Array<complex64> sa = espirit_maps(a, ma), sb = espirit_maps(b, mb);
    const View<const complex64> ka(a.kspace.data(), Shape{kC, kH, kW}), kb(b.kspace.data(), Shape{kC, kH, kW});
    for (Method m : {Method::zero_filled, Method::cg_sense, Method::l1_wavelet, Method::tv}) {
        ReconOptions o;
        o.method = m;
        o.iterations = 3;
        std::vector<index_t> parts_seen;
        o.progress = [&](const ProgressInfo& p) {
            EXPECT_EQ(p.parts, 2);
            if (p.iteration.iteration == 0) parts_seen.push_back(p.part);
            return true;
        };
        SliceReconstructor plan(o);
        const SliceRecon ra = plan.reconstruct(ka, ma.view(), sa.view(), 0, 2);
        const SliceRecon rb = plan.reconstruct(kb, mb.view(), sb.view(), 1, 2);
        EXPECT_EQ(parts_seen, (std::vector<index_t>{0, 1})) << method_name(m);
        o.progress = nullptr;
        const SliceRecon fa = reconstruct_slice(ka, ma.view(), sa.view(), o);
        const SliceRecon fb = reconstruct_slice(kb, mb.view(), sb.view(), o);
        EXPECT_TRUE(same(ra.magnitude, fa.magnitude)) << method_name(m);
        EXPECT_TRUE(same(rb.magnitude, fb.magnitude)) << method_name(m);
        EXPECT_EQ(rb.residual_sq, fb.residual_sq) << method_name(m);
    }
}

TEST(MriRecon, OptionErrorsNameTheField) {
    const auto field_of = [](const ReconOptions& o) {
        try {
            o.validate();
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::invalid_option);
            EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << e.what();
            return e.field();
        }
        return std::string();
    };
    ReconOptions o;
    o.lambda = -1.0;
    EXPECT_EQ(field_of(o), "ReconOptions.lambda");
    o = ReconOptions{};
    o.iterations = -2;
    EXPECT_EQ(field_of(o), "ReconOptions.iterations");
    o = ReconOptions{};
    o.wavelet_levels = 9;
    EXPECT_EQ(field_of(o), "ReconOptions.wavelet_levels");
    o = ReconOptions{};
    o.pocs_iterations = 0;
    EXPECT_EQ(field_of(o), "ReconOptions.pocs_iterations");
    try {
        parse_method("grappa");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_option);
        EXPECT_EQ(e.field(), "ReconOptions.method");
    }
}

TEST(MriMetrics, FastMriDefinitions) {
    Array<float> ref(Shape{2, 16, 16}), est(Shape{2, 16, 16});
    for (index_t i = 0; i < ref.size(); ++i) {
        ref[i] = float(i % 16) + 1.0f;
        est[i] = ref[i] + ((i % 3) ? 0.5f : -0.5f);
    }
    const Quality q = fastmri_quality(ref.view(), est.view());
    double d = 0, r = 0, mx = 0;
    for (index_t i = 0; i < ref.size(); ++i) {
        d += std::pow(double(ref[i] - est[i]), 2);
        r += std::pow(double(ref[i]), 2);
        mx = std::max(mx, double(ref[i]));
    }
    EXPECT_NEAR(q.nmse, d / r, 1e-9);
    EXPECT_NEAR(q.psnr_db, 10.0 * std::log10(mx * mx / (d / double(ref.size()))), 1e-6);
    EXPECT_NEAR(q.ssim, ssim_stack(ref.view(), est.view(), mx), 1e-12);
}
