// Hermitian eigen-decomposition: Householder tridiagonalisation, a diagonal unitary scaling that
// makes the tridiagonal real, and implicit symmetric QR with Wilkinson shifts (Golub & Van Loan,
// "Matrix Computations", ch. 8). Written for matrices of a few hundred rows in double precision.
#include "src/mri/eigen.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include <omp.h>

#include "lumen/core/error.hpp"

namespace lumen::detail {

namespace {

double cabs(const complex128& z) { return std::hypot(z.re, z.im); }

// Eigenvalues (diag on return) and eigenvectors (z, row-major n x n, columns) of the real symmetric
// tridiagonal matrix with diagonal `diag` and off-diagonal `off` (off[i] between i and i + 1).
void tridiagonal_qr(std::vector<double>& diag, std::vector<double>& off, std::vector<double>& z, int n) {
    // The tridiagonal (and the bulge of each QR step) lives in a dense matrix; every rotation only
    // touches a 4-wide window of it, so the cost stays O(n) per sweep.
    std::vector<double> t(std::size_t(n) * std::size_t(n), 0.0);
    auto T = [&](int i, int j) -> double& { return t[std::size_t(i) * std::size_t(n) + std::size_t(j)]; };
    for (int i = 0; i < n; ++i) T(i, i) = diag[std::size_t(i)];
    for (int i = 0; i + 1 < n; ++i) T(i + 1, i) = T(i, i + 1) = off[std::size_t(i)];
    z.assign(std::size_t(n) * std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) z[std::size_t(i) * std::size_t(n) + std::size_t(i)] = 1.0;

    const double eps = 2.220446049250313e-16;
    long budget = 60L * n + 100;
    for (;;) {
        for (int i = 0; i + 1 < n; ++i)
            if (std::fabs(T(i + 1, i)) <= eps * (std::fabs(T(i, i)) + std::fabs(T(i + 1, i + 1)))) T(i + 1, i) = T(i, i + 1) = 0.0;
        int hi = n - 1;
        while (hi > 0 && T(hi, hi - 1) == 0.0) --hi;
        if (hi == 0) break;
        int lo = hi - 1;
        while (lo > 0 && T(lo, lo - 1) != 0.0) --lo;
        if (--budget < 0) throw Error(ErrorCode::internal, "hermitian_eigen: the QR iteration did not converge");

        // Wilkinson shift: the eigenvalue of the trailing 2x2 block closer to its last entry.
        const double a = T(hi - 1, hi - 1), b = T(hi, hi - 1), c = T(hi, hi);
        const double d = 0.5 * (a - c);
        const double mu = c - b * b / (d + (d >= 0.0 ? 1.0 : -1.0) * std::hypot(d, b));
        double x = T(lo, lo) - mu, y = T(lo + 1, lo);
        for (int k = lo; k < hi; ++k) {
            // R = [[cs, sn], [-sn, cs]] on (k, k+1) maps (x, y) to (r, 0); T <- R T R^T; Z <- Z R^T.
            const double r = std::hypot(x, y);
            const double cs = r == 0.0 ? 1.0 : x / r, sn = r == 0.0 ? 0.0 : y / r;
            const int j0 = std::max(lo, k - 1), j1 = std::min(hi, k + 2);
            for (int j = j0; j <= j1; ++j) {
                const double u = T(k, j), v = T(k + 1, j);
                T(k, j) = cs * u + sn * v;
                T(k + 1, j) = -sn * u + cs * v;
            }
            for (int j = j0; j <= j1; ++j) {
                const double u = T(j, k), v = T(j, k + 1);
                T(j, k) = cs * u + sn * v;
                T(j, k + 1) = -sn * u + cs * v;
            }
            for (int i = 0; i < n; ++i) {
                double& zk = z[std::size_t(i) * std::size_t(n) + std::size_t(k)];
                double& zk1 = z[std::size_t(i) * std::size_t(n) + std::size_t(k + 1)];
                const double u = zk, v = zk1;
                zk = cs * u + sn * v;
                zk1 = -sn * u + cs * v;
            }
            if (k + 2 <= hi) {
                x = T(k + 1, k);
                y = T(k + 2, k);
            }
        }
    }
    for (int i = 0; i < n; ++i) diag[std::size_t(i)] = T(i, i);
}

}  // namespace

std::vector<complex128> gram_matrix(const complex64* y, index_t C, index_t n_samples) {
    const int threads = omp_get_max_threads();
    const std::size_t cc = std::size_t(C * C);
    std::vector<complex128> partial(std::size_t(threads) * cc, complex128(0.0));
#pragma omp parallel num_threads(threads)
    {
        complex128* g = partial.data() + std::size_t(omp_get_thread_num()) * cc;
        std::vector<complex128> v(static_cast<std::size_t>(C));
#pragma omp for schedule(static)
        for (index_t p = 0; p < n_samples; ++p) {
            for (index_t c = 0; c < C; ++c) {
                const complex64 s = y[c * n_samples + p];
                v[std::size_t(c)] = complex128(s.re, s.im);
            }
            for (index_t c = 0; c < C; ++c)
                for (index_t d = 0; d <= c; ++d) g[c * C + d] += v[std::size_t(c)] * conj(v[std::size_t(d)]);
        }
    }
    std::vector<complex128> gram(cc, complex128(0.0));
    for (int t = 0; t < threads; ++t)
        for (index_t c = 0; c < C; ++c)
            for (index_t d = 0; d <= c; ++d)
                gram[std::size_t(c * C + d)] += partial[std::size_t(t) * cc + std::size_t(c * C + d)];
    for (index_t c = 0; c < C; ++c)
        for (index_t d = 0; d < c; ++d) gram[std::size_t(d * C + c)] = conj(gram[std::size_t(c * C + d)]);
    return gram;
}

HermitianEigen hermitian_eigen(const std::vector<complex128>& a_in, int n) {
    require(n >= 1 && a_in.size() == std::size_t(n) * std::size_t(n),
            "hermitian_eigen: expected an n x n matrix, n = " + std::to_string(n));
    const auto N = std::size_t(n);
    std::vector<complex128> a(N * N);
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = 0; j < N; ++j) {
            const complex128 u = a_in[i * N + j], v = conj(a_in[j * N + i]);
            a[i * N + j] = complex128(0.5 * (u.re + v.re), 0.5 * (u.im + v.im));
        }

    // Householder: H_k = I - tau v v^H zeroes column k below the sub-diagonal; A <- H_k A H_k.
    std::vector<std::vector<complex128>> vs(N);
    std::vector<double> taus(N, 0.0);
    for (std::size_t k = 0; k + 2 < N; ++k) {
        const std::size_t L = N - k - 1;
        std::vector<complex128> v(L);
        double xnorm2 = 0.0;
        for (std::size_t i = 0; i < L; ++i) {
            v[i] = a[(k + 1 + i) * N + k];
            xnorm2 += norm(v[i]);
        }
        const double xnorm = std::sqrt(xnorm2);
        if (xnorm == 0.0) continue;
        const double ax0 = cabs(v[0]);
        const complex128 phase = ax0 > 0.0 ? complex128(v[0].re / ax0, v[0].im / ax0) : complex128(1.0, 0.0);
        const complex128 alpha = phase * (-xnorm);
        v[0] -= alpha;
        double vnorm2 = 0.0;
        for (const auto& e : v) vnorm2 += norm(e);
        if (vnorm2 == 0.0) continue;
        const double tau = 2.0 / vnorm2;
        // p = tau B v, K = tau/2 v^H p (real), w = p - K v, B <- B - v w^H - w v^H.
        std::vector<complex128> p(L);
        for (std::size_t i = 0; i < L; ++i) {
            complex128 acc(0.0, 0.0);
            const complex128* row = &a[(k + 1 + i) * N + k + 1];
            for (std::size_t j = 0; j < L; ++j) acc += row[j] * v[j];
            p[i] = acc * tau;
        }
        double vhp = 0.0;
        for (std::size_t i = 0; i < L; ++i) vhp += (conj(v[i]) * p[i]).re;
        const double K = 0.5 * tau * vhp;
        std::vector<complex128> w(L);
        for (std::size_t i = 0; i < L; ++i) w[i] = p[i] - v[i] * K;
        for (std::size_t i = 0; i < L; ++i) {
            complex128* row = &a[(k + 1 + i) * N + k + 1];
            for (std::size_t j = 0; j < L; ++j) row[j] -= v[i] * conj(w[j]) + w[i] * conj(v[j]);
        }
        a[(k + 1) * N + k] = alpha;
        a[k * N + k + 1] = conj(alpha);
        for (std::size_t i = 1; i < L; ++i) a[(k + 1 + i) * N + k] = a[k * N + k + 1 + i] = complex128(0.0, 0.0);
        vs[k] = std::move(v);
        taus[k] = tau;
    }

    // T = D Tr D^H with Tr real: d_0 = 1, d_{i+1} = d_i e_i / |e_i|.
    std::vector<double> diag(N), off(N > 1 ? N - 1 : 0);
    std::vector<complex128> dscale(N, complex128(1.0, 0.0));
    for (std::size_t i = 0; i < N; ++i) diag[i] = a[i * N + i].re;
    for (std::size_t i = 0; i + 1 < N; ++i) {
        const complex128 e = a[(i + 1) * N + i];
        const double m = cabs(e);
        off[i] = m;
        dscale[i + 1] = m > 0.0 ? dscale[i] * complex128(e.re / m, e.im / m) : dscale[i];
    }
    std::vector<double> z;
    tridiagonal_qr(diag, off, z, n);

    // Eigenvectors U = H_0 H_1 ... H_{n-3} D Z.
    std::vector<complex128> u(N * N);
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = 0; j < N; ++j) u[i * N + j] = dscale[i] * z[i * N + j];
    for (std::size_t kk = N >= 2 ? N - 2 : 0; kk-- > 0;) {
        if (taus[kk] == 0.0) continue;
        const auto& v = vs[kk];
        const std::size_t L = v.size();
        for (std::size_t j = 0; j < N; ++j) {
            complex128 s(0.0, 0.0);
            for (std::size_t i = 0; i < L; ++i) s += conj(v[i]) * u[(kk + 1 + i) * N + j];
            s = s * taus[kk];
            for (std::size_t i = 0; i < L; ++i) u[(kk + 1 + i) * N + j] -= v[i] * s;
        }
    }

    std::vector<std::size_t> order(N);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::sort(order.begin(), order.end(), [&](std::size_t p, std::size_t q) { return diag[p] > diag[q]; });
    HermitianEigen out;
    out.values.resize(N);
    out.vectors.resize(N * N);
    for (std::size_t jj = 0; jj < N; ++jj) {
        out.values[jj] = diag[order[jj]];
        for (std::size_t i = 0; i < N; ++i) out.vectors[jj * N + i] = u[i * N + order[jj]];
    }
    return out;
}

}  // namespace lumen::detail
