// The examples of docs/adding-an-operator.md, compiled and checked (keep the two in step).
#include <lumen/linalg.hpp>
#include <lumen/linop.hpp>
#include <lumen/solvers/solvers.hpp>

#include <cmath>
#include <memory>

#include "lumen/solvers/regularizers.hpp"
#include "tests/solvers/dense_ref.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

class PairAverage final : public LinearOperator<float> {
public:
    explicit PairAverage(index_t n) : n_(n) {}
    Shape domain_shape() const override { return Shape{n_}; }
    Shape range_shape() const override { return Shape{n_ / 2}; }
    Device device() const override { return Device::cpu; }  // plain loops: host arrays
    void apply(View<const float> x, View<float> y) const override {
        for (index_t k = 0; k < n_ / 2; ++k) y[k] = 0.5f * (x[2 * k] + x[2 * k + 1]);
    }
    void apply_adjoint(View<const float> y, View<float> x) const override {
        for (index_t k = 0; k < n_ / 2; ++k) x[2 * k] = x[2 * k + 1] = 0.5f * y[k];
    }

private:
    index_t n_;
};

class Mask final : public LinearOperator<complex64> {
public:
    explicit Mask(Array<complex64> m) : m_(std::move(m)) {}
    Shape domain_shape() const override { return m_.shape(); }
    Shape range_shape() const override { return m_.shape(); }
    Device device() const override { return m_.device(); }
    void apply(View<const complex64> x, View<complex64> y) const override { mul(m_, x, y); }
    void apply_adjoint(View<const complex64> y, View<complex64> x) const override {
        conj_mul(m_, y, x);  // conj(m) * y
    }

private:
    Array<complex64> m_;
};

}  // namespace

TEST(DocExample, PairAverageWithCgls) {
    auto A = std::make_shared<PairAverage>(8);
    const double err = adjoint_test(*A);
    const double norm = operator_norm(*A);
    ref::measured("PairAverage adjoint test", err);
    EXPECT_LT(err, 1e-6);
    EXPECT_NEAR(norm, 1.0 / std::sqrt(2.0), 1e-6);

    Array<float> b = Array<float>::from({1, 2, 3, 4}, Shape{4});
    Array<float> x(Shape{8});
    SolverOptions opt;
    opt.max_iterations = 20;
    opt.tolerance = 1e-6;
    SolverResult r = cgls<float>(*A, b, x.view(), 0.0, opt);
    const float want[8] = {1, 1, 2, 2, 3, 3, 4, 4};
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(x[i], want[i], 1e-5);
    EXPECT_TRUE(r.converged);
    EXPECT_EQ(r.stop_reason, "tolerance");
    EXPECT_EQ(int(r.history.size()), r.iterations);

    // Composed with the shared operators: the pair average of a gradient is still an operator.
    LinOpPtr<float> DA = compose<float>(A, finite_difference<float>(Shape{2, 2}, 2, Device::cpu));
    EXPECT_LT(adjoint_test(*DA), 1e-6);
}

TEST(DocExample, MaskOperatorIsDeviceAgnostic) {
    Array<complex64> m = test::random_complex(Shape{16, 16}, 3);
    Mask op(m.clone());
    EXPECT_LT(adjoint_test(op), 1e-6);
    // CG-SENSE-like: (M^H M + 0.1) x = M^H b has the closed form x = conj(m) b / (|m|^2 + 0.1).
    Array<complex64> b = test::random_complex(Shape{16, 16}, 4), x(Shape{16, 16});
    SolverOptions opt;
    opt.max_iterations = 100;
    opt.tolerance = 1e-7;
    cg_normal<complex64>(op, b, x.view(), 0.1, opt);
    double worst = 0;
    for (index_t i = 0; i < x.size(); ++i) {
        const complex64 want = conj(m[i]) * b[i] / (norm(m[i]) + 0.1f);
        worst = std::max(worst, double(abs(x[i] - want)) / double(abs(want) + 1e-3f));
    }
    EXPECT_LT(worst, 1e-4);
}
