// Operator-interface test cases, run on the CPU by test_linop.cpp and on the GPU by
// solvers_gpu.cpp with the same assertions.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "lumen/linalg.hpp"
#include "lumen/linop.hpp"
#include "tests/solvers/dense_ref.hpp"
#include "tests/support/test_support.hpp"

namespace lumen::cases {

// An operator whose "adjoint" is deliberately wrong (the transpose without conjugation for
// complex, a perturbed matrix for real): the dot-product test must flag it.
template <class T>
class WrongAdjointOp final : public LinearOperator<T> {
public:
    WrongAdjointOp(LinOpPtr<T> a, LinOpPtr<T> wrong) : a_(std::move(a)), wrong_(std::move(wrong)) {}
    Shape domain_shape() const override { return a_->domain_shape(); }
    Shape range_shape() const override { return a_->range_shape(); }
    Device device() const override { return a_->device(); }
    void apply(View<const T> x, View<T> y) const override { a_->apply(x, y); }
    void apply_adjoint(View<const T> y, View<T> x) const override { wrong_->apply_adjoint(y, x); }

private:
    LinOpPtr<T> a_, wrong_;
};

// dense_matrix against double loops, both directions.
template <class T>
void dense_matches_reference(Device dev) {
    const index_t m = 37, n = 23;
    const auto A = ref::random_mat<ref::S<T>>(m, n, 11);
    const auto x = ref::random_vec<ref::S<T>>(n, 12), y = ref::random_vec<ref::S<T>>(m, 13);
    LinOpPtr<T> op = dense_matrix<T>(ref::to_array<T>(A, Device::cpu), dev);
    EXPECT_EQ(op->domain_shape(), (Shape{n}));
    EXPECT_EQ(op->range_shape(), (Shape{m}));
    EXPECT_EQ(op->device(), dev);
    Array<T> xd = ref::to_array<T>(x, Shape{n}, dev), yd = ref::to_array<T>(y, Shape{m}, dev);
    Array<T> ax(Shape{m}, dev), ahy(Shape{n}, dev);
    op->apply(xd, ax.view());
    op->apply_adjoint(yd, ahy.view());
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(ax), ref::matvec(A, x)), 1e-6);
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(ahy), ref::matvec_adj(A, y)), 1e-6);
    EXPECT_LT(adjoint_test(*op, 3), 1e-6);
    // The normal operator by default goes through apply and apply_adjoint.
    Array<T> nx(Shape{n}, dev);
    op->apply_normal(xd, nx.view());
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(nx), ref::matvec_adj(A, ref::matvec(A, x))), 1e-5);
}

template <class T>
void adjoint_test_flags_a_wrong_adjoint(Device dev) {
    auto A = ref::random_mat<ref::S<T>>(20, 16, 21);
    LinOpPtr<T> good = dense_matrix<T>(ref::to_array<T>(A, Device::cpu), dev);
    std::mt19937_64 rng(5);
    for (auto& v : A.a) v = v + 0.05 * ref::draw<ref::S<T>>(rng);
    LinOpPtr<T> near = dense_matrix<T>(ref::to_array<T>(A, Device::cpu), dev);
    WrongAdjointOp<T> wrong(good, near);
    const double err_good = adjoint_test(*good, 1), err_wrong = adjoint_test(wrong, 1);
    EXPECT_LT(err_good, 1e-6);
    EXPECT_GT(err_wrong, 1e-3);
}

// scaled, compose, sum, identity and adjoint against the products of their matrices.
template <class T>
void algebra_matches_matrices(Device dev) {
    using Sc = ref::S<T>;
    const auto A = ref::random_mat<Sc>(12, 9, 31), B = ref::random_mat<Sc>(9, 7, 32), C = ref::random_mat<Sc>(12, 9, 33);
    LinOpPtr<T> a = dense_matrix<T>(ref::to_array<T>(A, Device::cpu), dev);
    LinOpPtr<T> b = dense_matrix<T>(ref::to_array<T>(B, Device::cpu), dev);
    LinOpPtr<T> c = dense_matrix<T>(ref::to_array<T>(C, Device::cpu), dev);
    const auto x7 = ref::random_vec<Sc>(7, 34), x9 = ref::random_vec<Sc>(9, 35), y12 = ref::random_vec<Sc>(12, 36);
    auto run = [&](const LinearOperator<T>& op, const std::vector<Sc>& x) {
        Array<T> xd = ref::to_array<T>(x, op.domain_shape(), dev), yd(op.range_shape(), dev);
        op.apply(xd, yd.view());
        return ref::to_vec<T>(yd);
    };
    auto run_adj = [&](const LinearOperator<T>& op, const std::vector<Sc>& y) {
        Array<T> yd = ref::to_array<T>(y, op.range_shape(), dev), xd(op.domain_shape(), dev);
        op.apply_adjoint(yd, xd.view());
        return ref::to_vec<T>(xd);
    };
    // A B
    LinOpPtr<T> ab = compose(a, b);
    EXPECT_LT(ref::rel_err(run(*ab, x7), ref::matvec(A, ref::matvec(B, x7))), 1e-5);
    EXPECT_LT(ref::rel_err(run_adj(*ab, y12), ref::matvec_adj(B, ref::matvec_adj(A, y12))), 1e-5);
    EXPECT_LT(adjoint_test(*ab), 1e-5);
    // A + C
    LinOpPtr<T> apc = sum(a, c);
    std::vector<Sc> want = ref::matvec(A, x9), cx = ref::matvec(C, x9);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += cx[i];
    EXPECT_LT(ref::rel_err(run(*apc, x9), want), 1e-6);
    EXPECT_LT(adjoint_test(*apc), 1e-5);
    // s A with s complex for complex T: the adjoint uses conj(s)
    T s;
    if constexpr (is_complex_v<T>) s = T(1.5f, 0.6f);
    else s = 1.5f;
    LinOpPtr<T> sa = scaled(s, a);
    std::vector<Sc> want_s = ref::matvec(A, x9);
    for (auto& v : want_s) v *= ref::widen(s);
    EXPECT_LT(ref::rel_err(run(*sa, x9), want_s), 1e-6);
    EXPECT_LT(adjoint_test(*sa), 1e-5);
    // identity and adjoint
    LinOpPtr<T> id = identity<T>(Shape{9}, dev);
    EXPECT_LT(ref::rel_err(run(*id, x9), x9), 1e-7);
    LinOpPtr<T> ah = adjoint(a);
    EXPECT_EQ(ah->domain_shape(), (Shape{12}));
    EXPECT_LT(ref::rel_err(run(*ah, y12), ref::matvec_adj(A, y12)), 1e-6);
    EXPECT_LT(adjoint_test(*ah), 1e-5);
    // A^H A x through the scaled operator's normal: |s|^2 A^H A x
    Array<T> xd = ref::to_array<T>(x9, Shape{9}, dev), nd(Shape{9}, dev);
    sa->apply_normal(xd, nd.view());
    std::vector<Sc> want_n = ref::matvec_adj(A, ref::matvec(A, x9));
    for (auto& v : want_n) v *= ref::mag(ref::widen(s)) * ref::mag(ref::widen(s));
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(nd), want_n), 1e-5);
}

// Power iteration against a known largest singular value: A = U diag(sigma) with U unitary
// (columns orthonormal), so ||A|| = max sigma.
template <class T>
void operator_norm_matches_known_value(Device dev) {
    using Sc = ref::S<T>;
    std::vector<double> eig(16);
    for (std::size_t i = 0; i < eig.size(); ++i) eig[i] = 0.2 + 1.8 * double(i) / 15.0;  // 0.2 .. 2.0
    eig.back() = 3.0;                                                                       // gap: 3 vs 1.88
    const auto M = ref::with_spectrum<Sc>(eig, 41);  // Hermitian, singular values = eig
    LinOpPtr<T> op = dense_matrix<T>(ref::to_array<T>(M, Device::cpu), dev);
    const double s = operator_norm(*op, 30);
    EXPECT_NEAR(s, 3.0, 3e-4);
    EXPECT_LE(s, 3.0 * (1 + 1e-6));  // from below
}

}  // namespace lumen::cases
