// Regulariser and proximal-map test cases, run on the CPU by test_regularizers.cpp and on the GPU
// by solvers_gpu.cpp with the same assertions.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "tests/solvers/dense_ref.hpp"
#include "tests/support/test_support.hpp"

namespace lumen::cases {

template <class T>
Array<T> random_array(const Shape& shape, std::uint64_t seed, Device dev) {
    if constexpr (is_complex_v<T>) return test::random_complex(shape, seed).to(dev);
    else return test::random_real(shape, seed).to(dev);
}

// Coordinates of flat index i in `shape` (C order).
inline std::vector<index_t> coords(const Shape& shape, index_t i) {
    std::vector<index_t> c(static_cast<std::size_t>(shape.rank()));
    for (int a = shape.rank() - 1; a >= 0; --a) {
        c[std::size_t(a)] = i % shape[a];
        i /= shape[a];
    }
    return c;
}

// The gradient by the definition, one axis at a time.
template <class T>
std::vector<ref::S<T>> slow_gradient(const std::vector<ref::S<T>>& x, const Shape& shape, int dims) {
    const index_t n = shape.size();
    std::vector<ref::S<T>> g(std::size_t(n * dims), ref::S<T>(0));
    for (int d = 0; d < dims; ++d) {
        const int axis = shape.rank() - dims + d;
        index_t stride = 1;
        for (int a = axis + 1; a < shape.rank(); ++a) stride *= shape[a];
        for (index_t i = 0; i < n; ++i) {
            const auto c = coords(shape, i);
            if (c[std::size_t(axis)] + 1 < shape[axis])
                g[std::size_t(d * n + i)] = x[std::size_t(i + stride)] - x[std::size_t(i)];
        }
    }
    return g;
}

template <class T>
void finite_difference_matches_definition(Device dev, const Shape& shape, int dims) {
    LinOpPtr<T> D = finite_difference<T>(shape, dims, dev);
    std::vector<index_t> gdims{index_t(dims)};
    for (index_t v : shape.dims()) gdims.push_back(v);
    EXPECT_EQ(D->range_shape(), Shape(gdims));
    Array<T> x = random_array<T>(shape, 7, dev), g(D->range_shape(), dev);
    D->apply(x, g.view());
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(g), slow_gradient<T>(ref::to_vec<T>(x), shape, dims)), 1e-7);
    const double adj = adjoint_test(*D, 3);
    ref::measured("finite_difference adjoint test", adj);
    EXPECT_LT(adj, 1e-6);
    // The adjoint is the negative divergence: at an interior point along the last axis only,
    // (D^H g)_i = g_{i-1} - g_i.
    Array<T> gg = random_array<T>(D->range_shape(), 9, dev), dx(shape, dev);
    D->apply_adjoint(gg, dx.view());
    const auto gv = ref::to_vec<T>(gg), dv = ref::to_vec<T>(dx);
    const index_t n = shape.size(), W = shape[-1];
    for (index_t i = 0; i < n; ++i) {
        const auto c = coords(shape, i);
        ref::S<T> want(0);
        for (int d = 0; d < dims; ++d) {
            const int axis = shape.rank() - dims + d;
            index_t stride = 1;
            for (int a = axis + 1; a < shape.rank(); ++a) stride *= shape[a];
            if (c[std::size_t(axis)] >= 1) want += gv[std::size_t(d * n + i - stride)];
            if (c[std::size_t(axis)] + 1 < shape[axis]) want -= gv[std::size_t(d * n + i)];
        }
        ASSERT_LT(ref::mag(dv[std::size_t(i)] - want), 1e-5) << "index " << i << " (W " << W << ")";
    }
}

template <class T>
void total_variation_matches_definition(Device dev) {
    const Shape shape{3, 6, 7};
    Array<T> x = random_array<T>(shape, 11, dev);
    const auto g = slow_gradient<T>(ref::to_vec<T>(x), shape, 2);
    double iso = 0, aniso = 0;
    const index_t n = shape.size();
    for (index_t i = 0; i < n; ++i) {
        const double a = ref::mag(g[std::size_t(i)]), b = ref::mag(g[std::size_t(n + i)]);
        iso += std::sqrt(a * a + b * b);
        aniso += a + b;
    }
    EXPECT_NEAR(total_variation<T>(x, 2, true), iso, 1e-5 * iso);
    EXPECT_NEAR(total_variation<T>(x, 2, false), aniso, 1e-5 * aniso);
    // A step of height 2 across 6 x 7 planes, 3 of them: TV = 3 * 6 * 2 either way.
    std::vector<ref::S<T>> step(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) step[std::size_t(i)] = i % 7 >= 4 ? 2.0 : 0.0;
    Array<T> s = ref::to_array<T>(step, shape, dev);
    EXPECT_NEAR(total_variation<T>(s, 2, true), 36.0, 1e-9);
    EXPECT_NEAR(total_variation<T>(s, 2, false), 36.0, 1e-9);
    EXPECT_NEAR(total_variation<T>(s, 3, true), 36.0, 1e-9);
}

template <class T>
void soft_threshold_closed_form(Device dev) {
    const index_t n = 1000;
    const double tau = 0.4;
    Array<T> x = random_array<T>(Shape{n}, 21, dev);
    const auto xv = ref::to_vec<T>(x);
    soft_threshold(x.view(), tau);
    const auto yv = ref::to_vec<T>(x);
    double l1 = 0;
    for (index_t i = 0; i < n; ++i) {
        const auto v = xv[std::size_t(i)];
        const double a = ref::mag(v);
        const ref::S<T> want = a <= tau ? ref::S<T>(0) : v * ((a - tau) / a);
        ASSERT_LT(ref::mag(yv[std::size_t(i)] - want), 1e-6) << i;
        l1 += ref::mag(yv[std::size_t(i)]);
    }
    EXPECT_NEAR(l1_norm<T>(x), l1, 1e-6 * l1);
    // NaN survives, so a solver's divergence guard still sees it.
    Array<T> bad = random_array<T>(Shape{4}, 22, dev);
    fill(View<T>(bad.data() + 2, Shape{1}, dev), T(std::nanf("")));
    soft_threshold(bad.view(), tau);
    EXPECT_FALSE(all_finite<T>(bad));
    EXPECT_THROW(soft_threshold(bad.view(), -1.0), Error);
}

inline void projections_closed_form(Device dev) {
    Array<float> x = test::random_real(Shape{500}, 31).to(dev);
    const auto xv = ref::to_vec<float>(x);
    Array<float> y = x.clone();
    project_nonnegative(y.view());
    const auto yv = ref::to_vec<float>(y);
    for (std::size_t i = 0; i < xv.size(); ++i) ASSERT_EQ(yv[i], std::max(xv[i], 0.0));
    project_box(x.view(), -0.25f, 0.5f);
    const auto bv = ref::to_vec<float>(x);
    for (std::size_t i = 0; i < xv.size(); ++i) ASSERT_EQ(bv[i], std::min(std::max(xv[i], -0.25), 0.5));
    EXPECT_THROW(project_box(x.view(), 1.0f, 0.0f), Error);
    Array<float> bad = Array<float>::from({1.0f, std::nanf(""), -1.0f}, Shape{3}).to(dev);
    project_nonnegative(bad.view());
    EXPECT_FALSE(all_finite<float>(bad));
}

// --- wavelets ------------------------------------------------------------------------------

// The 1-D periodic db2 analysis matrix (L x L): approximations in rows [0, L/2), details after.
inline ref::Mat<double> db2_matrix(index_t L) {
    const double s3 = std::sqrt(3.0), d = 4.0 * std::sqrt(2.0);
    const double h[4] = {(1 + s3) / d, (3 + s3) / d, (3 - s3) / d, (1 - s3) / d};
    ref::Mat<double> W(L, L);
    for (index_t k = 0; k < L / 2; ++k)
        for (int m = 0; m < 4; ++m) {
            W(k, (2 * k + m) % L) += h[m];
            W(L / 2 + k, (2 * k + m) % L) += (m % 2 == 0 ? 1.0 : -1.0) * h[3 - m];
        }
    return W;
}

// The 2-D transform by explicit matrices, level by level, on every plane.
template <class T>
std::vector<ref::S<T>> slow_wavelet(std::vector<ref::S<T>> x, const Shape& shape, int levels) {
    const index_t H = shape[-2], W = shape[-1], planes = shape.size() / (H * W);
    for (int l = 0; l < levels; ++l) {
        const index_t h = H >> l, w = W >> l;
        const auto Mw = db2_matrix(w), Mh = db2_matrix(h);
        for (index_t p = 0; p < planes; ++p) {
            auto at = [&](index_t r, index_t c) -> ref::S<T>& { return x[std::size_t(p * H * W + r * W + c)]; };
            for (index_t r = 0; r < h; ++r) {
                std::vector<ref::S<T>> row(std::size_t(w), ref::S<T>(0));
                for (index_t i = 0; i < w; ++i)
                    for (index_t j = 0; j < w; ++j) row[std::size_t(i)] += Mw(i, j) * at(r, j);
                for (index_t i = 0; i < w; ++i) at(r, i) = row[std::size_t(i)];
            }
            for (index_t c = 0; c < w; ++c) {
                std::vector<ref::S<T>> col(std::size_t(h), ref::S<T>(0));
                for (index_t i = 0; i < h; ++i)
                    for (index_t j = 0; j < h; ++j) col[std::size_t(i)] += Mh(i, j) * at(j, c);
                for (index_t i = 0; i < h; ++i) at(i, c) = col[std::size_t(i)];
            }
        }
    }
    return x;
}

// Against the explicit matrices; perfect reconstruction; orthogonality (norm preserved, adjoint test).
template <class T>
void wavelet_matches_matrices_and_is_orthogonal(Device dev, const Shape& shape, int levels) {
    const int used = wavelet2d_levels(shape, levels);
    LinOpPtr<T> Wop = wavelet2d<T>(shape, levels, dev);
    Array<T> x = random_array<T>(shape, 41, dev), c(shape, dev), back(shape, dev);
    Wop->apply(x, c.view());
    const double vs_ref = ref::rel_err(ref::to_vec<T>(c), slow_wavelet<T>(ref::to_vec<T>(x), shape, used));
    Wop->apply_adjoint(c, back.view());
    const double recon = ref::rel_err(ref::to_vec<T>(back), ref::to_vec<T>(x));
    const double energy = std::fabs(norm2<T>(c) / norm2<T>(x) - 1.0);
    const double adj = adjoint_test(*Wop, 5);
    ref::measured("wavelet vs explicit matrices", vs_ref);
    ref::measured("wavelet reconstruction error", recon);
    ref::measured("wavelet energy change", energy);
    ref::measured("wavelet adjoint test", adj);
    EXPECT_LT(vs_ref, 1e-6) << shape.str() << " levels " << used;
    EXPECT_LT(recon, 1e-6) << shape.str();
    EXPECT_LT(energy, 1e-6) << shape.str();
    EXPECT_LT(adj, 1e-6) << shape.str();
    // W W^H = I too (square and orthogonal).
    Wop->apply_adjoint(x, c.view());
    Wop->apply(c, back.view());
    EXPECT_LT(ref::rel_err(ref::to_vec<T>(back), ref::to_vec<T>(x)), 1e-6) << shape.str();
}

// A constant image has no detail anywhere; its approximation is c 2^levels (each level's 2-D
// low-pass sums to 2).
inline void wavelet_constant_image(Device dev) {
    const Shape shape{2, 16, 24};
    LinOpPtr<float> Wop = wavelet2d<float>(shape, 3, dev);
    Array<float> x(shape, dev), c(shape, dev);
    fill(x.view(), 0.5f);
    Wop->apply(x, c.view());
    const auto cv = ref::to_vec<float>(c);
    for (index_t i = 0; i < shape.size(); ++i) {
        const index_t r = (i / 24) % 16, col = i % 24;
        const double want = (r < 2 && col < 3) ? 0.5 * 8.0 : 0.0;
        ASSERT_NEAR(cv[std::size_t(i)], want, 1e-5) << r << "," << col;
    }
}

inline void wavelet_levels_rule() {
    EXPECT_EQ(wavelet2d_levels(Shape{320, 320}, 10), 6);  // 320 = 2^6 * 5
    EXPECT_EQ(wavelet2d_levels(Shape{368, 320}, 10), 4);  // 368 = 2^4 * 23
    EXPECT_EQ(wavelet2d_levels(Shape{3, 64, 64}, 4), 4);
    EXPECT_EQ(wavelet2d_levels(Shape{64, 64}, 10), 6);  // down to 1 x 1
    EXPECT_EQ(wavelet2d_levels(Shape{6, 10}, 3), 1);
    EXPECT_THROW(wavelet2d_levels(Shape{7, 8}, 1), Error);
    EXPECT_THROW(wavelet2d_levels(Shape{8, 8}, 0), Error);
    EXPECT_THROW(wavelet2d_levels(Shape{8}, 1), Error);
    EXPECT_THROW(wavelet2d<float>(Shape{9, 8}, 2, Device::cpu), Error);
}

}  // namespace lumen::cases
