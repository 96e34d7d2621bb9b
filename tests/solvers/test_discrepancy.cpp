// The discrepancy rule (SolverOptions::discrepancy): on an ill-posed problem with known noise,
// unregularised iterations semi-converge (the error falls, then grows as they fit the noise);
// the rule stops near the best iterate from the data alone, with stop_reason "discrepancy".
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/linop.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"

using namespace lumen;

namespace {

// 1-D deconvolution: a Gaussian blur (sigma 2 samples) of a piecewise-smooth signal, n = 120,
// Gaussian noise whose standard deviation varies along the data (0.5% to 2% of the peak), so
// the rule has to weigh each measurement by its own variance.
struct Problem {
    index_t n = 120;
    Array<float> matrix, truth, b, variance;
    LinOpPtr<float> A;
    Problem() {
        matrix = Array<float>(Shape{n, n});
        for (index_t i = 0; i < n; ++i)
            for (index_t j = 0; j < n; ++j) {
                const double d = double(i - j) / 2.0;
                matrix[i * n + j] = float(std::exp(-0.5 * d * d) / (2.0 * std::sqrt(2.0 * kPi)));
            }
        A = dense_matrix<float>(matrix.clone());
        truth = Array<float>(Shape{n});
        for (index_t j = 0; j < n; ++j) {
            const double s = double(j) / double(n);
            truth[j] = float((s > 0.2 && s < 0.45 ? 1.0 : 0.0) + 0.5 * std::sin(6.0 * s) * std::sin(6.0 * s));
        }
        b = Array<float>(Shape{n});
        A->apply(truth, b);
        variance = Array<float>(Shape{n});
        std::mt19937_64 rng(7);
        std::normal_distribution<double> g(0.0, 1.0);
        for (index_t i = 0; i < n; ++i) {
            const double sigma = 0.005 + 0.015 * double(i) / double(n - 1);
            variance[i] = float(sigma * sigma);
            b[i] = float(b[i] + sigma * g(rng));
        }
    }
    double error(View<const float> x) const { return nrmse_of(x); }
    double nrmse_of(View<const float> x) const {
        double se = 0, st = 0;
        for (index_t i = 0; i < n; ++i) {
            se += (double(x[i]) - truth[i]) * (double(x[i]) - truth[i]);
            st += double(truth[i]) * truth[i];
        }
        return std::sqrt(se / st);
    }
};

// Runs `solve` once with the cap only, recording the error of every iterate, and once with the
// rule; returns {error at the rule's stop, best error, last error of the capped run}.
template <class Solve>
std::vector<double> compare(const Problem& p, int cap, double tau, const Solve& solve, SolverResult* ruled) {
    std::vector<double> errors;
    Array<float> x(Shape{p.n});
    SolverOptions o;
    o.max_iterations = cap;
    o.callback = [&](const IterationInfo&) {
        errors.push_back(p.error(x));
        return true;
    };
    const SolverResult full = solve(x.view(), o);
    EXPECT_EQ(full.stop_reason, "max_iterations");
    EXPECT_EQ(full.iterations, cap);
    Array<float> y(Shape{p.n});
    SolverOptions r;
    r.max_iterations = cap;
    r.discrepancy.tau = tau;
    r.discrepancy.variance = p.variance.view();
    *ruled = solve(y.view(), r);
    double best = errors.front();
    for (double e : errors) best = std::min(best, e);
    return {p.error(y), best, errors.back()};
}

}  // namespace

TEST(Discrepancy, CglsStopsNearItsBestIterate) {
    const Problem p;
    SolverResult r;
    const auto e = compare(p, 300, 1.0, [&](View<float> x, const SolverOptions& o) {
        return cgls<float>(*p.A, p.b, x, 0.0, o);
    }, &r);
    RecordProperty("stopped_at", r.iterations);
    RecordProperty("error_stopped", std::to_string(e[0]));
    RecordProperty("error_best", std::to_string(e[1]));
    RecordProperty("error_300", std::to_string(e[2]));
    EXPECT_EQ(r.stop_reason, "discrepancy");
    EXPECT_EQ(r.discrepancy_tau, 1.0);
    ASSERT_GE(r.history.size(), 2u);
    // The rule stops at the first iterate at or below tau, not later.
    EXPECT_LE(r.history.back().misfit, 1.0);
    EXPECT_GT(r.history[r.history.size() - 2].misfit, 1.0);
    // The premise: running on fits the noise (semi-convergence) ...
    EXPECT_GT(e[2], 1.5 * e[1]);
    // ... and the rule stops close to the best iterate.
    EXPECT_LT(e[0], 1.25 * e[1]);
}

TEST(Discrepancy, SirtFistaAdmmMeasureTheirOwnResidual) {
    const Problem p;
    // One history entry per iteration with a finite misfit, and a stop on the rule well before
    // the cap (all of them can fit this data below the noise).
    SolverResult r;
    SirtOptions s;
    s.lower = -3.0e38f;
    compare(p, 2000, 1.0, [&](View<float> x, const SolverOptions& o) { return sirt(*p.A, p.b, x, s, o); }, &r);
    EXPECT_EQ(r.stop_reason, "discrepancy");
    EXPECT_LT(r.iterations, 2000);
    for (const IterationInfo& h : r.history) EXPECT_TRUE(std::isfinite(h.misfit));
    FistaOptions f;
    compare(p, 500, 1.0, [&](View<float> x, const SolverOptions& o) {
        return fista<float>(*p.A, p.b, x, ProxFn<float>(), RegValueFn<float>(), f, o);
    }, &r);
    EXPECT_EQ(r.stop_reason, "discrepancy");
    AdmmTvOptions a;
    a.dims = 2;
    a.lambda = 1e-6;
    const Problem& q = p;
    Array<float> x2(Shape{1, q.n});
    SolverOptions o;
    o.max_iterations = 300;
    o.discrepancy.tau = 1.0;
    o.discrepancy.variance = q.variance.view();
    // admm_tv takes the image as [1][n] (2-D differences over a single row).
    const LinOpPtr<float> A2 = dense_matrix<float>(q.matrix.clone());
    struct Reshaped : LinearOperator<float> {
        const LinearOperator<float>& A;
        explicit Reshaped(const LinearOperator<float>& a) : A(a) {}
        Shape domain_shape() const override { return Shape{1, A.domain_shape()[0]}; }
        Shape range_shape() const override { return A.range_shape(); }
        Device device() const override { return A.device(); }
        void apply(View<const float> x, View<float> y) const override { A.apply(x, y); }
        void apply_adjoint(View<const float> y, View<float> x) const override { A.apply_adjoint(y, x); }
    };
    const Reshaped R(*A2);
    const SolverResult ra = admm_tv<float>(R, q.b, x2.view(), a, o);
    EXPECT_EQ(ra.stop_reason, "discrepancy");
    EXPECT_LE(ra.history.back().misfit, 1.0);
}

TEST(Discrepancy, NesterovUsesTheCallersMisfit) {
    const Problem p;
    Array<float> x(Shape{p.n}), r(Shape{p.n});
    const double L = operator_norm<float>(*p.A, 30);
    ObjectiveGradientFn<float> f = [&](const std::vector<View<const float>>& xs, const std::vector<View<float>>& g) {
        p.A->apply(xs[0], r.view());
        axpy(-1.0f, p.b, r.view());
        p.A->apply_adjoint(r, g[0]);
        return 0.5 * norm2_squared<float>(r);
    };
    int calls = 0;
    SolverOptions o;
    o.max_iterations = 1000;
    o.discrepancy.tau = 1.0;
    o.discrepancy.misfit = [&]() {
        ++calls;
        Array<float> ax(Shape{p.n});
        p.A->apply(x, ax.view());
        double s = 0;
        for (index_t i = 0; i < p.n; ++i) s += (double(ax[i]) - p.b[i]) * (double(ax[i]) - p.b[i]) / p.variance[i];
        return s / double(p.n);
    };
    const SolverResult res = nesterov<float>(f, {Block<float>{x.view(), 1.0 / (1.02 * L * L)}}, {}, o);
    EXPECT_EQ(res.stop_reason, "discrepancy");
    EXPECT_EQ(calls, res.iterations);
    EXPECT_LE(res.history.back().misfit, 1.0);
    EXPECT_LT(p.error(x), 0.5);
}

TEST(Discrepancy, BadRulesNameWhatIsMissing) {
    const Problem p;
    Array<float> x(Shape{p.n});
    SolverOptions o;
    o.discrepancy.tau = 1.0;
    // No variance and no misfit function.
    try {
        cgls<float>(*p.A, p.b, x.view(), 0.0, o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::bad_input);
        EXPECT_NE(std::string(e.what()).find("discrepancy.variance"), std::string::npos) << e.what();
    }
    // A variance of the wrong size.
    Array<float> short_var(Shape{p.n - 1});
    o.discrepancy.variance = short_var.view();
    try {
        cgls<float>(*p.A, p.b, x.view(), 0.0, o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("one per measurement"), std::string::npos) << e.what();
    }
    // cg does not see a data residual: it needs the caller's misfit.
    o.discrepancy.variance = p.variance.view();
    try {
        cg<float>(*p.A, p.b, x.view(), o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("discrepancy.misfit"), std::string::npos) << e.what();
    }
    o.discrepancy.tau = -1.0;
    EXPECT_THROW(cgls<float>(*p.A, p.b, x.view(), 0.0, o), Error);
    // Without a rule nothing is measured.
    SolverOptions plain;
    plain.max_iterations = 3;
    const SolverResult r = cgls<float>(*p.A, p.b, x.view(), 0.0, plain);
    EXPECT_TRUE(std::isnan(r.history.back().misfit));
    EXPECT_EQ(r.discrepancy_tau, 0.0);
}
