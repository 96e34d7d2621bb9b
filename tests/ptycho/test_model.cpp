// The ptychography forward model: adjoint (dot-product) tests of the object and probe operators,
// a reference test against a slow direct implementation (direct DFTs, direct Fourier shifts),
// the Wirtinger gradients of the three losses against finite differences, step-size maps.
#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;
using cd = std::complex<double>;

namespace {

// A small scan: J positions inside an object, optionally with sub-pixel remainders.
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

cd to_cd(complex64 v) { return {v.re, v.im}; }

// Unitary 2-D DFT of an [my][mx] frame, sign -1 forward.
std::vector<cd> dft2(const std::vector<cd>& x, index_t my, index_t mx, int sign) {
    std::vector<cd> out(x.size());
    for (index_t ky = 0; ky < my; ++ky)
        for (index_t kx = 0; kx < mx; ++kx) {
            cd acc = 0;
            for (index_t y = 0; y < my; ++y)
                for (index_t x0 = 0; x0 < mx; ++x0)
                    acc += x[std::size_t(y * mx + x0)] *
                           std::polar(1.0, sign * 2 * kPi * (double(ky * y) / double(my) + double(kx * x0) / double(mx)));
            out[std::size_t(ky * mx + kx)] = acc / std::sqrt(double(my * mx));
        }
    return out;
}

// The probe moved by (fy, fx) pixels: multiply its spectrum by exp(-2 pi i k f / n) with signed k.
std::vector<cd> shift_probe(const std::vector<cd>& p, index_t my, index_t mx, double fy, double fx) {
    std::vector<cd> s = dft2(p, my, mx, -1);
    for (index_t ky = 0; ky < my; ++ky)
        for (index_t kx = 0; kx < mx; ++kx) {
            const double sy = double(ky < (my + 1) / 2 ? ky : ky - my), sx = double(kx < (mx + 1) / 2 ? kx : kx - mx);
            s[std::size_t(ky * mx + kx)] *= std::polar(1.0, -2 * kPi * (sy * fy / double(my) + sx * fx / double(mx)));
        }
    return dft2(s, my, mx, +1);
}

struct ModelSetup {
    index_t H, W, my, mx, J;
    bool subpixel;
    index_t batch;
};

class ModelCase : public ::testing::TestWithParam<ModelSetup> {};

}  // namespace

TEST_P(ModelCase, ObjectAndProbeOperatorsAreAdjoint) {
    const ModelSetup c = GetParam();
    Model model(Shape{c.H, c.W}, Shape{c.my, c.mx}, small_positions(c.J, c.H, c.W, c.my, c.mx, c.subpixel, 3),
                Device::cpu, ModelOptions{c.batch, true});
    EXPECT_EQ(model.subpixel(), c.subpixel);
    model.set_probe(test::random_complex(Shape{c.my, c.mx}, 4));
    EXPECT_LT(adjoint_test(*object_operator(model), 11), 1e-5);
    const Array<complex64> obj = test::random_complex(Shape{c.H, c.W}, 5);
    EXPECT_LT(adjoint_test(*probe_operator(model, obj), 12), 1e-5);
}

TEST_P(ModelCase, FarFieldMatchesDirectComputation) {
    const ModelSetup c = GetParam();
    const Array<float> pos = small_positions(c.J, c.H, c.W, c.my, c.mx, c.subpixel, 7);
    Model model(Shape{c.H, c.W}, Shape{c.my, c.mx}, pos, Device::cpu, ModelOptions{c.batch, true});
    const Array<complex64> probe = test::random_complex(Shape{c.my, c.mx}, 8);
    const Array<complex64> obj = test::random_complex(Shape{c.H, c.W}, 9);
    model.set_probe(probe);
    Array<complex64> psi(model.data_shape());
    model.far_field(obj, psi);

    std::vector<cd> p(std::size_t(c.my * c.mx));
    for (index_t i = 0; i < c.my * c.mx; ++i) p[std::size_t(i)] = to_cd(probe[i]);
    double err = 0, ref = 0;
    for (index_t j = 0; j < c.J; ++j) {
        const double r = pos[2 * j], col = pos[2 * j + 1];
        const index_t r0 = index_t(std::floor(r)), c0 = index_t(std::floor(col));
        const std::vector<cd> pj = shift_probe(p, c.my, c.mx, r - double(r0), col - double(c0));
        std::vector<cd> exit(pj.size());
        for (index_t y = 0; y < c.my; ++y)
            for (index_t x = 0; x < c.mx; ++x)
                exit[std::size_t(y * c.mx + x)] = pj[std::size_t(y * c.mx + x)] * to_cd(obj[(r0 + y) * c.W + c0 + x]);
        const std::vector<cd> far = dft2(exit, c.my, c.mx, -1);
        for (index_t i = 0; i < c.my * c.mx; ++i) {
            err = std::max(err, std::abs(to_cd(psi[j * c.my * c.mx + i]) - far[std::size_t(i)]));
            ref = std::max(ref, std::abs(far[std::size_t(i)]));
        }
    }
    EXPECT_LT(err / ref, 2e-5);

    // The illumination map and the object power map against direct sums.
    const Array<float> illum = model.illumination();
    const Array<float> power = model.object_power(obj);
    std::vector<double> illum_ref(std::size_t(c.H * c.W), 0.0), power_ref(std::size_t(c.my * c.mx), 0.0);
    for (index_t j = 0; j < c.J; ++j) {
        const index_t r0 = model.corners()[2 * j], c0 = model.corners()[2 * j + 1];
        const std::vector<cd> pj = shift_probe(p, c.my, c.mx, model.remainders()[2 * j], model.remainders()[2 * j + 1]);
        for (index_t y = 0; y < c.my; ++y)
            for (index_t x = 0; x < c.mx; ++x) {
                illum_ref[std::size_t((r0 + y) * c.W + c0 + x)] += std::norm(pj[std::size_t(y * c.mx + x)]);
                power_ref[std::size_t(y * c.mx + x)] += std::norm(to_cd(obj[(r0 + y) * c.W + c0 + x]));
            }
    }
    double e1 = 0, e2 = 0;
    for (index_t i = 0; i < illum.size(); ++i) e1 = std::max(e1, std::fabs(illum[i] - illum_ref[std::size_t(i)]));
    for (index_t i = 0; i < power.size(); ++i) e2 = std::max(e2, std::fabs(power[i] - power_ref[std::size_t(i)]));
    EXPECT_LT(e1, 1e-4 * (*std::max_element(illum_ref.begin(), illum_ref.end())));
    EXPECT_LT(e2, 1e-4 * (*std::max_element(power_ref.begin(), power_ref.end())));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ModelCase,
                         ::testing::Values(ModelSetup{20, 23, 8, 6, 7, false, 0},   // integer, one batch
                                           ModelSetup{20, 23, 8, 6, 7, true, 3},    // sub-pixel, batches 3+3+1
                                           ModelSetup{17, 19, 5, 7, 9, true, 4},    // odd sizes
                                           ModelSetup{24, 24, 8, 8, 12, false, 5}));

namespace {

// r + g ||r|| / ||g||: random, but half along g.
Array<complex64> toward(const Array<complex64>& g, Array<complex64> r) {
    const double a = norm2(r.view()) / norm2(g.view());
    axpy(complex64(float(a)), g.view(), r.view());
    return r;
}

// f(O, P) and its gradients for random data; checks Re<grad, d> against central differences in
// random directions of the object and of the probe.
void check_gradients(Loss loss, bool subpixel, bool with_mask, double fresnel = 0) {
    const index_t H = 22, W = 21, my = 8, mx = 8, J = 8;
    Model model(Shape{H, W}, Shape{my, mx}, small_positions(J, H, W, my, mx, subpixel, 21), Device::cpu,
                ModelOptions{3, true, fresnel, 0.7 * fresnel});
    Array<complex64> probe = test::random_complex(Shape{my, mx}, 22);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 23);
    // Data from another object, so that the residual is far from zero.
    model.set_probe(probe);
    Array<float> y(model.data_shape());
    model.intensities(test::random_complex(Shape{H, W}, 24), y);
    Array<float> mask;
    if (with_mask) {
        mask = Array<float>(Shape{my, mx});
        for (index_t i = 0; i < mask.size(); ++i) mask[i] = (i % 5 == 2) ? 0.0f : 1.0f;
    }
    model.set_data(y, mask);

    Array<complex64> go(Shape{H, W}), gp(Shape{my, mx});
    const double f0 = model.loss(loss, obj, go, gp);
    EXPECT_GT(f0, 0.0);
    // Gradients alone and together agree.
    Array<complex64> go2(Shape{H, W});
    EXPECT_NEAR(model.loss(loss, obj, go2, {}), f0, 1e-6 * f0);
    EXPECT_LT(test::max_rel_diff(go, go2), 1e-6);

    for (int trial = 0; trial < 3; ++trial) {
        // Object direction.
        // A random direction with a component along the gradient, so that the derivative is not
        // lost in the float rounding of f.
        const Array<complex64> d = toward(go, test::random_complex(Shape{H, W}, 100 + trial));
        const double t = 2e-4 * norm2(obj) / norm2(d);
        Array<complex64> plus = obj.clone(), minus = obj.clone();
        axpy(complex64(float(t)), d, plus.view());
        axpy(complex64(float(-t)), d, minus.view());
        const double fd = (model.loss(loss, plus, {}, {}) - model.loss(loss, minus, {}, {})) / (2 * t);
        const double an = dot(go, d).re;
        EXPECT_NEAR(an, fd, 1e-3 * std::fabs(an)) << loss_name(loss) << " object, trial " << trial;

        // Probe direction.
        const Array<complex64> e = toward(gp, test::random_complex(Shape{my, mx}, 200 + trial));
        const double s = 2e-4 * norm2(probe) / norm2(e);
        Array<complex64> pp = probe.clone(), pm = probe.clone();
        axpy(complex64(float(s)), e, pp.view());
        axpy(complex64(float(-s)), e, pm.view());
        model.set_probe(pp);
        const double fp = model.loss(loss, obj, {}, {});
        model.set_probe(pm);
        const double fm = model.loss(loss, obj, {}, {});
        model.set_probe(probe);
        const double fdp = (fp - fm) / (2 * s);
        const double anp = dot(gp, e).re;
        EXPECT_NEAR(anp, fdp, 1e-3 * std::fabs(anp)) << loss_name(loss) << " probe, trial " << trial;
    }
}

}  // namespace

TEST(PtychoGradients, AmplitudeLossMatchesFiniteDifferences) { check_gradients(Loss::amplitude, true, false); }
TEST(PtychoGradients, IntensityLossMatchesFiniteDifferences) { check_gradients(Loss::intensity, false, false); }
TEST(PtychoGradients, PoissonLossMatchesFiniteDifferences) { check_gradients(Loss::poisson, true, false); }
TEST(PtychoGradients, MaskedAmplitudeLossMatchesFiniteDifferences) { check_gradients(Loss::amplitude, false, true); }
TEST(PtychoGradients, MaskedIntensityLossWithSubpixelShifts) { check_gradients(Loss::intensity, true, true); }
TEST(PtychoGradients, NearFieldLossesMatchFiniteDifferences) {
    check_gradients(Loss::amplitude, true, false, 0.05);
    check_gradients(Loss::poisson, false, true, 0.05);
}

// Near field: Psi_j = F^H H F psi_j with H = exp(-i pi (a_y ky^2 + a_x kx^2)), against a direct
// DFT; the operators stay adjoint.
TEST(PtychoModel, NearFieldPropagationMatchesDirectComputation) {
    const index_t H = 20, W = 23, my = 8, mx = 6, J = 5;
    const double ay = 0.04, ax = 0.09;
    const Array<float> pos = small_positions(J, H, W, my, mx, false, 31);
    Model model(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, ModelOptions{2, true, ay, ax});
    const Array<complex64> probe = test::random_complex(Shape{my, mx}, 32), obj = test::random_complex(Shape{H, W}, 33);
    model.set_probe(probe);
    Array<complex64> psi(model.data_shape());
    model.far_field(obj, psi);
    double err = 0, ref = 0;
    for (index_t j = 0; j < J; ++j) {
        const index_t r0 = index_t(pos[2 * j]), c0 = index_t(pos[2 * j + 1]);
        std::vector<cd> exit(std::size_t(my * mx));
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x)
                exit[std::size_t(y * mx + x)] = to_cd(probe[y * mx + x]) * to_cd(obj[(r0 + y) * W + c0 + x]);
        std::vector<cd> spec = dft2(exit, my, mx, -1);
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x) {
                const double ky = double(y < (my + 1) / 2 ? y : y - my), kx = double(x < (mx + 1) / 2 ? x : x - mx);
                spec[std::size_t(y * mx + x)] *= std::polar(1.0, -kPi * (ay * ky * ky + ax * kx * kx));
            }
        const std::vector<cd> near = dft2(spec, my, mx, +1);
        for (index_t i = 0; i < my * mx; ++i) {
            err = std::max(err, std::abs(to_cd(psi[j * my * mx + i]) - near[std::size_t(i)]));
            ref = std::max(ref, std::abs(near[std::size_t(i)]));
        }
    }
    EXPECT_LT(err / ref, 2e-5);
    EXPECT_LT(adjoint_test(*object_operator(model), 41), 1e-5);
    EXPECT_LT(adjoint_test(*probe_operator(model, obj), 42), 1e-5);
    // Unitary: the propagated field keeps the exit waves' energy.
    Array<complex64> far(model.data_shape());
    Model ff(Shape{H, W}, Shape{my, mx}, pos, Device::cpu, ModelOptions{2, true});
    ff.set_probe(probe);
    ff.far_field(obj, far);
    EXPECT_NEAR(norm2(psi) / norm2(far), 1.0, 1e-5);
}

TEST(PtychoModel, LossIsZeroAtTheTruthAndMaskedPixelsAreIgnored) {
    const index_t H = 30, W = 30, m = 8, J = 10;
    Model model(Shape{H, W}, Shape{m, m}, small_positions(J, H, W, m, m, true, 31), Device::cpu);
    model.set_probe(test::random_complex(Shape{m, m}, 32));
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 33);
    Array<float> y(model.data_shape());
    model.intensities(obj, y);
    model.set_data(y);
    for (Loss l : {Loss::amplitude, Loss::intensity, Loss::poisson}) {
        const double f = model.loss(l, obj, {}, {});
        const double scale = l == Loss::intensity ? model.data_max() * model.data_total() : model.data_total();
        EXPECT_LT(f, 1e-5 * scale) << loss_name(l);
    }
    // Corrupt one detector pixel in every frame; masking it restores a zero loss.
    for (index_t j = 0; j < J; ++j) y[j * m * m + 3 * m + 5] += 100.0f;
    model.set_data(y);
    EXPECT_GT(model.loss(Loss::amplitude, obj, {}, {}), 1.0);
    Array<float> mask(Shape{m, m});
    fill(mask.view(), 1.0f);
    mask[3 * m + 5] = 0.0f;
    model.set_data(y, mask);
    EXPECT_LT(model.loss(Loss::amplitude, obj, {}, {}), 1e-5 * model.data_total());
}

// The gradient pass's fit (Model::loss with a Residual, what the stopping rule reads) is the
// residual() of the same object, and the loss value and gradient are those of the plain call.
TEST(PtychoModel, LossPassMeasuresTheResidualOfItsObject) {
    const index_t H = 30, W = 28, m = 8, J = 12;
    Model model(Shape{H, W}, Shape{m, m}, small_positions(J, H, W, m, m, true, 41), Device::cpu);
    model.set_probe(test::random_complex(Shape{m, m}, 42));
    Array<float> y(model.data_shape());
    model.intensities(test::random_complex(Shape{H, W}, 43), y);
    for (index_t i = 0; i < y.size(); ++i) y[i] = std::round(y[i] * 100.0f);  // counts
    Array<float> mask(Shape{m, m});
    for (index_t i = 0; i < mask.size(); ++i) mask[i] = (i % 7 == 3) ? 0.0f : 1.0f;
    model.set_data(y, mask);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 44);
    Array<complex64> g1(Shape{H, W}), g2(Shape{H, W});
    const double f1 = model.loss(Loss::amplitude, obj, g1, {});
    Model::Residual fit;
    fit.squared = 123.0;  // overwritten, not added to
    const double f2 = model.loss(Loss::amplitude, obj, g2, {}, {}, fit);
    EXPECT_EQ(f1, f2);
    EXPECT_EQ(test::max_rel_diff(g1, g2), 0.0);
    const Model::Residual r = model.residual(obj);
    EXPECT_GT(r.squared, 0.0);
    EXPECT_NEAR(fit.squared, r.squared, 1e-12 * r.squared);
    EXPECT_NEAR(fit.expected, r.expected, 1e-12 * r.expected);
    EXPECT_EQ(fit.pixels, r.pixels);
    EXPECT_EQ(fit.pixels, J * (m * m - 9));  // 9 of the 64 detector pixels masked
}

// precondition_object scales each pixel of an object gradient by reference / max(illumination,
// floor L_O): the diagonal of A^H A (docs/ptychography.md, "Step sizes").
TEST(PtychoModel, ObjectPreconditionerDividesByTheIllumination) {
    const index_t H = 30, W = 28, m = 8, J = 12;
    Model model(Shape{H, W}, Shape{m, m}, small_positions(J, H, W, m, m, true, 51), Device::cpu);
    model.set_probe(test::random_complex(Shape{m, m}, 52));
    const Array<float> illum = model.illumination();
    double lo = 0;
    index_t floored = 0, unlit = 0;
    for (index_t i = 0; i < illum.size(); ++i) lo = std::max(lo, double(illum[i]));
    const Array<complex64> g0 = test::random_complex(Shape{H, W}, 53);
    Array<complex64> g = g0.clone();
    EXPECT_NEAR(model.precondition_object(g, 0.1, 3.0), lo, 1e-6 * lo);
    for (index_t i = 0; i < g.size(); ++i) {
        const double d = std::max(double(illum[i]), 0.1 * lo);
        floored += illum[i] < 0.1 * lo;
        unlit += illum[i] == 0.0f;
        const double want = 3.0 / d;
        EXPECT_NEAR(g[i].re, g0[i].re * want, 1e-5 * std::fabs(g0[i].re * want) + 1e-30) << i;
        EXPECT_NEAR(g[i].im, g0[i].im * want, 1e-5 * std::fabs(g0[i].im * want) + 1e-30) << i;
    }
    // The scan leaves some pixels dim and some dark: both take the floor.
    EXPECT_GT(floored, unlit);
    EXPECT_GT(unlit, 0);
}

TEST(PtychoModel, RejectsWindowsOutsideTheObjectAndBadData) {
    Array<float> pos = Array<float>::from({0.0f, 0.0f, 10.5f, 3.0f}, Shape{2, 2});
    EXPECT_THROW(Model(Shape{16, 16}, Shape{8, 8}, pos, Device::cpu), Error);  // 10.5 + 8 > 16
    Model ok(Shape{19, 16}, Shape{8, 8}, pos, Device::cpu);
    Array<float> y(ok.data_shape());
    y[5] = -1.0f;
    EXPECT_THROW(ok.set_data(y), Error);
    y[5] = std::nanf("");
    EXPECT_THROW(ok.set_data(y), Error);
    EXPECT_THROW(ok.set_data(Array<float>(Shape{3, 8, 8})), Error);
}
