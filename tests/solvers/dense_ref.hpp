// Slow, obvious double-precision references for the solver tests: dense matrices, products,
// a direct solve (Gaussian elimination with partial pivoting), and conversions to lumen arrays.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <random>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::ref {

// Prints a measured quantity when LUMEN_TEST_VERBOSE is set (for calibrating thresholds).
inline void measured(const char* what, double value) {
    if (std::getenv("LUMEN_TEST_VERBOSE")) std::printf("[measured] %s = %.3e\n", what, value);
}

template <class T> struct scalar_of { using type = double; };
template <> struct scalar_of<complex64> { using type = std::complex<double>; };
// The double-precision scalar matching an element type.
template <class T> using S = typename scalar_of<T>::type;

inline double widen(float v) { return v; }
inline std::complex<double> widen(complex64 v) { return {v.re, v.im}; }
inline float narrow(double v) { return float(v); }
inline complex64 narrow(std::complex<double> v) { return complex64(float(v.real()), float(v.imag())); }
inline double cj(double v) { return v; }
inline std::complex<double> cj(std::complex<double> v) { return std::conj(v); }
inline double mag(double v) { return std::fabs(v); }
inline double mag(std::complex<double> v) { return std::abs(v); }

template <class Sc>
Sc draw(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    if constexpr (std::is_same_v<Sc, double>) {
        return u(rng);
    } else {
        const double re = u(rng);
        return Sc(re, u(rng));
    }
}

template <class Sc>
struct Mat {
    index_t m = 0, n = 0;
    std::vector<Sc> a;
    Mat(index_t m_, index_t n_) : m(m_), n(n_), a(std::size_t(m_ * n_), Sc(0)) {}
    Sc& operator()(index_t i, index_t j) { return a[std::size_t(i * n + j)]; }
    Sc operator()(index_t i, index_t j) const { return a[std::size_t(i * n + j)]; }
};

template <class Sc>
Mat<Sc> random_mat(index_t m, index_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Mat<Sc> A(m, n);
    for (Sc& v : A.a) v = draw<Sc>(rng);
    return A;
}

template <class Sc>
std::vector<Sc> random_vec(index_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<Sc> v(static_cast<std::size_t>(n));
    for (Sc& e : v) e = draw<Sc>(rng);
    return v;
}

template <class Sc>
std::vector<Sc> matvec(const Mat<Sc>& A, const std::vector<Sc>& x) {
    std::vector<Sc> y(std::size_t(A.m), Sc(0));
    for (index_t i = 0; i < A.m; ++i)
        for (index_t j = 0; j < A.n; ++j) y[std::size_t(i)] += A(i, j) * x[std::size_t(j)];
    return y;
}

template <class Sc>
std::vector<Sc> matvec_adj(const Mat<Sc>& A, const std::vector<Sc>& y) {
    std::vector<Sc> x(std::size_t(A.n), Sc(0));
    for (index_t i = 0; i < A.m; ++i)
        for (index_t j = 0; j < A.n; ++j) x[std::size_t(j)] += cj(A(i, j)) * y[std::size_t(i)];
    return x;
}

// A^H A + lambda I
template <class Sc>
Mat<Sc> normal(const Mat<Sc>& A, double lambda) {
    Mat<Sc> N(A.n, A.n);
    for (index_t i = 0; i < A.n; ++i)
        for (index_t j = 0; j < A.n; ++j) {
            Sc s(0);
            for (index_t k = 0; k < A.m; ++k) s += cj(A(k, i)) * A(k, j);
            N(i, j) = s + (i == j ? Sc(lambda) : Sc(0));
        }
    return N;
}

// Solves the square system M x = rhs.
template <class Sc>
std::vector<Sc> solve(Mat<Sc> M, std::vector<Sc> rhs) {
    const index_t n = M.n;
    for (index_t c = 0; c < n; ++c) {
        index_t p = c;
        for (index_t r = c + 1; r < n; ++r)
            if (mag(M(r, c)) > mag(M(p, c))) p = r;
        for (index_t j = 0; j < n; ++j) std::swap(M(c, j), M(p, j));
        std::swap(rhs[std::size_t(c)], rhs[std::size_t(p)]);
        for (index_t r = c + 1; r < n; ++r) {
            const Sc f = M(r, c) / M(c, c);
            for (index_t j = c; j < n; ++j) M(r, j) -= f * M(c, j);
            rhs[std::size_t(r)] -= f * rhs[std::size_t(c)];
        }
    }
    std::vector<Sc> x(static_cast<std::size_t>(n));
    for (index_t r = n - 1; r >= 0; --r) {
        Sc s = rhs[std::size_t(r)];
        for (index_t j = r + 1; j < n; ++j) s -= M(r, j) * x[std::size_t(j)];
        x[std::size_t(r)] = s / M(r, r);
    }
    return x;
}

// Q diag(eig) Q^H with Q unitary (Gram-Schmidt of a random matrix): Hermitian positive definite
// with the given spectrum.
template <class Sc>
Mat<Sc> with_spectrum(const std::vector<double>& eig, std::uint64_t seed) {
    const index_t n = index_t(eig.size());
    Mat<Sc> Q = random_mat<Sc>(n, n, seed);  // columns orthonormalised below
    for (index_t j = 0; j < n; ++j) {
        for (int pass = 0; pass < 2; ++pass)
            for (index_t k = 0; k < j; ++k) {
                Sc d(0);
                for (index_t i = 0; i < n; ++i) d += cj(Q(i, k)) * Q(i, j);
                for (index_t i = 0; i < n; ++i) Q(i, j) -= d * Q(i, k);
            }
        double nn = 0;
        for (index_t i = 0; i < n; ++i) nn += mag(Q(i, j)) * mag(Q(i, j));
        for (index_t i = 0; i < n; ++i) Q(i, j) /= std::sqrt(nn);
    }
    Mat<Sc> M(n, n);
    for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) {
            Sc s(0);
            for (index_t k = 0; k < n; ++k) s += Q(i, k) * eig[std::size_t(k)] * cj(Q(j, k));
            M(i, j) = s;
        }
    return M;
}

template <class Sc>
double norm(const std::vector<Sc>& v) {
    double s = 0;
    for (const Sc& e : v) s += mag(e) * mag(e);
    return std::sqrt(s);
}

template <class Sc>
double rel_err(const std::vector<Sc>& a, const std::vector<Sc>& ref) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d += mag(a[i] - ref[i]) * mag(a[i] - ref[i]);
    return std::sqrt(d) / norm(ref);
}

// Conversions between references and lumen arrays (any device).
template <class T>
Array<T> to_array(const std::vector<S<T>>& v, const Shape& shape, Device dev) {
    Array<T> h(shape);
    for (index_t i = 0; i < h.size(); ++i) h[i] = narrow(v[std::size_t(i)]);
    return dev == Device::cpu ? std::move(h) : h.to(dev);
}
template <class T>
Array<T> to_array(const Mat<S<T>>& M, Device dev) {
    return to_array<T>(M.a, Shape{M.m, M.n}, dev);
}
template <class T>
std::vector<S<T>> to_vec(View<const T> v) {
    const Array<T> h = Array<T>::copy_of(v, Device::cpu);
    std::vector<S<T>> out(std::size_t(h.size()));
    for (index_t i = 0; i < h.size(); ++i) out[std::size_t(i)] = widen(h[i]);
    return out;
}

}  // namespace lumen::ref
