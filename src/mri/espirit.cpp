// ESPIRiT coil maps; see include/lumen/mri/espirit.hpp for the steps.
#include "lumen/mri/espirit.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/mri/espirit.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/sense.hpp"
#include "src/executor.hpp"
#include "src/mri/eigen.hpp"

namespace lumen::mri {

namespace {

// The signal subspace of the patch vectors: columns of B (n x m, one k x k x coils patch each).
// Returns the kept left singular vectors (each of length n) of B.
std::vector<std::vector<complex128>> signal_subspace(const std::vector<complex128>& patches, index_t m, index_t n,
                                                     double threshold) {
    const auto M = std::size_t(m), N = std::size_t(n);
    auto patch = [&](std::size_t p, std::size_t i) { return patches[p * N + i]; };
    std::vector<std::vector<complex128>> kept;
    if (m >= n) {
        // G = B B^H (n x n): its eigenvectors are the left singular vectors.
        std::vector<complex128> g(N * N);
#pragma omp parallel for schedule(dynamic)
        for (std::ptrdiff_t ii = 0; ii < std::ptrdiff_t(N); ++ii) {
            const auto i = std::size_t(ii);
            for (std::size_t j = 0; j <= i; ++j) {
                complex128 acc(0.0, 0.0);
                for (std::size_t p = 0; p < M; ++p) acc += patch(p, i) * conj(patch(p, j));
                g[i * N + j] = acc;
                g[j * N + i] = conj(acc);
            }
        }
        const auto eig = detail::hermitian_eigen(g, int(n));
        const double smax = std::sqrt(std::max(eig.values[0], 0.0));
        for (std::size_t j = 0; j < N; ++j) {
            if (std::sqrt(std::max(eig.values[j], 0.0)) < threshold * smax || smax == 0.0) break;
            kept.emplace_back(eig.vectors.begin() + std::ptrdiff_t(j * N), eig.vectors.begin() + std::ptrdiff_t((j + 1) * N));
        }
    } else {
        // B^H B (m x m) = U S^2 U^H; the left singular vectors are B U / S.
        std::vector<complex128> g(M * M);
#pragma omp parallel for schedule(dynamic)
        for (std::ptrdiff_t pp = 0; pp < std::ptrdiff_t(M); ++pp) {
            const auto p = std::size_t(pp);
            for (std::size_t q = 0; q <= p; ++q) {
                complex128 acc(0.0, 0.0);
                for (std::size_t i = 0; i < N; ++i) acc += conj(patch(p, i)) * patch(q, i);
                g[p * M + q] = acc;
                g[q * M + p] = conj(acc);
            }
        }
        const auto eig = detail::hermitian_eigen(g, int(m));
        const double smax = std::sqrt(std::max(eig.values[0], 0.0));
        for (std::size_t j = 0; j < M; ++j) {
            const double s = std::sqrt(std::max(eig.values[j], 0.0));
            if (s < threshold * smax || smax == 0.0 || s == 0.0) break;
            std::vector<complex128> v(N, complex128(0.0, 0.0));
            for (std::size_t p = 0; p < M; ++p) {
                const complex128 up = eig.vectors[j * M + p];
                for (std::size_t i = 0; i < N; ++i) v[i] += patch(p, i) * up;
            }
            for (auto& e : v) e = e * (1.0 / s);
            kept.push_back(std::move(v));
        }
    }
    return kept;
}

}  // namespace

void EspiritOptions::validate() const {
    require_option(kernel >= 1, "EspiritOptions.kernel", "must be at least 1, got " + std::to_string(kernel));
    require_option(calibration >= kernel, "EspiritOptions.calibration",
                   "must be at least the kernel (" + std::to_string(kernel) + "), got " + std::to_string(calibration));
    require_option(threshold >= 0.0 && threshold < 1.0, "EspiritOptions.threshold",
                   "must be in [0, 1), got " + std::to_string(threshold));
    require_option(crop >= 0.0 && crop <= 1.0, "EspiritOptions.crop", "must be in [0, 1], got " + std::to_string(crop));
    require_option(iterations >= 1, "EspiritOptions.iterations",
                   "at least one power iteration is needed, got " + std::to_string(iterations));
}

EspiritResult espirit(View<const complex64> kspace, View<const float> mask_in, const EspiritOptions& opt,
                      Device device) {
    require(kspace.rank() == 3, "espirit: k-space must be [coils][H][W], got shape " + kspace.shape().str());
    const index_t coils = kspace.dim(0), h = kspace.dim(1), w = kspace.dim(2);
    require(coils >= 1 && coils <= espirit_max_coils,
            "espirit: " + std::to_string(coils) + " coils; ESPIRiT handles 1 to " + std::to_string(espirit_max_coils) +
                " coils per slice (compress the coils first)");
    opt.validate();

    const Array<complex64> k = Array<complex64>::copy_of(kspace, Device::cpu);
    Array<float> mask(Shape{h, w});
    if (mask_in.empty()) mask_from_data(k.view(), mask.view());
    else {
        require(mask_in.shape() == Shape({h, w}), "espirit: mask of shape " + mask_in.shape().str() +
                                                      " does not match the k-space plane (" + std::to_string(h) + ", " +
                                                      std::to_string(w) + ")");
        mask.assign(mask_in);
    }

    EspiritResult result;
    result.box = find_calibration_box(mask.view(), opt.calibration, opt.calibration);
    const CalibrationBox& box = result.box;
    const index_t kw = opt.kernel;
    require(box.rows >= kw && box.cols >= kw,
            "espirit: the fully sampled k-space centre is only " + std::to_string(box.rows) + "x" +
                std::to_string(box.cols) + " but the ESPIRiT kernel needs at least " + std::to_string(kw) + "x" +
                std::to_string(kw) + " (sample a larger centre, MaskSpec.center_fraction, or lower EspiritOptions.kernel)");

    // Calibration patches: p over positions, entries ordered [coil][dy][dx].
    const index_t py = box.rows - kw + 1, px = box.cols - kw + 1;
    const index_t m = py * px, n = coils * kw * kw;
    std::vector<complex128> patches(std::size_t(m * n));
    double energy = 0.0;
    for (index_t y = 0; y < py; ++y)
        for (index_t x = 0; x < px; ++x)
            for (index_t c = 0; c < coils; ++c)
                for (index_t dy = 0; dy < kw; ++dy)
                    for (index_t dx = 0; dx < kw; ++dx) {
                        const complex64 v = k[(c * h + box.row0 + y + dy) * w + box.col0 + x + dx];
                        patches[std::size_t((y * px + x) * n + (c * kw + dy) * kw + dx)] = complex128(v.re, v.im);
                        energy += double(norm(v));
                    }
    require(energy > 0.0 && std::isfinite(energy),
            "espirit: the calibration region of the k-space is " +
                std::string(energy == 0.0 ? "all zero" : "not finite") + "; expected measured data");

    const auto kept = signal_subspace(patches, m, n, opt.threshold);
    result.kernels_kept = index_t(kept.size());

    // Kernel correlations h_{cd}(s) = 1/k^2 sum_j sum_{a - b = s} v_j[c, a] conj(v_j[d, b]), c <= d,
    // through the projector P = sum_j v_j v_j^H.
    const auto N = std::size_t(n);
    std::vector<complex128> proj(N * N, complex128(0.0, 0.0));
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t ii = 0; ii < std::ptrdiff_t(N); ++ii)
        for (const auto& v : kept) {
            const complex128 vi = v[std::size_t(ii)];
            for (std::size_t j = 0; j < N; ++j) proj[std::size_t(ii) * N + j] += vi * conj(v[j]);
        }
    const index_t span = 2 * kw - 1;
    const index_t pairs = coils * (coils + 1) / 2;
    std::vector<complex128> corr(std::size_t(pairs * span * span), complex128(0.0, 0.0));
    const double inv_k2 = 1.0 / double(kw * kw);
    for (index_t c = 0; c < coils; ++c)
        for (index_t d = c; d < coils; ++d) {
            const index_t pair = c * coils - c * (c - 1) / 2 + (d - c);
            complex128* hc = &corr[std::size_t(pair * span * span)];
            for (index_t ay = 0; ay < kw; ++ay)
                for (index_t ax = 0; ax < kw; ++ax)
                    for (index_t by = 0; by < kw; ++by)
                        for (index_t bx = 0; bx < kw; ++bx) {
                            const std::size_t i = std::size_t((c * kw + ay) * kw + ax);
                            const std::size_t j = std::size_t((d * kw + by) * kw + bx);
                            hc[(ay - by + kw - 1) * span + (ax - bx + kw - 1)] += proj[i * N + j] * inv_k2;
                        }
        }

    // G(r) on the image grid: place h at the k-space centre and inverse-FFT, a chunk of pairs at a time.
    const index_t npix = h * w;
    const index_t chunk = std::min<index_t>(pairs, 16);
    const index_t padded_pairs = (pairs + chunk - 1) / chunk * chunk;
    Array<complex64> gram(Shape{padded_pairs, h, w}, device);
    const FftPlan plan({h, w}, chunk, device);
    Array<complex64> host_chunk(Shape{chunk, h, w});
    const float root_n = float(std::sqrt(double(npix)));
    for (index_t first = 0; first < padded_pairs; first += chunk) {
        host_chunk.fill_zero();
        for (index_t q = 0; q < chunk && first + q < pairs; ++q) {
            const complex128* hc = &corr[std::size_t((first + q) * span * span)];
            for (index_t sy = -(kw - 1); sy <= kw - 1; ++sy)
                for (index_t sx = -(kw - 1); sx <= kw - 1; ++sx) {
                    const index_t y = h / 2 + sy, x = w / 2 + sx;
                    if (y < 0 || y >= h || x < 0 || x >= w) continue;
                    const complex128 v = hc[(sy + kw - 1) * span + (sx + kw - 1)];
                    host_chunk[(q * h + y) * w + x] = complex64(float(v.re) * root_n, float(v.im) * root_n);
                }
        }
        View<complex64> dst = gram.view().items(first, chunk);
        copy(host_chunk.view(), dst);
        plan.inverse_centered(dst);
    }

    // Reference: the calibration data's dominant coil combination (the virtual body coil).
    const index_t in_box = box.rows * box.cols;
    std::vector<complex64> calibration(std::size_t(coils * in_box));
    for (index_t c = 0; c < coils; ++c)
        for (index_t y = 0; y < box.rows; ++y)
            for (index_t x = 0; x < box.cols; ++x)
                calibration[std::size_t((c * box.rows + y) * box.cols + x)] = k[(c * h + box.row0 + y) * w + box.col0 + x];
    const std::vector<complex128> cov = detail::gram_matrix(calibration.data(), coils, in_box);
    const auto cov_eig = detail::hermitian_eigen(cov, int(coils));
    Array<complex64> ref_host(Shape{coils});
    for (index_t c = 0; c < coils; ++c) {
        const complex128 v = cov_eig.vectors[std::size_t(c)];
        ref_host[c] = complex64(float(v.re), float(v.im));
    }
    const Array<complex64> ref = ref_host.to(device);

    result.maps = Array<complex64>(Shape{coils, h, w}, device);
    result.eigenvalues = Array<float>(Shape{h, w}, device);
    detail::for_each(device, npix,
                     kern::EspiritPowerF{gram.data(), ref.data(), result.maps.data(), result.eigenvalues.data(), npix,
                                         int(coils), opt.iterations, float(opt.crop)});
    return result;
}

}  // namespace lumen::mri
