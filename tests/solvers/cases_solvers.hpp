// Solver test cases on small problems with known answers, run on the CPU by test_solvers.cpp
// and on the GPU by solvers_gpu.cpp with the same assertions.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <algorithm>
#include <string>

#include "lumen/linalg.hpp"
#include "lumen/linop.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "tests/solvers/dense_ref.hpp"
#include "tests/support/test_support.hpp"

namespace lumen::cases {

template <class T>
LinOpPtr<T> dense_op(const ref::Mat<ref::S<T>>& M, Device dev) {
    return dense_matrix<T>(ref::to_array<T>(M, Device::cpu), dev);
}

template <class T>
double data_term(const LinearOperator<T>& A, View<const T> x, View<const T> b) {
    Array<T> r(A.range_shape(), x.device());
    A.apply(x, r.view());
    axpy(T(-1.0f), b, r.view());
    return 0.5 * norm2_squared<T>(r);
}

// --- conjugate gradients -------------------------------------------------------------------

// CG on an n x n Hermitian positive definite system with n distinct eigenvalues (condition 100)
// is exact after n iterations (to float rounding); halfway it is not.
template <class T>
void cg_exact_in_n_steps(Device dev) {
    using Sc = ref::S<T>;
    const index_t n = 24;
    std::vector<double> eig(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) eig[std::size_t(i)] = 1.0 + 99.0 * double(i) / double(n - 1);
    const auto M = ref::with_spectrum<Sc>(eig, 51);
    const auto xs = ref::random_vec<Sc>(n, 52);
    const auto rhs_v = ref::matvec(M, xs);
    LinOpPtr<T> op = dense_op<T>(M, dev);
    Array<T> rhs = ref::to_array<T>(rhs_v, Shape{n}, dev);
    SolverOptions opt;
    opt.max_iterations = int(n);
    Array<T> x(Shape{n}, dev);
    const SolverResult res = cg<T>(*op, rhs, x.view(), opt);
    const double err_n = ref::rel_err(ref::to_vec<T>(x), xs);
    Array<T> x_half(Shape{n}, dev);
    opt.max_iterations = int(n / 2);
    cg<T>(*op, rhs, x_half.view(), opt);
    const double err_half = ref::rel_err(ref::to_vec<T>(x_half), xs);
    ref::measured("cg error after n iterations", err_n);
    ref::measured("cg error after n/2 iterations", err_half);
    EXPECT_LT(err_n, 1e-5) << "CG after n iterations";
    EXPECT_GT(err_half, 1e-2) << "CG after n/2 iterations";
    EXPECT_EQ(res.iterations, int(n));
    // The CG objective 0.5 x^H M x - Re <rhs, x> decreases monotonically.
    for (std::size_t k = 1; k < res.history.size(); ++k)
        EXPECT_LE(res.history[k].objective, res.history[k - 1].objective + 1e-6 * std::fabs(res.history[0].objective));
    // At the solution the objective is -0.5 x*^H M x*.
    const double f_star = -0.5 * std::real(std::inner_product(xs.begin(), xs.end(), rhs_v.begin(), Sc(0),
                                                             std::plus<Sc>(), [](Sc a, Sc b) { return ref::cj(a) * b; }));
    EXPECT_NEAR(res.history.back().objective, f_star, 1e-4 * std::fabs(f_star));
}

// CG-SENSE with a Tikhonov term against a direct solve of (A^H A + lambda I) x = A^H b.
template <class T>
void cg_normal_matches_direct(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 40, n = 24;
    const double lambda = 0.1;
    const auto A = ref::random_mat<Sc>(m, n, 61);
    const auto b = ref::random_vec<Sc>(m, 62);
    const auto direct = ref::solve(ref::normal(A, lambda), ref::matvec_adj(A, b));
    LinOpPtr<T> op = dense_op<T>(A, dev);
    Array<T> bd = ref::to_array<T>(b, Shape{m}, dev), x(Shape{n}, dev);
    SolverOptions opt;
    opt.max_iterations = 200;
    opt.tolerance = 1e-6;
    const SolverResult res = cg_normal<T>(*op, bd, x.view(), lambda, opt);
    ref::measured("cg_normal error vs direct", ref::rel_err(ref::to_vec<T>(x), direct));
    ref::measured("cg_normal iterations", res.iterations);
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), direct), 1e-5);
    EXPECT_TRUE(res.converged);
    EXPECT_EQ(res.stop_reason, "tolerance");
    EXPECT_LE(res.history.back().residual, 1e-6);
    EXPECT_LE(res.iterations, 40);
    const double f = data_term<T>(*op, x, bd) + 0.5 * lambda * norm2_squared<T>(x);
    EXPECT_NEAR(res.history.back().objective, f, 1e-4 * f);
}

// CGLS with damping, from a non-zero start, against a direct solve.
template <class T>
void cgls_matches_direct(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 50, n = 30;
    const double damp = 0.05;
    const auto A = ref::random_mat<Sc>(m, n, 71);
    const auto b = ref::random_vec<Sc>(m, 72);
    const auto direct = ref::solve(ref::normal(A, damp), ref::matvec_adj(A, b));
    LinOpPtr<T> op = dense_op<T>(A, dev);
    Array<T> bd = ref::to_array<T>(b, Shape{m}, dev);
    Array<T> x = ref::to_array<T>(ref::random_vec<Sc>(n, 73), Shape{n}, dev);
    SolverOptions opt;
    opt.max_iterations = 200;
    opt.tolerance = 1e-6;
    const SolverResult res = cgls<T>(*op, bd, x.view(), damp, opt);
    ref::measured("cgls error vs direct", ref::rel_err(ref::to_vec<T>(x), direct));
    ref::measured("cgls iterations", res.iterations);
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), direct), 2e-5);
    EXPECT_TRUE(res.converged);
    const double f = 2.0 * data_term<T>(*op, x, bd) + damp * norm2_squared<T>(x);
    EXPECT_NEAR(res.history.back().objective, f, 1e-4 * f);
    for (std::size_t k = 1; k < res.history.size(); ++k)  // CGLS decreases its objective monotonically
        EXPECT_LE(res.history[k].objective, res.history[k - 1].objective * (1 + 1e-6));
}

// --- SIRT ----------------------------------------------------------------------------------

// A sparse non-negative matrix like a small projection matrix: every row touches four columns
// (the first n rows include their own column, so the system has full column rank).
inline ref::Mat<double> nonnegative_matrix(index_t m, index_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<index_t> col(0, n - 1);
    std::uniform_real_distribution<double> w(0.5, 1.0);
    ref::Mat<double> A(m, n);
    for (index_t i = 0; i < m; ++i) {
        if (i < n) A(i, i) = 1.0;
        for (int k = 0; k < 3; ++k) A(i, col(rng)) = w(rng);
    }
    return A;
}

// A consistent non-negative system: SIRT converges to the true x; bounds are respected.
inline void sirt_converges(Device dev) {
    const index_t m = 48, n = 32;
    const auto A = nonnegative_matrix(m, n, 81);
    std::vector<double> xs = ref::random_vec<double>(n, 82);
    for (auto& v : xs) v = 0.6 + 0.4 * v;  // in [0.2, 1]
    LinOpPtr<float> op = dense_op<float>(A, dev);
    Array<float> b = ref::to_array<float>(ref::matvec(A, xs), Shape{m}, dev), x(Shape{n}, dev);
    SolverOptions opt;
    opt.max_iterations = 400;
    const SolverResult res = sirt(*op, b, x.view(), SirtOptions{}, opt);
    const double err = ref::rel_err(ref::to_vec<float>(x), xs);
    ref::measured("sirt error after 400 iterations", err);
    ref::measured("sirt objective reduction", res.history.back().objective / res.history.front().objective);
    EXPECT_LT(err, 2e-3);
    EXPECT_LT(res.history.back().objective, 1e-5 * res.history.front().objective);
    // With an upper bound below the truth the estimate stays in the box.
    SirtOptions box;
    box.upper = 0.5f;
    Array<float> xb(Shape{n}, dev);
    opt.max_iterations = 20;
    sirt(*op, b, xb.view(), box, opt);
    const auto xv = ref::to_vec<float>(xb);
    EXPECT_LE(*std::max_element(xv.begin(), xv.end()), 0.5);
    EXPECT_GE(*std::min_element(xv.begin(), xv.end()), 0.0);
}

// --- Nesterov ------------------------------------------------------------------------------

// f(x) = 0.5 ||A x - b||^2 with gradient A^H (A x - b), through the operator interface only.
template <class T>
struct LeastSquares {
    LinOpPtr<T> A;
    Array<T> b, r;
    int calls = 0;
    LeastSquares(LinOpPtr<T> a, Array<T> bb) : A(std::move(a)), b(std::move(bb)), r(A->range_shape(), A->device()) {}
    double operator()(View<const T> x, View<T> grad) {
        ++calls;
        A->apply(x, r.view());
        axpy(T(-1.0f), b, r.view());
        A->apply_adjoint(r, grad);
        return 0.5 * norm2_squared<T>(r);
    }
};

// Least squares: converges to the direct solution; momentum beats plain gradient descent.
template <class T>
void nesterov_least_squares(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 60, n = 40;
    const auto A = ref::random_mat<Sc>(m, n, 91);
    const auto b = ref::random_vec<Sc>(m, 92);
    const auto direct = ref::solve(ref::normal(A, 0.0), ref::matvec_adj(A, b));
    LeastSquares<T> ls(dense_op<T>(A, dev), ref::to_array<T>(b, Shape{m}, dev));
    const double L = std::pow(operator_norm(*ls.A, 50), 2);
    ObjectiveGradientFn<T> f = [&](const std::vector<View<const T>>& x, const std::vector<View<T>>& g) {
        return ls(x[0], g[0]);
    };
    auto run = [&](bool momentum, bool restart, int iters) {
        Array<T> x(Shape{n}, dev);
        NesterovOptions<T> nopt;
        nopt.momentum = momentum;
        nopt.adaptive_restart = restart;
        SolverOptions opt;
        opt.max_iterations = iters;
        const SolverResult res = nesterov<T>(f, {Block<T>{x.view(), 1.0 / L}}, nopt, opt);
        return std::make_pair(std::move(x), res);
    };
    auto r_star = ref::matvec(A, direct);
    for (std::size_t i = 0; i < r_star.size(); ++i) r_star[i] -= b[i];
    const double f_star = 0.5 * std::pow(ref::norm(r_star), 2);
    auto [x_gd, r_gd] = run(false, false, 60);
    auto [x_ag, r_ag] = run(true, true, 60);
    const double gap_gd = r_gd.history.back().objective - f_star, gap_ag = r_ag.history.back().objective - f_star;
    ref::measured("nesterov gap ratio accelerated/plain after 60", gap_ag / gap_gd);
    EXPECT_LT(gap_ag, 1e-2 * gap_gd) << "accelerated vs plain gradient after 60 iterations";
    auto [x, res] = run(true, true, 400);
    ref::measured("nesterov error vs direct after 400", ref::rel_err(ref::to_vec<T>(x), direct));
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), direct), 1e-5);
    EXPECT_EQ(res.iterations, 400);
    EXPECT_EQ(ls.calls, 60 + 60 + 400);  // one gradient per iteration
}

// Without momentum the iteration is plain gradient descent, step for step.
template <class T>
void nesterov_without_momentum_is_gradient_descent(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 30, n = 20;
    const auto A = ref::random_mat<Sc>(m, n, 101);
    const auto b = ref::random_vec<Sc>(m, 102);
    LeastSquares<T> ls(dense_op<T>(A, dev), ref::to_array<T>(b, Shape{m}, dev));
    const double step = 0.01;
    ObjectiveGradientFn<T> f = [&](const std::vector<View<const T>>& x, const std::vector<View<T>>& g) {
        return ls(x[0], g[0]);
    };
    Array<T> x(Shape{n}, dev);
    NesterovOptions<T> nopt;
    nopt.momentum = false;
    SolverOptions opt;
    opt.max_iterations = 10;
    nesterov<T>(f, {Block<T>{x.view(), step}}, nopt, opt);
    std::vector<Sc> xr(std::size_t(n), Sc(0));
    for (int k = 0; k < 10; ++k) {
        auto r = ref::matvec(A, xr);
        for (std::size_t i = 0; i < r.size(); ++i) r[i] -= b[i];
        const auto g = ref::matvec_adj(A, r);
        for (std::size_t i = 0; i < xr.size(); ++i) xr[i] -= step * g[i];
    }
    ref::measured("nesterov(momentum=false) vs gradient descent", ref::rel_err(ref::to_vec<T>(x), xr));
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), xr), 1e-6);
}

// Two blocks with their own steps (x = [u; v], A = [A1 A2]) reach the joint least-squares solution.
template <class T>
void nesterov_two_blocks(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 50, n1 = 12, n2 = 18;
    const auto A = ref::random_mat<Sc>(m, n1 + n2, 111);
    ref::Mat<Sc> A1(m, n1), A2(m, n2);
    for (index_t i = 0; i < m; ++i) {
        for (index_t j = 0; j < n1; ++j) A1(i, j) = A(i, j);
        for (index_t j = 0; j < n2; ++j) A2(i, j) = 3.0 * A(i, n1 + j);  // a differently scaled block
    }
    ref::Mat<Sc> As = A;
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n2; ++j) As(i, n1 + j) = A2(i, j);
    const auto b = ref::random_vec<Sc>(m, 112);
    const auto direct = ref::solve(ref::normal(As, 0.0), ref::matvec_adj(As, b));
    LinOpPtr<T> a1 = dense_op<T>(A1, dev), a2 = dense_op<T>(A2, dev);
    const double L1 = std::pow(operator_norm(*a1, 50), 2), L2 = std::pow(operator_norm(*a2, 50), 2);
    Array<T> bd = ref::to_array<T>(b, Shape{m}, dev), r(Shape{m}, dev), t(Shape{m}, dev);
    ObjectiveGradientFn<T> f = [&](const std::vector<View<const T>>& x, const std::vector<View<T>>& g) {
        a1->apply(x[0], r.view());
        a2->apply(x[1], t.view());
        lin_comb(T(1.0f), t, T(-1.0f), bd, t.view());
        axpy(T(1.0f), t, r.view());
        a1->apply_adjoint(r, g[0]);
        a2->apply_adjoint(r, g[1]);
        return 0.5 * norm2_squared<T>(r);
    };
    Array<T> u(Shape{n1}, dev), v(Shape{n2}, dev);
    SolverOptions opt;
    opt.max_iterations = 600;
    // Steps 1 / (2 L_b): the block-diagonally scaled Hessian has norm <= 1.
    const SolverResult res =
        nesterov<T>(f, {Block<T>{u.view(), 0.5 / L1}, Block<T>{v.view(), 0.5 / L2}}, NesterovOptions<T>{}, opt);
    auto uv = ref::to_vec<T>(u);
    const auto vv = ref::to_vec<T>(v);
    uv.insert(uv.end(), vv.begin(), vv.end());
    ref::measured("nesterov two blocks error vs direct", ref::rel_err(uv, direct));
    EXPECT_LT(ref::rel_err(uv, direct), 1e-5);
    EXPECT_DOUBLE_EQ(res.history.front().step, 0.5 / L1);
}

// Non-negative least squares with a diagonal operator: x_i = max(b_i / d_i, 0).
inline void nesterov_projection(Device dev) {
    const index_t n = 64;
    ref::Mat<double> D(n, n);
    const auto b = ref::random_vec<double>(n, 121);
    std::vector<double> want(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
        D(i, i) = 0.5 + 1.5 * double(i) / double(n - 1);
        want[std::size_t(i)] = std::max(b[std::size_t(i)] / D(i, i), 0.0);
    }
    LeastSquares<float> ls(dense_op<float>(D, dev), ref::to_array<float>(b, Shape{n}, dev));
    ObjectiveGradientFn<float> f = [&](const std::vector<View<const float>>& x, const std::vector<View<float>>& g) {
        return ls(x[0], g[0]);
    };
    int projections = 0, hooks = 0;
    NesterovOptions<float> nopt;
    nopt.project = [&](std::vector<View<float>>& x) {
        ++projections;
        project_nonnegative(x[0]);
    };
    nopt.post_iteration = [&](std::vector<View<float>>&) { ++hooks; };
    Array<float> x(Shape{n}, dev);
    SolverOptions opt;
    opt.max_iterations = 150;
    const SolverResult res = nesterov<float>(f, {Block<float>{x.view(), 1.0 / 4.0}}, nopt, opt);
    ref::measured("nesterov nnls error", ref::rel_err(ref::to_vec<float>(x), want));
    EXPECT_LT(ref::rel_err(ref::to_vec<float>(x), want), 1e-5);
    EXPECT_EQ(projections, res.iterations);
    EXPECT_EQ(hooks, res.iterations);
}

// On a strongly convex quadratic (Hessian condition 100), gradient-scheme restart turns the
// oscillating O(1/k^2) decay of plain momentum into fast linear convergence.
template <class T>
void nesterov_restart_helps(Device dev) {
    using Sc = ref::S<T>;
    const index_t n = 40;
    std::vector<double> eig(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) eig[std::size_t(i)] = std::pow(10.0, -1.0 + 1.0 * double(i) / double(n - 1));
    const auto M = ref::with_spectrum<Sc>(eig, 131);  // A = M: f = 0.5 ||M x - b||^2, f* = 0
    const auto b = ref::random_vec<Sc>(n, 132);
    LeastSquares<T> ls(dense_op<T>(M, dev), ref::to_array<T>(b, Shape{n}, dev));
    ObjectiveGradientFn<T> f = [&](const std::vector<View<const T>>& x, const std::vector<View<T>>& g) {
        return ls(x[0], g[0]);
    };
    auto final_objective = [&](bool restart) {
        Array<T> x(Shape{n}, dev);
        NesterovOptions<T> nopt;
        nopt.adaptive_restart = restart;
        SolverOptions opt;
        opt.max_iterations = 150;
        return nesterov<T>(f, {Block<T>{x.view(), 1.0}}, nopt, opt).history.back().objective;
    };
    const double with = final_objective(true), without = final_objective(false);
    EXPECT_LT(with, 1e-3 * without);
    ref::measured("nesterov restart objective ratio", with / without);
}

// --- FISTA ---------------------------------------------------------------------------------

template <class T>
ProxFn<T> l1_prox(double lambda) {
    return [lambda](View<T> x, double step) { soft_threshold(x, lambda * step); };
}
template <class T>
RegValueFn<T> l1_value(double lambda) {
    return [lambda](View<const T> x) { return lambda * l1_norm(x); };
}

// Denoising with an l1 penalty: x = soft(b, lambda), reached at the first iteration for A = I.
template <class T>
void fista_denoise_closed_form(Device dev) {
    const index_t n = 200;
    const double lambda = 0.3;
    Array<T> b;
    if constexpr (is_complex_v<T>) b = test::random_complex(Shape{n}, 141).to(dev);
    else b = test::random_real(Shape{n}, 141).to(dev);
    const auto bv = ref::to_vec<T>(b);
    std::vector<ref::S<T>> want(bv.size());
    for (std::size_t i = 0; i < bv.size(); ++i) {
        const double a = ref::mag(bv[i]);
        want[i] = a <= lambda ? ref::S<T>(0) : bv[i] * ((a - lambda) / a);
    }
    Array<T> x(Shape{n}, dev);
    SolverOptions opt;
    opt.max_iterations = 5;
    FistaOptions fo;
    fo.step = 1.0;
    const SolverResult res = fista<T>(*identity<T>(Shape{n}, dev), b, x.view(), l1_prox<T>(lambda), l1_value<T>(lambda), fo, opt);
    ref::measured("fista denoise error", ref::rel_err(ref::to_vec<T>(x), want));
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), want), 1e-6);
    double f_want = 0;
    for (std::size_t i = 0; i < bv.size(); ++i)
        f_want += 0.5 * std::pow(ref::mag(want[i] - bv[i]), 2) + lambda * ref::mag(want[i]);
    EXPECT_NEAR(res.history.back().objective, f_want, 1e-5 * f_want);
}

// LASSO reference in double: many ISTA iterations.
template <class Sc>
double lasso_reference(const ref::Mat<Sc>& A, const std::vector<Sc>& b, double lambda, double L, int iters) {
    std::vector<Sc> x(std::size_t(A.n), Sc(0));
    auto F = [&](const std::vector<Sc>& v) {
        auto r = ref::matvec(A, v);
        for (std::size_t i = 0; i < r.size(); ++i) r[i] -= b[i];
        double l1 = 0;
        for (const Sc& e : v) l1 += ref::mag(e);
        return 0.5 * std::pow(ref::norm(r), 2) + lambda * l1;
    };
    for (int k = 0; k < iters; ++k) {
        auto r = ref::matvec(A, x);
        for (std::size_t i = 0; i < r.size(); ++i) r[i] -= b[i];
        const auto g = ref::matvec_adj(A, r);
        for (std::size_t i = 0; i < x.size(); ++i) {
            const Sc v = x[i] - g[i] / L;
            const double a = ref::mag(v);
            x[i] = a <= lambda / L ? Sc(0) : v * ((a - lambda / L) / a);
        }
    }
    return F(x);
}

// LASSO: FISTA's objective is below ISTA's after the same iterations, and with restart FISTA
// reaches the optimum.
template <class T>
void fista_beats_ista(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 40, n = 60;
    const auto A = ref::random_mat<Sc>(m, n, 151);
    const auto b = ref::random_vec<Sc>(m, 152);
    const double lambda = 0.5;
    LinOpPtr<T> op = dense_op<T>(A, dev);
    Array<T> bd = ref::to_array<T>(b, Shape{m}, dev);
    const double L = std::pow(operator_norm(*op, 50), 2);
    const double f_star = lasso_reference(A, b, lambda, 1.02 * L, 20000);
    auto run = [&](bool momentum, bool restart, int iters) {
        Array<T> x(Shape{n}, dev);
        FistaOptions fo;
        fo.momentum = momentum;
        fo.restart = restart;
        SolverOptions opt;
        opt.max_iterations = iters;
        return fista<T>(*op, bd, x.view(), l1_prox<T>(lambda), l1_value<T>(lambda), fo, opt).history.back().objective;
    };
    const double f_ista = run(false, false, 50), f_fista = run(true, false, 50), f_restart = run(true, true, 50);
    ref::measured("fista/ista gap ratio after 50", (f_fista - f_star) / (f_ista - f_star));
    ref::measured("fista+restart/ista gap ratio after 50", (f_restart - f_star) / (f_ista - f_star));
    EXPECT_LT(f_fista - f_star, 0.05 * (f_ista - f_star));
    EXPECT_LT(f_restart - f_star, 0.05 * (f_ista - f_star));
    EXPECT_GT(f_fista, f_star * (1 - 1e-5));
    const double f_long = run(true, true, 1000);
    ref::measured("fista relative gap after 1000", f_long / f_star - 1);
    EXPECT_NEAR(f_long, f_star, 1e-6 * f_star);
}

// --- ADMM-TV -------------------------------------------------------------------------------

// TV denoising of a step edge (columns c < c0 at 0, the rest at h; constant along every other
// axis) has a closed form: each side moves toward the other by lambda * (cross-section) / (its
// pixel count), i.e. lambda / c0 and lambda / (W - c0) in value, for isotropic and anisotropic
// TV alike (the vertical differences stay zero).
template <class T>
void admm_tv_step_edge(Device dev, int dims, bool isotropic) {
    const index_t D = dims == 3 ? 4 : 1, H = 12, W = 24, c0 = 8;
    const double h = 1.0, lambda = 0.8;
    const Shape shape = dims == 3 ? Shape{D, H, W} : Shape{H, W};
    std::vector<ref::S<T>> b(std::size_t(shape.size())), want(b.size());
    for (index_t i = 0; i < shape.size(); ++i) {
        const bool right = i % W >= c0;
        b[std::size_t(i)] = right ? h : 0.0;
        want[std::size_t(i)] = right ? h - lambda / double(W - c0) : lambda / double(c0);
    }
    Array<T> bd = ref::to_array<T>(b, shape, dev), x(shape, dev);
    AdmmTvOptions ao;
    ao.lambda = lambda;
    ao.dims = dims;
    ao.isotropic = isotropic;
    SolverOptions opt;
    opt.max_iterations = 150;
    const SolverResult res = admm_tv<T>(*identity<T>(shape, dev), bd, x.view(), ao, opt);
    ref::measured("admm_tv step edge error", ref::rel_err(ref::to_vec<T>(x), want));
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), want), 1e-5) << "dims " << dims << " isotropic " << isotropic;
    const double f_want = 0.5 * (double(shape.size() / W) * (c0 * std::pow(lambda / c0, 2) +
                                                              (W - c0) * std::pow(lambda / (W - c0), 2))) +
                          lambda * double(shape.size() / W) * (h - lambda / c0 - lambda / (W - c0));
    EXPECT_NEAR(res.history.back().objective, f_want, 1e-3 * f_want);
}

// lambda = 0 through a general operator: ADMM returns the least-squares solution.
template <class T>
void admm_tv_least_squares(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 96, n = 64;
    const auto A = ref::random_mat<Sc>(m, n, 161);
    const auto b = ref::random_vec<Sc>(m, 162);
    const auto direct = ref::solve(ref::normal(A, 0.0), ref::matvec_adj(A, b));
    LinOpPtr<T> op = dense_op<T>(A, dev);
    Array<T> bd = ref::to_array<T>(b, Shape{m}, dev), x(Shape{8, 8}, dev);
    AdmmTvOptions ao;
    ao.inner_cg_iterations = 10;
    SolverOptions opt;
    opt.max_iterations = 30;
    admm_tv<T>(*op, bd, x.view(), ao, opt);
    ref::measured("admm_tv lambda=0 error vs least squares", ref::rel_err(ref::to_vec<T>(x), direct));
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(x), direct), 1e-5);
}

inline void admm_tv_nonnegative(Device dev) {
    const Shape shape{16, 16};
    Array<float> b = test::random_real(shape, 171);  // half of it negative
    Array<float> bd = b.to(dev), x(shape, dev);
    AdmmTvOptions ao;
    ao.lambda = 0.05;
    ao.nonnegative = true;
    SolverOptions opt;
    opt.max_iterations = 20;
    admm_tv<float>(*identity<float>(shape, dev), bd, x.view(), ao, opt);
    const auto xv = ref::to_vec<float>(x);
    EXPECT_GE(*std::min_element(xv.begin(), xv.end()), 0.0);
    EXPECT_GT(*std::max_element(xv.begin(), xv.end()), 0.3);
}

// --- the monitor and the divergence guard --------------------------------------------------

// Wraps an operator and makes its output NaN from the `poison_at`-th call on (apply and adjoint
// counted together).
template <class T>
class PoisonOp final : public LinearOperator<T> {
public:
    PoisonOp(LinOpPtr<T> inner, int poison_at) : inner_(std::move(inner)), poison_at_(poison_at) {}
    Shape domain_shape() const override { return inner_->domain_shape(); }
    Shape range_shape() const override { return inner_->range_shape(); }
    Device device() const override { return inner_->device(); }
    void apply(View<const T> x, View<T> y) const override {
        inner_->apply(x, y);
        poison(y);
    }
    void apply_adjoint(View<const T> y, View<T> x) const override {
        inner_->apply_adjoint(y, x);
        poison(x);
    }
    mutable int calls = 0;

private:
    void poison(View<T> v) const {
        if (++calls >= poison_at_) fill(View<T>(v.data() + v.size() / 2, Shape{1}, v.device()), T(std::nanf("")));
    }
    LinOpPtr<T> inner_;
    int poison_at_;
};

// Runs `solve(x, options)` expecting the guard to fire; checks the error and that x holds the
// estimate the callback saw last (the starting point when no iteration completed).
template <class T>
void expect_guard(Device dev, Array<T>& x, const std::function<void(View<T>, const SolverOptions&)>& solve,
                  const std::string& solver) {
    Array<T> last = x.clone();
    int last_iteration = 0;
    SolverOptions opt;
    opt.max_iterations = 100;
    opt.callback = [&](const IterationInfo& info) {
        copy(x, last.view());
        last_iteration = info.iteration;
        EXPECT_TRUE(std::isfinite(info.objective));
        return true;
    };
    try {
        solve(x.view(), opt);
        ADD_FAILURE() << solver << ": the divergence guard did not fire";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::failure);
        const std::string msg = e.what();
        EXPECT_NE(msg.find(solver + ": diverged at iteration " + std::to_string(last_iteration + 1)), std::string::npos)
            << msg;
    }
    EXPECT_GE(last_iteration, 2) << solver;
    EXPECT_TRUE(all_finite<T>(x)) << solver;
    EXPECT_EQ(test::max_rel_diff(x, last), 0.0) << solver << ": estimate not restored";
    (void)dev;
}

template <class T>
void divergence_guard_all_solvers(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 40, n = 24;
    const auto A = ref::random_mat<Sc>(m, n, 181);
    LinOpPtr<T> base = dense_op<T>(A, dev);
    Array<T> b = ref::to_array<T>(ref::random_vec<Sc>(m, 182), Shape{m}, dev);
    const auto x0 = ref::random_vec<Sc>(n, 183);
    auto fresh = [&] { return ref::to_array<T>(x0, Shape{n}, dev); };
    {
        PoisonOp<T> op(base, 9);  // cg_normal: 2 calls per iteration after A^H b and the initial residual
        Array<T> x = fresh();
        expect_guard<T>(dev, x, [&](View<T> xv, const SolverOptions& o) { cg_normal<T>(op, b, xv, 0.1, o); }, "cg_normal");
    }
    {
        PoisonOp<T> op(base, 10);
        Array<T> x = fresh();
        expect_guard<T>(dev, x, [&](View<T> xv, const SolverOptions& o) { cgls<T>(op, b, xv, 0.0, o); }, "cgls");
    }
    {
        PoisonOp<T> op(base, 11);
        Array<T> x = fresh();
        expect_guard<T>(dev, x, [&](View<T> xv, const SolverOptions& o) {
            fista<T>(op, b, xv, l1_prox<T>(0.1), l1_value<T>(0.1), FistaOptions{0.01}, o);
        }, "fista");
    }
    {
        PoisonOp<T> op(base, 38);
        Array<T> x = ref::to_array<T>(x0, Shape{4, 6}, dev);
        AdmmTvOptions ao;
        ao.lambda = 0.1;
        ao.rho = 1.0;
        expect_guard<T>(dev, x, [&](View<T> xv, const SolverOptions& o) { admm_tv<T>(op, b, xv, ao, o); }, "admm_tv");
    }
    // nesterov: a NaN gradient with a finite objective (caught after the step, x restored from
    // x_prev), and a NaN objective (caught before the step).
    for (int variant = 0; variant < 2; ++variant) {
        LeastSquares<T> ls(base, ref::to_array<T>(ref::random_vec<Sc>(m, 182), Shape{m}, dev));
        ObjectiveGradientFn<T> f = [&](const std::vector<View<const T>>& x, const std::vector<View<T>>& g) {
            double v = ls(x[0], g[0]);
            if (ls.calls >= 6) {
                if (variant == 0) fill(View<T>(g[0].data() + 3, Shape{1}, g[0].device()), T(INFINITY));
                else v = std::nan("");
            }
            return v;
        };
        Array<T> x = fresh();
        expect_guard<T>(dev, x, [&](View<T> xv, const SolverOptions& o) {
            nesterov<T>(f, {Block<T>{xv, 0.002}}, NesterovOptions<T>{}, o);
        }, "nesterov");
    }
}

inline void divergence_guard_sirt(Device dev) {
    const index_t m = 48, n = 32;
    LinOpPtr<float> base = dense_op<float>(nonnegative_matrix(m, n, 191), dev);
    Array<float> b = ref::to_array<float>(ref::random_vec<double>(m, 192), Shape{m}, dev);
    for (int at : {9, 10}) {  // the poisoned call is a forward (9) or a back projection (10)
        PoisonOp<float> op(base, at);
        Array<float> x(Shape{n}, dev);
        expect_guard<float>(dev, x, [&](View<float> xv, const SolverOptions& o) { sirt(op, b, xv, SirtOptions{}, o); },
                            "sirt");
    }
}

// Tolerance and callback stopping, and option validation.
template <class T>
void stopping_rules(Device dev) {
    using Sc = ref::S<T>;
    const index_t m = 40, n = 24;
    const auto A = ref::random_mat<Sc>(m, n, 201);
    LinOpPtr<T> op = dense_op<T>(A, dev);
    Array<T> b = ref::to_array<T>(ref::random_vec<Sc>(m, 202), Shape{m}, dev);
    {
        Array<T> x(Shape{n}, dev);
        SolverOptions opt;
        opt.max_iterations = 100;
        opt.tolerance = 1e-2;
        const SolverResult res = cgls<T>(*op, b, x.view(), 0.0, opt);
        EXPECT_TRUE(res.converged);
        EXPECT_EQ(res.stop_reason, "tolerance");
        EXPECT_LE(res.history.back().residual, 1e-2);
        EXPECT_GT(res.history[res.history.size() - 2].residual, 1e-2);
        EXPECT_EQ(int(res.history.size()), res.iterations);
        for (std::size_t k = 0; k < res.history.size(); ++k) {
            EXPECT_EQ(res.history[k].iteration, int(k) + 1);
            EXPECT_GT(res.history[k].step, 0.0);
            if (k) {
                EXPECT_GE(res.history[k].elapsed_s, res.history[k - 1].elapsed_s);
            }
        }
    }
    {
        Array<T> x(Shape{n}, dev);
        SolverOptions opt;
        opt.max_iterations = 100;
        int seen = 0;
        opt.callback = [&](const IterationInfo& info) {
            ++seen;
            return info.iteration < 3;
        };
        const SolverResult res = cg_normal<T>(*op, b, x.view(), 0.0, opt);
        EXPECT_EQ(res.iterations, 3);
        EXPECT_EQ(seen, 3);
        EXPECT_EQ(res.stop_reason, "callback");
        EXPECT_FALSE(res.converged);
    }
    {
        Array<T> x(Shape{n}, dev);
        SolverOptions opt;
        opt.max_iterations = -1;
        EXPECT_THROW(cgls<T>(*op, b, x.view(), 0.0, opt), Error);
        opt.max_iterations = 5;
        opt.tolerance = -1;
        EXPECT_THROW(cgls<T>(*op, b, x.view(), 0.0, opt), Error);
        opt.tolerance = 0;
        Array<T> wrong(Shape{n + 1}, dev);
        try {
            cgls<T>(*op, b, wrong.view(), 0.0, opt);
            ADD_FAILURE() << "wrong x size accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::bad_input);
            EXPECT_NE(std::string(e.what()).find("cgls: x has shape (25,)"), std::string::npos) << e.what();
        }
        opt.max_iterations = 0;
        const SolverResult res = cgls<T>(*op, b, x.view(), 0.0, opt);
        EXPECT_EQ(res.iterations, 0);
    }
}

}  // namespace lumen::cases
