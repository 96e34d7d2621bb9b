// Mixed-state probes (include/lumen/ptycho/modes.hpp).
#include "lumen/ptycho/modes.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "lumen/linalg.hpp"
#include "src/mri/eigen.hpp"

namespace lumen::ptycho {

namespace {

View<complex64> mode_view(View<complex64> modes, index_t k, index_t m) {
    return View<complex64>(modes.data() + k * m, Shape{m}, modes.device());
}

}  // namespace

Array<complex64> initial_probe_modes(View<const complex64> probe_v, index_t modes, double fraction) {
    require(probe_v.rank() == 2, "ptycho::initial_probe_modes: expected a probe [my][mx], got " + probe_v.shape().str());
    require(modes >= 1, "ptycho::initial_probe_modes: the number of modes must be at least 1");
    require(std::isfinite(fraction) && fraction > 0 && fraction * double(modes - 1) < 1,
            "ptycho::initial_probe_modes: the extra modes' power fraction must be > 0 and leave mode 0 some power");
    const Array<complex64> probe = Array<complex64>::copy_of(probe_v, Device::cpu);
    const index_t my = probe.dim(0), mx = probe.dim(1), m = my * mx;
    Array<complex64> out(modes > 1 ? Shape{modes, my, mx} : Shape{my, mx});
    for (index_t r = 0; r < m; ++r) out[r] = probe[r];
    if (modes == 1) return out;
    // Centroid and rms width of |P|^2.
    double e = 0, cy = 0, cx = 0;
    for (index_t y = 0; y < my; ++y)
        for (index_t x = 0; x < mx; ++x) {
            const double w = double(norm(probe[y * mx + x]));
            e += w;
            cy += w * double(y);
            cx += w * double(x);
        }
    require(e > 0 && std::isfinite(e), "ptycho::initial_probe_modes: the probe is zero or not finite");
    cy /= e;
    cx /= e;
    double var = 0;
    for (index_t y = 0; y < my; ++y)
        for (index_t x = 0; x < mx; ++x)
            var += double(norm(probe[y * mx + x])) * ((double(y) - cy) * (double(y) - cy) + (double(x) - cx) * (double(x) - cx));
    const double width = std::max(std::sqrt(0.5 * var / e), 0.5);
    // Exponents (a, b) by total degree: (1,0), (0,1), (1,1), (2,0), (0,2), (2,1), ...
    std::vector<std::pair<int, int>> powers;
    for (int degree = 1; index_t(powers.size()) < modes - 1; ++degree)
        for (int a = degree; a >= 0 && index_t(powers.size()) < modes - 1; --a) powers.push_back({a, degree - a});
    const double extra = fraction * e;
    for (index_t k = 1; k < modes; ++k) {
        const auto [a, b] = powers[std::size_t(k - 1)];
        complex64* q = out.data() + k * m;
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x) {
                const double u = (double(x) - cx) / width, v = (double(y) - cy) / width;
                q[y * mx + x] = probe[y * mx + x] * float(std::pow(u, a) * std::pow(v, b));
            }
        // Gram-Schmidt against the modes before it (in double).
        for (index_t l = 0; l < k; ++l) {
            const complex64* p = out.data() + l * m;
            complex128 c{0, 0};
            double pp = 0;
            for (index_t r = 0; r < m; ++r) {
                c += complex128(conj(p[r])) * complex128(q[r]);
                pp += double(norm(p[r]));
            }
            const complex128 s = c * (1.0 / pp);
            for (index_t r = 0; r < m; ++r) q[r] = q[r] - complex64(complex128(p[r]) * s);
        }
        double qq = 0;
        for (index_t r = 0; r < m; ++r) qq += double(norm(q[r]));
        require(qq > 0 && std::isfinite(qq), "ptycho::initial_probe_modes: mode " + std::to_string(k) +
                                                 " vanished (the probe has too few pixels for " + std::to_string(modes) +
                                                 " modes)");
        const float scale = float(std::sqrt(extra / qq));
        for (index_t r = 0; r < m; ++r) q[r] = q[r] * scale;
    }
    const float keep = float(std::sqrt(1.0 - fraction * double(modes - 1)));
    for (index_t r = 0; r < m; ++r) out[r] = out[r] * keep;
    return out;
}

std::vector<double> orthogonalize_modes(View<complex64> modes) {
    require(modes.rank() == 3 || modes.rank() == 2,
            "ptycho::orthogonalize_modes: expected modes [K][my][mx], got " + modes.shape().str());
    const index_t K = modes.rank() == 3 ? modes.dim(0) : 1;
    const index_t m = modes.size() / K;
    if (K == 1) return {norm2_squared(View<const complex64>(modes))};
    std::vector<complex128> gram(std::size_t(K * K));
    for (index_t k = 0; k < K; ++k)
        for (index_t l = 0; l <= k; ++l) {
            const complex128 g = dot(View<const complex64>(mode_view(modes, k, m)), View<const complex64>(mode_view(modes, l, m)));
            gram[std::size_t(k * K + l)] = g;
            gram[std::size_t(l * K + k)] = conj(g);
        }
    const detail::HermitianEigen eig = detail::hermitian_eigen(gram, int(K));
    // New mode i = sum_l V_li P_l with V the eigenvectors of G (G_kl = <P_k, P_l> means
    // G V = V diag(lambda) gives <Q_i, Q_j> = (V^H G V)_ij = lambda_i delta_ij).
    const Array<complex64> old = Array<complex64>::copy_of(View<const complex64>(modes), modes.device());
    std::vector<double> powers(static_cast<std::size_t>(K), 0.0);
    for (index_t i = 0; i < K; ++i) {
        View<complex64> q = mode_view(modes, i, m);
        fill(q, complex64(0.0f));
        for (index_t l = 0; l < K; ++l) {
            const complex128 v = eig.vectors[std::size_t(i * K + l)];
            axpy(complex64(v), View<const complex64>(old.data() + l * m, Shape{m}, old.device()), q);
        }
        powers[std::size_t(i)] = norm2_squared(View<const complex64>(q));
    }
    return powers;
}

}  // namespace lumen::ptycho
