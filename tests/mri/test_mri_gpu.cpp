// CPU-vs-GPU parity of the MRI operators, ESPIRiT, noise whitening, POCS, the readout crop and
// coil compression, and a reconstruction
// (skipped without a GPU).
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/noise.hpp"
#include "lumen/mri/partial_fourier.hpp"
#include "lumen/mri/preprocess.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

TEST(MriGpu, SenseOperatorParity) {
    LUMEN_REQUIRE_GPU();
    const Array<complex64> maps = test::random_complex(Shape{6, 40, 36}, 1);
    Array<float> mask = test::random_real(Shape{40, 36}, 2);
    for (auto& v : mask) v = v > 0.3f ? 1.0f : 0.0f;
    const SenseOperator cpu(maps.view(), mask.view(), Device::cpu), gpu(maps.view(), mask.view(), Device::cuda);
    EXPECT_LT(adjoint_test(gpu, 3), 1e-5);
    const Array<complex64> x = test::random_complex(Shape{40, 36}, 3);
    const Array<complex64> xd = x.to(Device::cuda);
    Array<complex64> y(Shape{6, 40, 36}), yd(Shape{6, 40, 36}, Device::cuda);
    cpu.apply(x.view(), y.view());
    gpu.apply(xd.view(), yd.view());
    EXPECT_LT(test::max_rel_diff(y.view(), yd.view()), 1e-5);
    Array<complex64> n(Shape{40, 36}), nd(Shape{40, 36}, Device::cuda);
    cpu.apply_normal(x.view(), n.view());
    gpu.apply_normal(xd.view(), nd.view());
    EXPECT_LT(test::max_rel_diff(n.view(), nd.view()), 1e-5);
    cpu.apply_adjoint(y.view(), n.view());
    gpu.apply_adjoint(yd.view(), nd.view());
    EXPECT_LT(test::max_rel_diff(n.view(), nd.view()), 1e-5);
    Array<float> r(Shape{40, 36}), rd(Shape{40, 36}, Device::cuda);
    rss(y.view(), r.view());
    rss(yd.view(), rd.view());
    EXPECT_LT(test::max_rel_diff(r.view(), rd.view()), 1e-6);
    const Array<float> c = center_crop(r.view(), 20, 30);
    const Array<float> cd = center_crop(rd.view(), 20, 30);
    EXPECT_EQ(test::max_rel_diff(c.view(), cd.view()), 0.0);
}

TEST(MriGpu, EspiritAndReconstructionParity) {
    LUMEN_REQUIRE_GPU();
    SimulationOptions o;
    o.height = 128;
    o.width = 96;
    o.recon_height = 80;
    o.recon_width = 80;
    o.noise = 0.01;
    const SimulatedScan s = simulate(o);
    MaskSpec spec;
    spec.kind = MaskKind::poisson;
    spec.acceleration = 5.0;
    const Array<float> mask = make_mask(spec, 128, 96);
    const View<const complex64> k(s.kspace.data(), Shape{8, 128, 96});
    const EspiritResult ec = espirit(k, mask.view(), EspiritOptions{}, Device::cpu);
    const EspiritResult eg = espirit(k, mask.view(), EspiritOptions{}, Device::cuda);
    EXPECT_LT(test::max_rel_diff(ec.maps.view(), eg.maps.view()), 1e-3);
    for (Method m : {Method::zero_filled, Method::cg_sense, Method::l1_wavelet, Method::tv}) {
        ReconOptions ro;
        ro.method = m;
        ro.iterations = 20;
        const SliceRecon rc = reconstruct_slice(k, mask.view(), ec.maps.view(), ro);
        ro.device = Device::cuda;
        const SliceRecon rg = reconstruct_slice(k, mask.view(), ec.maps.view(), ro);
        EXPECT_LT(nrmse(rc.magnitude.view(), rg.magnitude.view()), 1e-3) << method_name(m);
    }
}

TEST(MriGpu, WhiteningAndPocsParity) {
    LUMEN_REQUIRE_GPU();
    const Array<complex64> noise = test::random_complex(Shape{5, 400}, 4);
    const NoiseWhitening w = noise_whitening(noise.view(), 1.0, "parity");
    const Array<complex64> k = test::random_complex(Shape{5, 48, 40}, 5);
    Array<complex64> kc = k.clone(), kg = k.to(Device::cuda);
    apply_whitening(w, kc.view());
    apply_whitening(w, kg.view());
    EXPECT_LT(test::max_rel_diff(kc.view(), kg.view()), 1e-5);

    // POCS on a partial-Fourier plane (the first 12 of 40 columns left out).
    Array<float> mask(Shape{48, 40});
    fill(mask.view(), 1.0f);
    restrict_columns(mask.view(), 12, 40);
    const PartialFourier pf = detect_partial_fourier(mask.view(), 0, 48, 0, 40);
    ASSERT_TRUE(pf.cols.partial);
    Array<complex64> pc = k.clone(), pg = k.to(Device::cuda);
    pocs_partial_fourier(pc.view(), mask.view(), pf, 10);
    pocs_partial_fourier(pg.view(), mask.view(), pf, 10);
    EXPECT_LT(test::max_rel_diff(pc.view(), pg.view()), 1e-4);

    // The phase-constrained model of the iterative methods.
    const Array<complex64> maps = test::random_complex(Shape{5, 48, 40}, 6);
    const Array<complex64> est = test::random_complex(Shape{48, 40}, 7);
    const auto Ac = std::make_shared<SenseOperator>(maps.view(), mask.view(), Device::cpu);
    const auto Ag = std::make_shared<SenseOperator>(maps.view(), mask.view(), Device::cuda);
    const PhaseConstrained cc = phase_constrained(Ac, est.view(), pf);
    const Array<complex64> estd = est.to(Device::cuda);
    const PhaseConstrained cg = phase_constrained(Ag, estd.view(), pf);
    const Array<complex64> r = test::random_complex(Shape{48, 40}, 8);
    const Array<complex64> rd = r.to(Device::cuda);
    Array<complex64> nc(Shape{48, 40}), ng(Shape{48, 40}, Device::cuda);
    cc.op->apply_normal(r.view(), nc.view());
    cg.op->apply_normal(rd.view(), ng.view());
    EXPECT_LT(test::max_rel_diff(nc.view(), ng.view()), 1e-4);
}

TEST(MriGpu, DiscrepancyStopAndCycleSpinningParity) {
    // A column mask (the noise estimated from the readout margin), the default stop and, for
    // l1-wavelet, cycle spinning: the GPU stops at the same iterate with the same image.
    LUMEN_REQUIRE_GPU();
    SimulationOptions o;
    o.height = 128;
    o.width = 96;
    o.noise = 0.2;
    const SimulatedScan s = simulate(o);
    MaskSpec spec;
    spec.acceleration = 4.0;
    const Array<float> mask = make_mask(spec, 128, 96);
    const View<const complex64> k(s.kspace.data(), Shape{8, 128, 96});
    for (Method m : {Method::cg_sense, Method::l1_wavelet, Method::tv}) {
        ReconOptions ro;
        ro.method = m;
        ro.iterations = 40;
        const SliceRecon rc = reconstruct_slice(k, mask.view(), s.sensitivities.view(), ro);
        ro.device = Device::cuda;
        const SliceRecon rg = reconstruct_slice(k, mask.view(), s.sensitivities.view(), ro);
        EXPECT_EQ(rc.solver.stop_reason, rg.solver.stop_reason) << method_name(m);
        EXPECT_NEAR(rc.solver.iterations, rg.solver.iterations, 1) << method_name(m);
        EXPECT_NEAR(rc.noise_variance / rg.noise_variance, 1.0, 1e-3) << method_name(m);
        EXPECT_LT(nrmse(rc.magnitude.view(), rg.magnitude.view()), 1e-2) << method_name(m);
    }
}

TEST(MriGpu, ReadoutCropAndCoilCompressionParity) {
    LUMEN_REQUIRE_GPU();
    const Array<complex64> k = test::random_complex(Shape{6, 64, 36}, 4);
    const Array<complex64> kd = k.to(Device::cuda);
    const Array<complex64> c = crop_readout(k.view(), 32);
    const Array<complex64> cd = crop_readout(kd.view(), 32);
    EXPECT_EQ(cd.device(), Device::cuda);
    EXPECT_LT(test::max_rel_diff(c.view(), cd.view()), 1e-5);
    PreprocessOptions o;
    o.virtual_coils = 3;
    const CoilCompression cc = coil_compression(c.view(), o);
    const CoilCompression ccd = coil_compression(cd.view(), o);
    ASSERT_EQ(cc.virtual_coils, ccd.virtual_coils);
    const Array<complex64> v = compress_coils(cc, c.view());
    const Array<complex64> vd = compress_coils(cc, cd.view());
    EXPECT_LT(test::max_rel_diff(v.view(), vd.view()), 1e-5);
}
