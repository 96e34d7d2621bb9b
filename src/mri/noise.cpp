// Noise pre-whitening and noise-level estimates; the per-sample math is in kernels/mri/noise.hpp.
#include "lumen/mri/noise.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "kernels/mri/noise.hpp"
#include "lumen/fft.hpp"
#include "lumen/mri/sense.hpp"
#include "src/executor.hpp"
#include "src/mri/eigen.hpp"
#include "src/text.hpp"

namespace lumen::mri {

NoiseWhitening noise_whitening(View<const complex64> noise, double dwell_ratio, const std::string& where) {
    require(noise.rank() == 2, where + ": noise samples must be [coils][n], got " + noise.shape().str());
    const Array<complex64> n = Array<complex64>::copy_of(noise, Device::cpu);
    const index_t C = n.dim(0), N = n.dim(1);
    require(C >= 1 && N > C, where + ": the noise pre-scan holds " + std::to_string(N) + " samples per coil for " +
                                 std::to_string(C) +
                                 " coils; at least coils + 1 are needed to estimate the covariance");
    require(std::isfinite(dwell_ratio) && dwell_ratio > 0.0,
            where + ": the noise / imaging dwell-time ratio " + detail::num(dwell_ratio) + " is not positive");
    NoiseWhitening w;
    w.coils = C;
    w.samples = N;
    std::vector<complex128>& psi = w.covariance;
    psi = detail::gram_matrix(n.data(), C, N);
    // Unbiased, and per sample at the imaging readout's bandwidth.
    for (complex128& v : psi) v = v * (dwell_ratio / double(N - 1));
    double trace = 0.0, lo = INFINITY, hi = 0.0;
    for (index_t c = 0; c < C; ++c) {
        const double v = psi[std::size_t(c * C + c)].re;
        trace += v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    require(lo > 0.0 && std::isfinite(hi), where +
                                               ": a coil of the noise pre-scan has zero (or non-finite) noise "
                                               "variance: a dead channel; reconstruct without pre-whitening "
                                               "(RunOptions.prewhiten off) or drop the channel");
    w.variance = trace / double(C);
    w.std_ratio = std::sqrt(hi / lo);
    for (index_t c = 0; c < C; ++c)
        for (index_t d = 0; d < c; ++d)
            w.max_correlation = std::max(
                w.max_correlation, abs(psi[std::size_t(c * C + d)]) /
                                       std::sqrt(psi[std::size_t(c * C + c)].re * psi[std::size_t(d * C + d)].re));

    // Cholesky Psi = L L^H (lower triangular L, real positive diagonal), in double.
    std::vector<complex128> L(std::size_t(C * C), complex128(0.0));
    for (index_t j = 0; j < C; ++j) {
        double diag = psi[std::size_t(j * C + j)].re;
        for (index_t k = 0; k < j; ++k) diag -= norm(L[std::size_t(j * C + k)]);
        // Relative to the coil's own variance: a channel that is a copy (or a fixed combination)
        // of others leaves nothing, and whitening would divide by it.
        require(diag > 1e-10 * psi[std::size_t(j * C + j)].re,
                where + ": the noise covariance is singular at coil " + std::to_string(j) +
                    " (its noise is a combination of the other coils': a duplicated or combined channel); "
                    "reconstruct without pre-whitening (RunOptions.prewhiten off) or drop the channel");
        const double ljj = std::sqrt(diag);
        L[std::size_t(j * C + j)] = complex128(ljj);
        for (index_t i = j + 1; i < C; ++i) {
            complex128 acc = psi[std::size_t(i * C + j)];
            for (index_t k = 0; k < j; ++k) acc -= L[std::size_t(i * C + k)] * conj(L[std::size_t(j * C + k)]);
            L[std::size_t(i * C + j)] = acc * (1.0 / ljj);
        }
    }
    // sigma * L^-1 by forward substitution, column by column of the identity.
    const double sigma = std::sqrt(w.variance);
    w.whitener.assign(std::size_t(C * C), complex64(0.0f));
    for (index_t col = 0; col < C; ++col) {
        std::vector<complex128> x(std::size_t(C), complex128(0.0));
        for (index_t i = col; i < C; ++i) {
            complex128 acc(i == col ? 1.0 : 0.0);
            for (index_t k = col; k < i; ++k) acc -= L[std::size_t(i * C + k)] * x[std::size_t(k)];
            x[std::size_t(i)] = acc * (1.0 / L[std::size_t(i * C + i)].re);
        }
        for (index_t i = col; i < C; ++i)
            w.whitener[std::size_t(i * C + col)] =
                complex64(float(sigma * x[std::size_t(i)].re), float(sigma * x[std::size_t(i)].im));
    }
    return w;
}

void apply_whitening(const NoiseWhitening& w, View<complex64> kspace) {
    require(kspace.rank() >= 2 && kspace.dim(0) == w.coils, "apply_whitening: data of shape " + kspace.shape().str() +
                                                                " do not have the noise pre-scan's " +
                                                                std::to_string(w.coils) + " coils");
    const Device dev = kspace.device();
    const index_t n = kspace.size() / w.coils;
    const Array<complex64> wm =
        Array<complex64>::copy_of(View<const complex64>(w.whitener.data(), Shape{w.coils, w.coils}), dev);
    const Array<complex64> in = Array<complex64>::copy_of(kspace, dev);
    detail::for_each(dev, n, kern::WhitenF{wm.data(), in.data(), kspace.data(), n, w.coils});
}

double background_noise_variance(View<const complex64> kspace, View<const float> mask) {
    require(kspace.rank() == 3 && mask.shape() == kspace.shape().drop_front(),
            "background_noise_variance: expected k-space [coils][H][W] and a mask [H][W], got " + kspace.shape().str() +
                " and " + mask.shape().str());
    Array<complex64> x = Array<complex64>::copy_of(kspace, Device::cpu);
    const Array<float> m = Array<float>::copy_of(mask, Device::cpu);
    const index_t C = x.dim(0), H = x.dim(1), W = x.dim(2);
    apply_mask(x.view(), m.view(), x.view());
    double measured = 0.0;
    for (index_t i = 0; i < m.size(); ++i) measured += m[i] != 0.0f ? 1.0 : 0.0;
    if (measured == 0.0) return 0.0;
    // Unitary transform: white k-space noise of variance sigma^2 on a fraction f of the samples
    // is white image noise of variance f sigma^2.
    const double f = measured / double(H * W);
    FftPlan::for_shape(x.shape(), 2, Device::cpu).inverse_centered(x.view());
    const index_t b = (H >= 64 && W >= 64) ? 8 : 4;
    struct Block {
        double median;
        std::vector<double> p;
    };
    std::vector<Block> blocks;
    for (index_t y0 = 0; y0 + b <= H; y0 += b)
        for (index_t x0 = 0; x0 + b <= W; x0 += b) {
            Block blk;
            for (index_t c = 0; c < C; ++c)
                for (index_t y = y0; y < y0 + b; ++y)
                    for (index_t xx = x0; xx < x0 + b; ++xx) blk.p.push_back(double(norm(x[(c * H + y) * W + xx])));
            std::vector<double> t = blk.p;
            std::nth_element(t.begin(), t.begin() + std::ptrdiff_t(t.size() / 2), t.end());
            blk.median = t[t.size() / 2];
            blocks.push_back(std::move(blk));
        }
    if (blocks.empty()) return 0.0;
    // The quietest tenth of the blocks (air around the object, the readout's oversampled margin),
    // pooled: a precise median, and object signal only ever raises it.
    std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& c) { return a.median < c.median; });
    const std::size_t keep = std::max<std::size_t>(1, blocks.size() / 10);
    std::vector<double> pooled;
    for (std::size_t i = 0; i < keep; ++i) pooled.insert(pooled.end(), blocks[i].p.begin(), blocks[i].p.end());
    const auto mid = pooled.begin() + std::ptrdiff_t(pooled.size() / 2);
    std::nth_element(pooled.begin(), mid, pooled.end());
    return *mid / std::log(2.0) / f;
}

double readout_noise_variance(View<const complex64> kspace, View<const float> mask) {
    require(kspace.rank() == 3 && mask.shape() == kspace.shape().drop_front(),
            "readout_noise_variance: expected k-space [coils][H][W] and a mask [H][W], got " + kspace.shape().str() +
                " and " + mask.shape().str());
    const Array<float> m = Array<float>::copy_of(mask, Device::cpu);
    const index_t C = kspace.dim(0), H = kspace.dim(1), W = kspace.dim(2);
    std::vector<index_t> columns;
    for (index_t x = 0; x < W; ++x) {
        bool full = true;
        for (index_t y = 0; y < H && full; ++y) full = m[y * W + x] != 0.0f;
        if (full) columns.push_back(x);
    }
    const index_t n = index_t(columns.size());
    if (n < 2) return 0.0;
    const Array<complex64> k = Array<complex64>::copy_of(kspace, Device::cpu);
    // Hybrid space h[c][j][y]: column j's readout line of coil c, inverse-transformed along y.
    Array<complex64> h(Shape{C * n, H});
    for (index_t c = 0; c < C; ++c)
        for (index_t j = 0; j < n; ++j)
            for (index_t y = 0; y < H; ++y) h[(c * n + j) * H + y] = k[(c * H + y) * W + columns[std::size_t(j)]];
    FftPlan::for_shape(h.shape(), 1, Device::cpu).inverse_centered(h.view());
    auto median = [](std::vector<double>& v) {
        const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
        std::nth_element(v.begin(), mid, v.end());
        return *mid;
    };
    std::vector<std::pair<double, index_t>> rank;  // (median over the even columns, row)
    std::vector<double> even;
    for (index_t y = 0; y < H; ++y) {
        even.clear();
        for (index_t c = 0; c < C; ++c)
            for (index_t j = 0; j < n; j += 2) even.push_back(double(norm(h[(c * n + j) * H + y])));
        rank.emplace_back(median(even), y);
    }
    std::sort(rank.begin(), rank.end());
    const std::size_t keep = std::max<std::size_t>(1, rank.size() / 10);
    std::vector<double> odd;
    for (std::size_t r = 0; r < keep; ++r)
        for (index_t c = 0; c < C; ++c)
            for (index_t j = 1; j < n; j += 2) odd.push_back(double(norm(h[(c * n + j) * H + rank[r].second])));
    return median(odd) / std::log(2.0);
}

}  // namespace lumen::mri
