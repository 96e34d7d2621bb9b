// Multi-slice ptychography (docs/ptychography.md, "Multi-slice"): the slice propagator's adjoint,
// the gradients with respect to every slice and the probe against finite differences, the
// reductions to the thin model (N = 1; a unit second slice; a vanishing slice distance), the
// per-slice step bounds, a two-slice reconstruction against the single-slice model on the same
// data, and the options refused by name. Thresholds are measured values with margin.
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "src/ptycho/model_impl.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

Array<float> small_positions(index_t J, index_t H, index_t W, index_t my, index_t mx, bool subpixel, std::uint64_t seed) {
    Array<float> u = test::random_real(Shape{J, 2}, seed);
    Array<float> p(Shape{J, 2});
    for (index_t j = 0; j < J; ++j) {
        const double r = 0.5 * (u[2 * j] + 1.0) * double(H - my - 1);
        const double c = 0.5 * (u[2 * j + 1] + 1.0) * double(W - mx - 1);
        p[2 * j] = float(subpixel ? r : std::round(r));
        p[2 * j + 1] = float(subpixel ? c : std::round(c));
    }
    return p;
}

ModelOptions slice_options(index_t slices, double a, index_t batch = 3, index_t modes = 1) {
    ModelOptions o;
    o.batch = batch;
    o.modes = modes;
    o.slices = slices;
    o.slice_fresnel_y = a;
    o.slice_fresnel_x = 0.8 * a;
    return o;
}

// Objects near 1 (transmission functions), so that no slice is far from the physical regime.
Array<complex64> near_unit(const Shape& shape, std::uint64_t seed) {
    Array<complex64> o = test::random_complex(shape, seed);
    for (index_t i = 0; i < o.size(); ++i) o[i] = complex64(1.0f, 0.0f) + o[i] * 0.3f;
    return o;
}

Array<complex64> toward(const Array<complex64>& g, Array<complex64> r) {
    const double a = norm2(r.view()) / norm2(g.view());
    axpy(complex64(float(a)), g.view(), r.view());
    return r;
}

void report(const char* what, double value) { std::printf("[ measured ] %s = %.4g\n", what, value); }

}  // namespace

// Prop_dz is unitary and Prop_{-dz} (the conjugate transfer function) is its adjoint.
TEST(PtychoMultislice, SlicePropagationAdjointIsBackPropagation) {
    const index_t my = 12, mx = 10;
    Model model(Shape{20, 20}, Shape{my, mx}, small_positions(3, 20, 20, my, mx, false, 1), Device::cpu,
                slice_options(2, 0.35, 0));
    const Model::Impl& s = model.internals();
    const Array<complex64> x = test::random_complex(Shape{my * mx}, 2), y = test::random_complex(Shape{my * mx}, 3);
    Array<complex64> px = x.clone(), py = y.clone();
    s.propagate_slice(s.plan_one, px.view(), 1, false);
    s.propagate_slice(s.plan_one, py.view(), 1, true);
    const auto lhs = dot(px.view(), y.view()), rhs = dot(x.view(), py.view());
    const double scale = norm2(x.view()) * norm2(y.view());
    EXPECT_LT(std::hypot(double(lhs.re - rhs.re), double(lhs.im - rhs.im)) / scale, 1e-6);
    EXPECT_NEAR(norm2(px.view()), norm2(x.view()), 1e-5 * norm2(x.view()));
    // Not the identity: the test above could not tell otherwise.
    EXPECT_GT(test::max_rel_diff(px.view(), x.view()), 0.1);
    s.propagate_slice(s.plan_one, px.view(), 1, true);
    EXPECT_LT(test::max_rel_diff(px.view(), x.view()), 1e-5);
}

namespace {

// f(O_1..O_N, P) and its gradients for data from other slices; Re<grad, d> against central
// differences along random directions of every slice and of the probe.
void check_slice_gradients(Loss loss, index_t slices, index_t modes, bool subpixel, double near_field = 0) {
    const index_t H = 22, W = 21, my = 8, mx = 8, J = 8, hw = H * W;
    ModelOptions mo = slice_options(slices, 0.3, 3, modes);
    mo.fresnel_y = near_field;
    mo.fresnel_x = near_field;
    Model model(Shape{H, W}, Shape{my, mx}, small_positions(J, H, W, my, mx, subpixel, 21), Device::cpu, mo);
    const Shape ps = modes > 1 ? Shape{modes, my, mx} : Shape{my, mx};
    const Shape os{slices, H, W};
    const Array<complex64> probe = test::random_complex(ps, 22), obj = near_unit(os, 23);
    model.set_probe(probe);
    Array<float> y(model.data_shape());
    model.intensities(near_unit(os, 24), y);
    model.set_data(y);

    Array<complex64> go(os), gp(ps);
    const double f0 = model.loss(loss, obj, go, gp);
    ASSERT_GT(f0, 0.0);
    // The bounds that pass computed on the way are those of a pass of their own.
    const std::vector<double> bounds = model.lipschitz_slices(obj);
    ASSERT_EQ(model.last_lipschitz_slices().size(), std::size_t(slices));
    for (index_t n = 0; n < slices; ++n)
        EXPECT_NEAR(model.last_lipschitz_slices()[std::size_t(n)] / bounds[std::size_t(n)], 1.0, 1e-6);
    for (index_t n = 0; n < slices; ++n) {
        // A direction in slice n only, partly along that slice's gradient.
        Array<complex64> g_n(Shape{H, W}), d(os);
        for (index_t i = 0; i < hw; ++i) g_n[i] = go[n * hw + i];
        const Array<complex64> d_n = toward(g_n, test::random_complex(Shape{H, W}, 100 + std::uint64_t(n)));
        fill(d.view(), complex64(0.0f));
        for (index_t i = 0; i < hw; ++i) d[n * hw + i] = d_n[i];
        const double t = 2e-4 * norm2(obj) / norm2(d);
        Array<complex64> plus = obj.clone(), minus = obj.clone();
        axpy(complex64(float(t)), d, plus.view());
        axpy(complex64(float(-t)), d, minus.view());
        const double fd = (model.loss(loss, plus, {}, {}) - model.loss(loss, minus, {}, {})) / (2 * t);
        const double an = dot(go, d).re;
        EXPECT_NEAR(an, fd, 2e-3 * std::fabs(an)) << loss_name(loss) << " slice " << n + 1 << " of " << slices;
    }
    const Array<complex64> e = toward(gp, test::random_complex(ps, 200));
    const double s = 2e-4 * norm2(probe) / norm2(e);
    Array<complex64> pp = probe.clone(), pm = probe.clone();
    axpy(complex64(float(s)), e, pp.view());
    axpy(complex64(float(-s)), e, pm.view());
    model.set_probe(pp);
    const double fp = model.loss(loss, obj, {}, {});
    model.set_probe(pm);
    const double fm = model.loss(loss, obj, {}, {});
    const double anp = dot(gp, e).re;
    EXPECT_NEAR(anp, (fp - fm) / (2 * s), 2e-3 * std::fabs(anp)) << loss_name(loss) << " probe, " << slices << " slices";
}

}  // namespace

TEST(PtychoMultislice, GradientsOfEverySliceAndTheProbeMatchFiniteDifferences) {
    check_slice_gradients(Loss::amplitude, 3, 1, true);
    check_slice_gradients(Loss::intensity, 2, 1, false);
    check_slice_gradients(Loss::poisson, 2, 1, true);
    // Incoherent probe modes: each mode's wave goes through the same slices.
    check_slice_gradients(Loss::amplitude, 2, 2, true);
    // Near field: the detector propagation after the last slice is the Fresnel one.
    check_slice_gradients(Loss::amplitude, 2, 1, true, 0.6);
}

// N = 1 is the single-slice model: the slice coefficients are ignored, the results bitwise equal.
TEST(PtychoMultislice, OneSliceIsTheSingleSliceModelBitwise) {
    const index_t H = 22, W = 21, my = 8, mx = 8, J = 8;
    const Array<float> pos = small_positions(J, H, W, my, mx, true, 5);
    Model thin(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, ModelOptions{3, true});
    Model one(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, slice_options(1, 0.3));
    EXPECT_EQ(one.object_stack_shape(), Shape({H, W}));
    const Array<complex64> probe = test::random_complex(Shape{my, mx}, 6), obj = near_unit(Shape{H, W}, 7);
    thin.set_probe(probe);
    one.set_probe(probe);
    Array<float> y(thin.data_shape()), y1(thin.data_shape());
    thin.intensities(near_unit(Shape{H, W}, 8), y);
    one.intensities(near_unit(Shape{H, W}, 8), y1);
    EXPECT_TRUE(test::same_bits(y.view(), y1.view()));
    thin.set_data(y);
    one.set_data(y);
    Array<complex64> go(Shape{H, W}), gp(Shape{my, mx}), go1(Shape{H, W}), gp1(Shape{my, mx});
    EXPECT_EQ(thin.loss(Loss::amplitude, obj, go, gp), one.loss(Loss::amplitude, obj, go1, gp1));
    EXPECT_TRUE(test::same_bits(go.view(), go1.view()));
    EXPECT_TRUE(test::same_bits(gp.view(), gp1.view()));
    const std::vector<double> bounds = one.lipschitz_slices(obj);
    ASSERT_EQ(bounds.size(), 1u);
    EXPECT_EQ(bounds[0], thin.lipschitz_object());
}

// Two physical limits of the thin model: a unit second slice only multiplies the far field by the
// transfer function's phase (the intensities do not change), and a vanishing slice distance is
// the projection approximation (the product of the slices as one object).
TEST(PtychoMultislice, UnitSecondSliceAndZeroDistanceReduceToTheThinModel) {
    const index_t H = 22, W = 21, my = 8, mx = 8, J = 8, hw = H * W;
    const Array<float> pos = small_positions(J, H, W, my, mx, true, 9);
    const Array<complex64> probe = test::random_complex(Shape{my, mx}, 10);
    const Array<complex64> o1 = near_unit(Shape{H, W}, 11), o2 = near_unit(Shape{H, W}, 12);
    Model thin(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, ModelOptions{3, true});
    thin.set_probe(probe);
    Array<float> y_thin(thin.data_shape()), y(thin.data_shape());

    Model thick(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, slice_options(2, 0.4));
    thick.set_probe(probe);
    Array<complex64> stack(Shape{2, H, W});
    for (index_t i = 0; i < hw; ++i) {
        stack[i] = o1[i];
        stack[hw + i] = complex64(1.0f, 0.0f);
    }
    thin.intensities(o1, y_thin);
    thick.intensities(stack, y);
    const double unit_diff = test::max_rel_diff(y.view(), y_thin.view());
    report("unit second slice: max relative intensity difference", unit_diff);
    EXPECT_LT(unit_diff, 1e-4);

    // dz -> 0: the product.
    Model flat(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, slice_options(2, 1e-9));
    flat.set_probe(probe);
    Array<complex64> product(Shape{H, W});
    for (index_t i = 0; i < hw; ++i) {
        stack[hw + i] = o2[i];
        product[i] = o1[i] * o2[i];
    }
    thin.intensities(product, y_thin);
    flat.intensities(stack, y);
    EXPECT_LT(test::max_rel_diff(y.view(), y_thin.view()), 1e-4);
    // ... and at a real distance the slices no longer multiply (the test above can fail).
    thick.intensities(stack, y);
    const double thick_diff = test::max_rel_diff(y.view(), y_thin.view());
    report("dz = 0.4 (n p)^2 / lambda: max relative difference to the projection", thick_diff);
    EXPECT_GT(thick_diff, 0.05);
}

// L_n bounds the linear map of slice n: with slice n replaced by a direction d, the far field is
// A_n d, so sum |Psi|^2 <= L_n ||d||^2 (L_n does not depend on slice n itself).
TEST(PtychoMultislice, SliceBoundsHoldForRandomDirections) {
    const index_t H = 22, W = 21, my = 8, mx = 8, J = 10, N = 3, hw = H * W;
    Model model(Shape{H, W}, Shape{my, mx}, small_positions(J, H, W, my, mx, true, 13), Device::cpu,
                slice_options(N, 0.5, 4, 2));
    model.set_probe(test::random_complex(Shape{2, my, mx}, 14));
    const Array<complex64> obj = near_unit(Shape{N, H, W}, 15);
    const std::vector<double> bound = model.lipschitz_slices(obj);
    ASSERT_EQ(bound.size(), std::size_t(N));
    Array<float> y(model.data_shape());
    for (index_t n = 0; n < N; ++n)
        for (std::uint64_t trial = 0; trial < 3; ++trial) {
            Array<complex64> probe_stack = obj.clone();
            const Array<complex64> d = test::random_complex(Shape{H, W}, 300 + 10 * std::uint64_t(n) + trial);
            for (index_t i = 0; i < hw; ++i) probe_stack[n * hw + i] = d[i];
            model.intensities(probe_stack, y);
            double energy = 0;
            for (index_t i = 0; i < y.size(); ++i) energy += y[i];
            const double ratio = energy / (bound[std::size_t(n)] * norm2_squared(d.view()));
            EXPECT_LE(ratio, 1.0) << "slice " << n + 1;
            EXPECT_GT(ratio, 0.01) << "slice " << n + 1;  // a bound, not a vacuous one
        }
    // The probe bound likewise, with the probe as the direction.
    const Array<complex64> e = test::random_complex(Shape{2, my, mx}, 16);
    model.set_probe(e);
    model.intensities(obj, y);
    double energy = 0;
    for (index_t i = 0; i < y.size(); ++i) energy += y[i];
    EXPECT_LE(energy, model.lipschitz_probe(obj) * norm2_squared(e.view()));
}

namespace {

// A noiseless two-slice scan, 64 positions of frame x frame, slices dz apart.
SimulationOptions thick_scan(index_t frame, double dz) {
    SimulationOptions o;
    o.frame = frame;
    o.positions = 64;
    o.photons = 1e5;
    o.poisson = false;
    o.seed = 4;
    o.slices = 2;
    o.slice_distance_m = dz;
    return o;
}

// Per-slice NRMSE over the illuminated region with a complex scale removed (the slices trade a
// constant factor: c O_1, O_2 / c give the same waves).
double slice_nrmse(const Scan& scan, const Array<complex64>& slices, index_t n, const Array<float>& region) {
    const index_t hw = scan.object_shape.size();
    const View<const complex64> truth(scan.true_slices.data() + n * hw, scan.object_shape, Device::cpu);
    const View<const complex64> est(slices.data() + n * hw, scan.object_shape, Device::cpu);
    return nrmse_complex(truth, est, true, true, region);
}

struct Comparison {
    double fit_thin, fit_thick;                 // far-field misfit: mean (sqrt y - |Psi|)^2 per pixel
    double projection_thin, projection_thick;   // the projection (product) against the true product
    double slice1, slice2;                      // the two-slice run's slices against the true slices
};

// The same scan (true probe, held fixed, for both: the comparison is about the object model)
// reconstructed with the thin model and with two slices, scored fairly for both: the data misfit
// and the projection against the true projection; the slices for the two-slice model alone.
Comparison compare_models(index_t frame, double dz, int iterations) {
    const Scan scan = simulate(thick_scan(frame, dz));
    EXPECT_EQ(scan.true_slices.dim(0), 2);
    ReconOptions thin;
    thin.iterations = iterations;
    thin.refine_probe = false;
    ReconOptions thick = thin;
    thick.slices = 2;  // the distance comes from the scan
    const ReconResult r1 = reconstruct(scan, thin);
    const ReconResult r2 = reconstruct(scan, thick);
    EXPECT_EQ(r2.slices.shape(), Shape({2, scan.object_shape[0], scan.object_shape[1]}));
    EXPECT_DOUBLE_EQ(r2.slice_distance, dz);
    EXPECT_TRUE(r1.slices.empty());
    Model m(scan.object_shape, scan.probe_shape(), scan.positions, Device::cpu);
    m.set_probe(scan.true_probe);
    const Array<float> region = illuminated_region(m.illumination(), 0.1);
    Comparison c{r1.residual.per_pixel(), r2.residual.per_pixel(), r1.quality.nrmse, r2.quality.nrmse,
                 slice_nrmse(scan, r2.slices, 0, region), slice_nrmse(scan, r2.slices, 1, region)};
    report("single-slice: residual per pixel", c.fit_thin);
    report("two-slice: residual per pixel", c.fit_thick);
    report("single-slice: projection NRMSE", c.projection_thin);
    report("two-slice: projection NRMSE", c.projection_thick);
    report("two-slice: slice 1 NRMSE", c.slice1);
    report("two-slice: slice 2 NRMSE", c.slice2);
    return c;
}

}  // namespace

// On a two-slice object far enough apart that the projection approximation fails, the
// multi-slice model fits the data and recovers the slices; the single-slice model cannot fit.
// 16x16 frames (8 keV, 2 m, 75 um pixels: object pixels of 258 nm), dz = 8 mm: lambda dz / (n p)^2
// = 0.073, a Fresnel phase of 15 rad at the window's highest frequency. 150 iterations.
TEST(PtychoMultislice, TwoSlicesBeatTheProjectionApproximation) {
    const Comparison c = compare_models(16, 8e-3, 150);
    // Measured: misfit 0.577 (thin) against 0.0100 (two slices); projection NRMSE 0.103 against
    // 0.0132; slices 0.0127 and 0.0136.
    EXPECT_LT(c.fit_thick, 0.05 * c.fit_thin);
    EXPECT_LT(c.projection_thick, 0.5 * c.projection_thin);
    EXPECT_LT(c.slice1, 0.03);
    EXPECT_LT(c.slice2, 0.03);
}

// The same on 32x32 frames (129 nm pixels) with dz = 1 mm (lambda dz / (n p)^2 = 0.009, 7 rad at
// the highest frequency), 400 iterations: 4 s on an idle 2-core VM, a minute under shared load (sweep).
TEST(PtychoMultisliceSweep, TwoSlicesOnLargerFrames) {
    if (!std::getenv("LUMEN_PTYCHO_SWEEP")) GTEST_SKIP() << "LUMEN_PTYCHO_SWEEP=1 runs the sweep";
    const Comparison c = compare_models(32, 1e-3, 400);
    // Measured: misfit 0.0543 against 0.00339; projection 0.069 against 0.026; slices 0.018, 0.019.
    EXPECT_LT(c.fit_thick, 0.15 * c.fit_thin);
    EXPECT_LT(c.projection_thick, 0.6 * c.projection_thin);
    EXPECT_LT(c.slice1, 0.04);
    EXPECT_LT(c.slice2, 0.04);
}

TEST(PtychoMultislice, BadOptionsAreRefusedByName) {
    ReconOptions o;
    o.slices = 0;
    EXPECT_EQ(test::invalid_option_field([&] { o.validate(); }), "ReconOptions.slices");
    o.slices = 2;
    o.method = Method::epie;
    EXPECT_EQ(test::invalid_option_field([&] { o.validate(); }), "ReconOptions.slices");
    o.method = Method::rpie;
    EXPECT_EQ(test::invalid_option_field([&] { o.validate(); }), "ReconOptions.slices");
    o.method = Method::awf;
    o.refine_positions = true;
    EXPECT_EQ(test::invalid_option_field([&] { o.validate(); }), "ReconOptions.slices");
    o.refine_positions = false;
    o.slice_distance = -1e-6;
    EXPECT_EQ(test::invalid_option_field([&] { o.validate(); }), "ReconOptions.slice_distance");
    o.slice_distance = 0;
    o.checkpoint.save = [](const SolverState&) {};
    EXPECT_EQ(test::invalid_option_field([&] { o.validate(); }), "ReconOptions.checkpoint");
    o.checkpoint = {};
    EXPECT_NO_THROW(o.validate());
    // A scan that does not say its slice distance: required.
    SimulationOptions so;
    so.frame = 16;
    so.positions = 9;
    const Scan scan = simulate(so);
    EXPECT_EQ(test::invalid_option_field([&] { reconstruct(scan, o); }), "ReconOptions.slice_distance");

    SimulationOptions bad = so;
    bad.slices = 0;
    EXPECT_EQ(test::invalid_option_field([&] { bad.validate(); }), "SimulationOptions.slices");
    bad.slices = 2;
    EXPECT_EQ(test::invalid_option_field([&] { bad.validate(); }), "SimulationOptions.slice_distance_m");
}
