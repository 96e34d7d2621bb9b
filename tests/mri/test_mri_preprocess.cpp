// Readout-oversampling removal and coil compression (lumen/mri/preprocess.hpp) on simulated scans
// (8 coils, 128x96 k-space: the readout 2x oversampled for a 64-row recon box, 64x64 output), with
// measured thresholds.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/preprocess.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

constexpr index_t kC = 8, kH = 128, kW = 96, kR = 64;

SimulatedScan scan(double noise = 0.02, index_t coils = kC) {
    SimulationOptions o;
    o.height = kH;
    o.width = kW;
    o.coils = coils;
    o.recon_height = kR;
    o.recon_width = kR;
    o.noise = noise;
    o.seed = 7;
    return simulate(o);
}

Array<float> mask_of(MaskKind kind, double acc) {
    MaskSpec spec;
    spec.kind = kind;
    spec.acceleration = acc;
    spec.seed = 3;
    return make_mask(spec, kH, kW);
}

Array<complex64> masked(const SimulatedScan& s, const Array<float>& mask) {
    Array<complex64> y(Shape{s.sensitivities.dim(0), kH, kW});
    apply_mask(s.kspace.view().item(0), mask.view(), y.view());
    return y;
}

// max |a - b| / max |a|
template <class T>
double max_relative_difference(const Array<T>& a, const Array<T>& b) {
    EXPECT_EQ(a.shape(), b.shape());
    double diff = 0.0, peak = 0.0;
    for (index_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, double(abs(a[i] - b[i])));
        peak = std::max(peak, double(abs(a[i])));
    }
    return diff / peak;
}

Array<float> zero_filled_rss(const Array<complex64>& y) {
    Array<complex64> x = y.clone();
    ifft_centered(x.view());
    Array<float> out(Shape{x.dim(1), x.dim(2)});
    rss(x.view(), out.view());
    return out;
}

// CG-SENSE, 30 iterations, centre 64x64 magnitude.
Array<float> cg_sense(const Array<complex64>& y, const Array<float>& mask, const Array<complex64>& maps) {
    ReconOptions o;
    o.method = Method::cg_sense;
    o.iterations = 30;
    o.stop = Stop::iterations;
    const SliceRecon r = reconstruct_slice(y.view(), mask.view(), maps.view(), o);
    Array<float> c = center_crop(r.magnitude.view(), kR, kR);
    c.reshape(Shape{1, kR, kR});
    return c;
}

double energy(const Array<complex64>& a) { return norm2_squared(View<const complex64>(a.view())); }

}  // namespace

TEST(MriPreprocess, ReadoutCropGivesTheZeroFilledImageOfTheFullGridCropped) {
    const SimulatedScan s = scan();
    const Array<float> mask = mask_of(MaskKind::random, 4.0);
    ASSERT_TRUE(mask_constant_along_readout(mask.view()));
    const Array<complex64> y = masked(s, mask);
    const Array<float> full = center_crop(zero_filled_rss(y).view(), kR, kW);
    const Array<float> cropped = zero_filled_rss(crop_readout(y.view(), kR));
    const double d = max_relative_difference(full, cropped);
    std::printf("zero-filled, cropped readout vs full grid cropped after: max rel diff %.3g\n", d);
    EXPECT_LT(d, 1e-5);  // measured 1.0e-7 (float rounding of two extra FFTs)
}

TEST(MriPreprocess, ReadoutCropGivesTheSenseAdjointOfTheFullGridCropped) {
    const SimulatedScan s = scan();
    const Array<float> mask = mask_of(MaskKind::random, 4.0);
    const Array<complex64> y = masked(s, mask);
    const SenseOperator full(s.sensitivities.view(), mask.view(), Device::cpu);
    Array<complex64> x_full(Shape{kH, kW});
    full.apply_adjoint(y.view(), x_full.view());
    const PreparedSlice p = prepare_slice(y.clone(), mask.view(), s.sensitivities.view(), kR, PreprocessOptions{
                                                                                               true, 1.0, 0});
    ASSERT_TRUE(p.readout_cropped);
    EXPECT_EQ(p.kspace.shape(), (Shape{kC, kR, kW}));
    EXPECT_EQ(p.maps.shape(), (Shape{kC, kR, kW}));
    const SenseOperator cropped(p.maps.view(), p.mask.view(), Device::cpu);
    Array<complex64> x_cropped(Shape{kR, kW});
    cropped.apply_adjoint(p.kspace.view(), x_cropped.view());
    const double d = max_relative_difference(center_crop(x_full.view(), kR, kW), x_cropped);
    std::printf("SENSE adjoint, cropped readout vs full grid cropped after: max rel diff %.3g\n", d);
    EXPECT_LT(d, 1e-5);  // measured 1.4e-7
}

TEST(MriPreprocess, CgSenseOnTheCroppedReadoutMatchesTheFullGrid) {
    const SimulatedScan s = scan();
    const Array<float> mask = mask_of(MaskKind::random, 4.0);
    const Array<complex64> y = masked(s, mask);
    const Array<float> full = cg_sense(y, mask, s.sensitivities);
    const PreparedSlice p = prepare_slice(y.clone(), mask.view(), s.sensitivities.view(), kR, PreprocessOptions{
                                                                                               true, 1.0, 0});
    const Array<float> cropped = cg_sense(p.kspace, p.mask, p.maps);
    const double between = nrmse(full.view(), cropped.view());
    const double e_full = nrmse(s.target.view(), full.view()), e_cropped = nrmse(s.target.view(), cropped.view());
    std::printf("CG-SENSE 30 it: cropped vs full %.4g; NRMSE vs truth full %.4g, cropped %.4g\n", between, e_full,
                e_cropped);
    // The readout rows decouple (the mask is the same on every row), so both solve the same
    // problem on the kept rows; they differ by CG's iterates (different inner products) and the
    // data scale s (the 99th percentile over a grid without the air rows).
    EXPECT_LT(between, 1e-3);            // measured 3.9e-5
    EXPECT_LT(e_cropped, e_full * 1.01);  // measured: full 0.4856, cropped 0.4856 (true maps, no fit of scale)
}

TEST(MriPreprocess, TwoDimensionalMasksKeepTheFullGrid) {
    const SimulatedScan s = scan();
    const Array<float> mask = mask_of(MaskKind::poisson, 4.0);
    EXPECT_FALSE(mask_constant_along_readout(mask.view()));
    const PreparedSlice p = prepare_slice(masked(s, mask), mask.view(), {}, kR, PreprocessOptions{true, 1.0, 0});
    EXPECT_FALSE(p.readout_cropped);
    EXPECT_EQ(p.kspace.shape(), (Shape{kC, kH, kW}));
    // Nor when the caller says no (a partial-Fourier model), nor with the option off.
    const Array<float> rows = mask_of(MaskKind::random, 4.0);
    EXPECT_FALSE(prepare_slice(masked(s, rows), rows.view(), {}, kR, PreprocessOptions{true, 1.0, 0}, false)
                     .readout_cropped);
    EXPECT_FALSE(prepare_slice(masked(s, rows), rows.view(), {}, kR, PreprocessOptions{false, 1.0, 0}).readout_cropped);
    EXPECT_TRUE(prepare_slice(masked(s, rows), rows.view(), {}, kR, PreprocessOptions{true, 1.0, 0}).readout_cropped);
}

TEST(MriPreprocess, CoilCompressionKeepsTheEnergyItPromises) {
    const SimulatedScan s = scan();
    const Array<float> mask = mask_of(MaskKind::random, 4.0);
    const Array<complex64> y = masked(s, mask);
    const double total = energy(y);
    index_t last = 0;
    for (double f : {0.5, 0.8, 0.9, 0.95, 0.99}) {
        const CoilCompression cc = coil_compression(y.view(), PreprocessOptions{true, f, 0});
        const Array<complex64> v = compress_coils(cc, y.view());
        const double kept = energy(v) / total;
        std::printf("energy %.2f: %lld virtual coils, kept %.5f (promised %.5f)\n", f, (long long)cc.virtual_coils,
                    kept, cc.kept_fraction);
        EXPECT_EQ(v.dim(0), cc.virtual_coils);
        EXPECT_GE(kept, f);
        EXPECT_NEAR(kept, cc.kept_fraction, 1e-4);  // float data vs the double eigenvalues: measured < 1e-6
        EXPECT_GE(cc.virtual_coils, last);
        last = cc.virtual_coils;
        // Fewest: one coil fewer would not hold f.
        if (cc.virtual_coils > 1) {
            double less = 0.0, all = 0.0;
            for (std::size_t i = 0; i < cc.energy.size(); ++i) {
                all += cc.energy[i];
                if (index_t(i) < cc.virtual_coils - 1) less += cc.energy[i];
            }
            EXPECT_LT(less / all, f);
        }
    }
    EXPECT_LT(last, kC);
    // All coils kept: a unitary change of coil basis, so every sample's coil-vector norm stays.
    const CoilCompression all = coil_compression(y.view(), PreprocessOptions{true, 1.0, 0});
    EXPECT_EQ(all.virtual_coils, kC);
    Array<float> a(Shape{kH, kW}), b(Shape{kH, kW});
    rss(y.view(), a.view());
    rss(compress_coils(all, y.view()).view(), b.view());
    std::printf("all coils as virtual coils: RSS max rel diff %.3g\n", max_relative_difference(a, b));
    EXPECT_LT(max_relative_difference(a, b), 1e-5);  // measured 1.1e-7
    EXPECT_EQ(coil_compression(y.view(), PreprocessOptions{true, 0.5, 3}).virtual_coils, 3);
    // A floor (a coil split over processes needs a coil each) raises the energy rule's count,
    // never above the coils there are.
    const index_t few = coil_compression(y.view(), PreprocessOptions{true, 0.5, 0}).virtual_coils;
    EXPECT_EQ(coil_compression(y.view(), PreprocessOptions{true, 0.5, 0, int(few) + 2}).virtual_coils, few + 2);
    EXPECT_EQ(coil_compression(y.view(), PreprocessOptions{true, 0.5, 0, int(kC) + 5}).virtual_coils, kC);
}

TEST(MriPreprocess, CompressedCoilsReconstructAsWellAsAllCoils) {
    // ESPIRiT maps and CG-SENSE, as lumen-mri recon does, on all coils and on the default
    // compression; the NRMSE against the noiseless truth. 16 coils (with 8, the default keeps all).
    constexpr index_t kCoils = 16;
    const SimulatedScan s = scan(0.02, kCoils);
    const Array<float> mask = mask_of(MaskKind::random, 4.0);
    const Array<complex64> y = masked(s, mask);
    auto run = [&](const PreprocessOptions& o, index_t* coils) {
        const PreparedSlice p = prepare_slice(y.clone(), mask.view(), {}, kR, o);
        *coils = p.virtual_coils;
        const Array<complex64> maps = espirit(p.kspace.view(), p.mask.view(), EspiritOptions{}, Device::cpu).maps;
        return nrmse(s.target.view(), cg_sense(p.kspace, p.mask, maps).view());
    };
    index_t all_coils = 0, few = 0;
    const double e_all = run(PreprocessOptions{true, 1.0, 0}, &all_coils);
    const double e_cc = run(PreprocessOptions{}, &few);
    std::printf("ESPIRiT + CG-SENSE: all %lld coils NRMSE %.4g, %lld virtual coils %.4g\n", (long long)all_coils, e_all,
                (long long)few, e_cc);
    EXPECT_EQ(all_coils, kCoils);
    EXPECT_LT(few, kCoils);
    EXPECT_LT(e_cc, e_all * 1.02);  // measured: 16 coils 0.2249, 11 virtual coils 0.2255 (+0.3 %)
}

TEST(MriPreprocess, OptionsAreValidatedNamingTheField) {
    EXPECT_EQ(test::invalid_option_field([] { PreprocessOptions{true, 0.0, 0}.validate(); }),
              "PreprocessOptions.coil_energy");
    EXPECT_EQ(test::invalid_option_field([] { PreprocessOptions{true, 1.5, 0}.validate(); }),
              "PreprocessOptions.coil_energy");
    EXPECT_EQ(test::invalid_option_field([] { PreprocessOptions{true, 0.9, -1}.validate(); }),
              "PreprocessOptions.virtual_coils");
    EXPECT_EQ(test::invalid_option_field([] { PreprocessOptions{true, 0.9, 0, 0}.validate(); }),
              "PreprocessOptions.min_virtual_coils");
    EXPECT_NO_THROW(PreprocessOptions{}.validate());
}
