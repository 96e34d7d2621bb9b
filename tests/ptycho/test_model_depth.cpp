// The model's extensions for experiments (docs/ptychography.md): mixed-state probes (K incoherent
// modes) and the gradient with respect to the scan positions. Gradients against central finite
// differences, the K-mode intensities against K single-mode models, the orthogonalisation's
// invariance, and moving positions against a model built at the new positions.
#include <cmath>
#include <complex>
#include <utility>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/modes.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

constexpr index_t H = 22, W = 21, my = 8, mx = 8, J = 8;

// Positions inside the object; sub-pixel ones keep their remainders in [0.2, 0.8] (central
// differences then stay within one integer cell), integer ones are whole pixels.
Array<float> positions(bool subpixel, std::uint64_t seed) {
    const Array<float> u = test::random_real(Shape{J, 2}, seed);
    Array<float> p(Shape{J, 2});
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            const double span = double((a == 0 ? H - my : W - mx) - 2);
            const double v = std::floor(0.5 * (u[2 * j + a] + 1.0) * span);
            p[2 * j + a] = float(subpixel ? v + 0.2 + 0.3 * (u[2 * j + a] + 1.0) : v + 1.0);
        }
    return p;
}

// Random modes with a Gaussian envelope (the probe decays towards the frame edges, as the cyclic
// sub-pixel shift assumes).
Array<complex64> smooth_modes(index_t K, std::uint64_t seed) {
    Array<complex64> p = test::random_complex(K > 1 ? Shape{K, my, mx} : Shape{my, mx}, seed);
    for (index_t k = 0; k < K; ++k)
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x) {
                const double dy = double(y) - 0.5 * double(my - 1), dx = double(x) - 0.5 * double(mx - 1);
                p[(k * my + y) * mx + x] = p[(k * my + y) * mx + x] * float(std::exp(-(dy * dy + dx * dx) / 5.0));
            }
    return p;
}

// r + g ||r|| / ||g||: random, but half along g.
Array<complex64> toward(const Array<complex64>& g, Array<complex64> r) {
    const double a = norm2(r.view()) / norm2(g.view());
    axpy(complex64(float(a)), g.view(), r.view());
    return r;
}

// A model with K modes and data made from another object (the residual is far from zero).
Model model_with_data(index_t K, bool subpixel, const Array<complex64>& probe, index_t batch = 3) {
    ModelOptions mo;
    mo.batch = batch;
    mo.modes = K;
    Model model(Shape{H, W}, Shape{my, mx}, positions(subpixel, 31), Device::cpu, mo);
    model.set_probe(probe);
    Array<float> y(model.data_shape());
    model.intensities(test::random_complex(Shape{H, W}, 24), y);
    model.set_data(y);
    return model;
}

void check_mode_gradients(Loss loss, bool subpixel) {
    const index_t K = 3;
    const Array<complex64> probe = smooth_modes(K, 22);
    Model model = model_with_data(K, subpixel, probe);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 23);
    Array<complex64> go(Shape{H, W}), gp(probe.shape());
    const double f0 = model.loss(loss, obj, go, gp);
    EXPECT_GT(f0, 0.0);
    for (int trial = 0; trial < 2; ++trial) {
        const Array<complex64> d = toward(go, test::random_complex(Shape{H, W}, 100 + trial));
        const double t = 2e-4 * norm2(obj) / norm2(d);
        Array<complex64> plus = obj.clone(), minus = obj.clone();
        axpy(complex64(float(t)), d, plus.view());
        axpy(complex64(float(-t)), d, minus.view());
        const double fd = (model.loss(loss, plus, {}, {}) - model.loss(loss, minus, {}, {})) / (2 * t);
        const double an = dot(go, d).re;
        EXPECT_NEAR(an, fd, 1e-3 * std::fabs(an)) << loss_name(loss) << " object, trial " << trial;

        // Every mode moves at once.
        const Array<complex64> e = toward(gp, test::random_complex(probe.shape(), 200 + trial));
        const double s = 2e-4 * norm2(probe) / norm2(e);
        Array<complex64> pp = probe.clone(), pm = probe.clone();
        axpy(complex64(float(s)), e, pp.view());
        axpy(complex64(float(-s)), e, pm.view());
        model.set_probe(pp);
        const double fp = model.loss(loss, obj, {}, {});
        model.set_probe(pm);
        const double fm = model.loss(loss, obj, {}, {});
        model.set_probe(probe);
        const double anp = dot(gp, e).re;
        EXPECT_NEAR(anp, (fp - fm) / (2 * s), 1e-3 * std::fabs(anp)) << loss_name(loss) << " modes, trial " << trial;
    }
}

void check_position_gradient(Loss loss, bool subpixel, index_t K) {
    const Array<complex64> probe = smooth_modes(K, 42);
    Model model = model_with_data(K, subpixel, probe);
    EXPECT_EQ(model.subpixel(), subpixel);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 43);
    Array<float> gx(Shape{J, 2});
    Array<complex64> go(Shape{H, W});
    model.loss(loss, obj, go, {}, gx);
    // Alone and together with the object gradient: the same.
    Array<float> gx2(Shape{J, 2});
    model.loss(loss, obj, {}, {}, gx2);
    EXPECT_LT(test::max_rel_diff(gx, gx2), 1e-6);
    const Array<float> p0 = positions(subpixel, 31);
    double scale = 0;
    for (index_t i = 0; i < gx.size(); ++i) scale = std::max(scale, double(std::fabs(gx[i])));
    ASSERT_GT(scale, 0.0);
    const double t = 1e-3;
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            Array<float> p = p0.clone();
            p[2 * j + a] = float(p0[2 * j + a] + t);
            model.set_positions(p);
            const double fp = model.loss(loss, obj, {}, {});
            // Integer positions: one-sided (the minus side would move to the previous window
            // corner, where the cyclic shift and the window's edge pixels differ by the probe's
            // edge values: lumen's model is continuous within a cell).
            p[2 * j + a] = float(subpixel ? p0[2 * j + a] - t : p0[2 * j + a]);
            model.set_positions(p);
            const double fm = model.loss(loss, obj, {}, {});
            const double fd = (fp - fm) / (subpixel ? 2 * t : t);
            EXPECT_NEAR(gx[2 * j + a], fd, (subpixel ? 2e-3 : 1e-2) * scale)
                << loss_name(loss) << " K=" << K << " position " << j << " axis " << a;
        }
    model.set_positions(p0);
}

}  // namespace

TEST(PtychoModes, AmplitudeLossGradientsMatchFiniteDifferences) {
    check_mode_gradients(Loss::amplitude, true);
    check_mode_gradients(Loss::amplitude, false);
}
TEST(PtychoModes, IntensityAndPoissonGradientsMatchFiniteDifferences) {
    check_mode_gradients(Loss::intensity, true);
    check_mode_gradients(Loss::poisson, false);
}

// sum_k |F(P_k O)|^2 is the sum of K single-mode models' intensities; the illumination and the
// residual sum alike; a [my][mx] probe sets mode 0 and zeroes the others.
TEST(PtychoModes, IntensitiesAreTheSumOfSingleModeModels) {
    const index_t K = 3, m = my * mx;
    const Array<complex64> probe = smooth_modes(K, 5);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 6);
    for (bool subpixel : {false, true}) {
        ModelOptions mo;
        mo.batch = 3;
        mo.modes = K;
        Model multi(Shape{H, W}, Shape{my, mx}, positions(subpixel, 7), Device::cpu, mo);
        EXPECT_EQ(multi.modes(), K);
        multi.set_probe(probe);
        Array<float> y(multi.data_shape());
        multi.intensities(obj, y);
        const Array<float> illum = multi.illumination();
        Array<float> sum(multi.data_shape()), illum_sum(Shape{H, W});
        Model single(Shape{H, W}, Shape{my, mx}, positions(subpixel, 7), Device::cpu, ModelOptions{2, true});
        for (index_t k = 0; k < K; ++k) {
            single.set_probe(View<const complex64>(probe.data() + k * m, Shape{my, mx}, Device::cpu));
            Array<float> yk(single.data_shape());
            single.intensities(obj, yk);
            axpy(1.0f, yk.view(), sum.view());
            axpy(1.0f, single.illumination().view(), illum_sum.view());
        }
        EXPECT_LT(test::max_rel_diff(y, sum), 1e-5);
        EXPECT_LT(test::max_rel_diff(illum, illum_sum), 1e-5);
        // The loss at the data's own object is zero only with every mode.
        multi.set_data(y);
        EXPECT_LT(multi.loss(Loss::amplitude, obj, {}, {}), 1e-6 * multi.data_total());
        multi.set_probe(View<const complex64>(probe.data(), Shape{my, mx}, Device::cpu));
        EXPECT_GT(multi.loss(Loss::amplitude, obj, {}, {}), 1e-3 * multi.data_total());
        // The linear maps are the single-mode model's.
        Array<complex64> psi(multi.data_shape());
        EXPECT_THROW(multi.far_field(obj, psi), Error);
    }
}

// The orthogonalised modes are orthogonal, sorted by power, and fit the data exactly as before
// (a unitary mixing of the modes leaves every intensity unchanged).
TEST(PtychoModes, OrthogonalisationKeepsTheIntensities) {
    const index_t K = 4, m = my * mx;
    Array<complex64> probe = smooth_modes(K, 9);
    ModelOptions mo;
    mo.modes = K;
    Model model(Shape{H, W}, Shape{my, mx}, positions(true, 10), Device::cpu, mo);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 11);
    model.set_probe(probe);
    Array<float> before(model.data_shape()), after(model.data_shape());
    model.intensities(obj, before);
    const double energy = norm2_squared(probe.view());
    const std::vector<double> powers = orthogonalize_modes(probe.view());
    ASSERT_EQ(powers.size(), std::size_t(K));
    double total = 0;
    for (index_t k = 0; k < K; ++k) {
        total += powers[std::size_t(k)];
        if (k > 0) {
            EXPECT_GE(powers[std::size_t(k - 1)], powers[std::size_t(k)]);
        }
        for (index_t l = 0; l < k; ++l) {
            const complex128 c = dot(View<const complex64>(probe.data() + k * m, Shape{m}, Device::cpu),
                                     View<const complex64>(probe.data() + l * m, Shape{m}, Device::cpu));
            EXPECT_LT(std::hypot(c.re, c.im), 1e-5 * energy) << k << ", " << l;
        }
    }
    EXPECT_NEAR(total, energy, 1e-5 * energy);
    model.set_probe(probe);
    model.intensities(obj, after);
    EXPECT_LT(test::max_rel_diff(before, after), 1e-4);
}

TEST(PtychoModes, InitialModesAreOrthogonalWithTheProbesPower) {
    const index_t K = 5, m = my * mx;
    const Array<complex64> probe = smooth_modes(1, 12);
    const Array<complex64> modes = initial_probe_modes(probe, K, 0.05);
    ASSERT_EQ(modes.shape(), Shape({K, my, mx}));
    const double e = norm2_squared(probe.view());
    EXPECT_NEAR(norm2_squared(modes.view()), e, 1e-5 * e);
    for (index_t k = 1; k < K; ++k) {
        EXPECT_NEAR(norm2_squared(View<const complex64>(modes.data() + k * m, Shape{m}, Device::cpu)), 0.05 * e, 1e-4 * e);
        for (index_t l = 0; l < k; ++l) {
            const complex128 c = dot(View<const complex64>(modes.data() + k * m, Shape{m}, Device::cpu),
                                     View<const complex64>(modes.data() + l * m, Shape{m}, Device::cpu));
            EXPECT_LT(std::hypot(c.re, c.im), 1e-5 * e);
        }
    }
    // Mode 0 is the probe, scaled to keep the total power.
    const float keep = float(std::sqrt(1.0 - 0.05 * double(K - 1)));
    for (index_t r = 0; r < m; ++r) EXPECT_NEAR(modes[r].re, probe[r].re * keep, 1e-5f);
}

TEST(PtychoPositions, GradientMatchesFiniteDifferences) {
    check_position_gradient(Loss::amplitude, true, 1);
    check_position_gradient(Loss::poisson, true, 1);
    check_position_gradient(Loss::amplitude, true, 3);
    check_position_gradient(Loss::intensity, false, 1);
    check_position_gradient(Loss::amplitude, false, 2);
}

// Moving the positions of a model gives the model built at the new positions.
TEST(PtychoPositions, MovedModelMatchesAModelBuiltThere) {
    const Array<complex64> probe = smooth_modes(2, 50);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 51);
    ModelOptions mo;
    mo.batch = 3;
    mo.modes = 2;
    Model moved(Shape{H, W}, Shape{my, mx}, positions(false, 52), Device::cpu, mo);  // integer: no shift tables
    moved.set_probe(probe);
    const Array<float> target = positions(true, 53);
    moved.set_positions(target);
    EXPECT_TRUE(moved.subpixel());
    Model built(Shape{H, W}, Shape{my, mx}, target, Device::cpu, mo);
    built.set_probe(probe);
    Array<float> a(moved.data_shape()), b(built.data_shape());
    moved.intensities(obj, a);
    built.intensities(obj, b);
    EXPECT_LT(test::max_rel_diff(a, b), 1e-6);
    EXPECT_LT(test::max_rel_diff(moved.illumination(), built.illumination()), 1e-6);
    Array<float> outside = target.clone();
    outside[0] = float(H);
    EXPECT_THROW(moved.set_positions(outside), Error);
}

// The Gauss-Newton curvature along each position coordinate is the second derivative of the loss
// where the model fits the data (zero residual), for every loss and with modes.
TEST(PtychoPositions, CurvatureIsTheSecondDerivativeAtTheSolution) {
    for (const auto& [loss, K] : {std::pair{Loss::amplitude, index_t(1)}, std::pair{Loss::amplitude, index_t(2)},
                                  std::pair{Loss::intensity, index_t(1)}, std::pair{Loss::poisson, index_t(2)}}) {
        const Array<complex64> probe = smooth_modes(K, 60);
        ModelOptions mo;
        mo.batch = 3;
        mo.modes = K;
        const Array<float> p0 = positions(true, 61);
        Model model(Shape{H, W}, Shape{my, mx}, p0, Device::cpu, mo);
        model.set_probe(probe);
        const Array<complex64> obj = test::random_complex(Shape{H, W}, 62);
        Array<float> y(model.data_shape());
        model.intensities(obj, y);
        model.set_data(y);
        const double f0 = model.loss(loss, obj, {}, {});
        Array<float> c(Shape{J, 2});
        model.position_curvature(loss, obj, c);
        const double t = 1e-2;
        for (index_t j = 0; j < J; ++j)
            for (int a = 0; a < 2; ++a) {
                Array<float> p = p0.clone();
                p[2 * j + a] = float(p0[2 * j + a] + t);
                model.set_positions(p);
                const double fp = model.loss(loss, obj, {}, {});
                p[2 * j + a] = float(p0[2 * j + a] - t);
                model.set_positions(p);
                const double fm = model.loss(loss, obj, {}, {});
                const double second = (fp - 2 * f0 + fm) / (t * t);
                EXPECT_GT(c[2 * j + a], 0.0f);
                EXPECT_NEAR(c[2 * j + a], second, 0.03 * second) << loss_name(loss) << " K=" << K << " j=" << j << " a=" << a;
            }
        model.set_positions(p0);
    }
}

// The coarse position search's per-frame losses: at offset (0, 0) they sum to loss(); at another
// offset each is the loss term of a model built with that frame moved by the offset (whole pixels,
// the sub-pixel remainder kept); a frame whose moved window leaves the object gets +inf.
TEST(PtychoPositions, FrameLossesAreTheLossesOfTheMovedFrames) {
    const Array<complex64> probe = smooth_modes(2, 70);
    const Array<complex64> obj = test::random_complex(Shape{H, W}, 71);
    for (Loss loss : {Loss::amplitude, Loss::intensity, Loss::poisson}) {
        const Model model = model_with_data(2, true, probe);
        Array<float> f(Shape{J});
        model.frame_losses(loss, obj, 0, 0, f);
        double sum = 0;
        for (index_t j = 0; j < J; ++j) sum += double(f[j]);
        EXPECT_NEAR(sum, model.loss(loss, obj, {}, {}), 1e-5 * std::fabs(sum)) << loss_name(loss);
        const Array<float> p0 = positions(true, 31);
        index_t inside = 0, outside = 0;
        for (const auto& [dy, dx] : {std::pair<index_t, index_t>{1, -2}, {-3, 2}, {6, 5}}) {
            model.frame_losses(loss, obj, dy, dx, f);
            Array<float> p = p0.clone();
            std::vector<bool> in(static_cast<std::size_t>(J));
            for (index_t j = 0; j < J; ++j) {
                const index_t r = model.corners()[2 * j] + dy, c = model.corners()[2 * j + 1] + dx;
                in[std::size_t(j)] = r >= 0 && c >= 0 && r + my <= H && c + mx <= W;
                if (in[std::size_t(j)]) {
                    p[2 * j] += float(dy);
                    p[2 * j + 1] += float(dx);
                }
            }
            Model built = model_with_data(2, true, probe);
            built.set_positions(p);
            Array<float> g(Shape{J});
            built.frame_losses(loss, obj, 0, 0, g);
            for (index_t j = 0; j < J; ++j) {
                if (in[std::size_t(j)]) {
                    ++inside;
                    EXPECT_NEAR(f[j], g[j], 1e-5 * std::fabs(g[j])) << loss_name(loss) << " j=" << j << " offset " << dy << "," << dx;
                } else {
                    ++outside;
                    EXPECT_TRUE(std::isinf(f[j])) << loss_name(loss) << " j=" << j;
                }
            }
        }
        EXPECT_GT(inside, 0);
        EXPECT_GT(outside, 0);
    }
}
