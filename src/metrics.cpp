// Image-quality metrics (include/lumen/metrics.hpp). Host code: inputs are copied to the host.
#include "lumen/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <string>
#include <vector>

namespace lumen {

namespace {
template <class T>
Array<T> host(View<const T> v) { return Array<T>::copy_of(v, Device::cpu); }

void require_same_size(const char* what, index_t a, index_t b) {
    require(a == b, std::string(what) + ": reference has " + std::to_string(a) + " elements, estimate " +
                        std::to_string(b));
}
}  // namespace

double nrmse(View<const float> ref_v, View<const float> est_v) {
    require_same_size("nrmse", ref_v.size(), est_v.size());
    const Array<float> ref = host(ref_v), est = host(est_v);
    double num = 0, den = 0;
    for (index_t i = 0; i < ref.size(); ++i) {
        const double d = double(est[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    require(den > 0, "nrmse: the reference is all zeros");
    return std::sqrt(num / den);
}

double nrmse_complex(View<const complex64> ref_v, View<const complex64> est_v, bool remove_phase, bool remove_scale,
                     View<const float> weights_v) {
    require_same_size("nrmse_complex", ref_v.size(), est_v.size());
    if (!weights_v.empty()) require_same_size("nrmse_complex weights", ref_v.size(), weights_v.size());
    const Array<complex64> ref = host(ref_v), est = host(est_v);
    const Array<float> w = weights_v.empty() ? Array<float>() : host(weights_v);
    auto weight = [&](index_t i) { return w.empty() ? 1.0 : double(w[i]); };
    std::complex<double> cross(0, 0);  // <est, ref> = sum conj(est) ref
    double est_energy = 0, ref_energy = 0;
    for (index_t i = 0; i < ref.size(); ++i) {
        const std::complex<double> r(ref[i].re, ref[i].im), e(est[i].re, est[i].im);
        cross += weight(i) * std::conj(e) * r;
        est_energy += weight(i) * std::norm(e);
        ref_energy += weight(i) * std::norm(r);
    }
    require(ref_energy > 0, "nrmse_complex: the reference is zero where it is compared");
    std::complex<double> factor(1, 0);
    if (remove_scale && est_energy > 0) factor = cross / est_energy;
    else if (remove_phase && std::abs(cross) > 0) factor = cross / std::abs(cross);
    double num = 0;
    for (index_t i = 0; i < ref.size(); ++i) {
        const std::complex<double> r(ref[i].re, ref[i].im), e(est[i].re, est[i].im);
        num += weight(i) * std::norm(factor * e - r);
    }
    return std::sqrt(num / ref_energy);
}

double nmse(View<const float> ref, View<const float> est) {
    const double e = nrmse(ref, est);
    return e * e;
}

double psnr(View<const float> ref_v, View<const float> est_v, double peak) {
    require_same_size("psnr", ref_v.size(), est_v.size());
    const Array<float> ref = host(ref_v), est = host(est_v);
    require(ref.size() > 0, "psnr: empty images");
    double mse = 0, max_ref = -std::numeric_limits<double>::infinity();
    for (index_t i = 0; i < ref.size(); ++i) {
        const double d = double(est[i]) - double(ref[i]);
        mse += d * d;
        max_ref = std::max(max_ref, double(ref[i]));
    }
    mse /= double(ref.size());
    if (peak <= 0) peak = max_ref;
    require(peak > 0, "psnr: the peak value must be positive");
    if (mse == 0) return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(peak * peak / mse);
}

namespace {
// Mean SSIM of one [ny][nx] image pair; 7x7 uniform window over the positions where the window fits
// (scikit-image crops (win-1)/2 pixels from each border before averaging).
double ssim_2d(const float* x, const float* y, index_t ny, index_t nx, double data_range) {
    constexpr int win = 7, half = win / 2;
    constexpr double np = win * win;
    const double cov_norm = np / (np - 1.0);
    const double c1 = (0.01 * data_range) * (0.01 * data_range);
    const double c2 = (0.03 * data_range) * (0.03 * data_range);
    require(ny >= win && nx >= win, "ssim: images must be at least 7x7, got " + std::to_string(ny) + "x" +
                                        std::to_string(nx));
    // Summed-area tables of x, y, x^2, y^2, xy for O(1) window sums.
    const index_t W = nx + 1;
    std::vector<double> sx((ny + 1) * W), sy(sx.size()), sxx(sx.size()), syy(sx.size()), sxy(sx.size());
    for (index_t r = 0; r < ny; ++r)
        for (index_t c = 0; c < nx; ++c) {
            const double a = x[r * nx + c], b = y[r * nx + c];
            const index_t k = (r + 1) * W + (c + 1);
            auto acc = [&](std::vector<double>& s, double v) { s[k] = v + s[k - 1] + s[k - W] - s[k - W - 1]; };
            acc(sx, a);
            acc(sy, b);
            acc(sxx, a * a);
            acc(syy, b * b);
            acc(sxy, a * b);
        }
    auto box = [&](const std::vector<double>& s, index_t r0, index_t c0) {
        const index_t r1 = r0 + win, c1_ = c0 + win;
        return s[r1 * W + c1_] - s[r0 * W + c1_] - s[r1 * W + c0] + s[r0 * W + c0];
    };
    double total = 0;
    index_t count = 0;
    for (index_t r = 0; r + win <= ny; ++r)
        for (index_t c = 0; c + win <= nx; ++c) {
            const double ux = box(sx, r, c) / np, uy = box(sy, r, c) / np;
            const double vx = cov_norm * (box(sxx, r, c) / np - ux * ux);
            const double vy = cov_norm * (box(syy, r, c) / np - uy * uy);
            const double vxy = cov_norm * (box(sxy, r, c) / np - ux * uy);
            total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            ++count;
        }
    (void)half;
    return total / double(count);
}

double data_range_of(const Array<float>& ref) {
    const auto [mn, mx] = std::minmax_element(ref.begin(), ref.end());
    return double(*mx) - double(*mn);
}
}  // namespace

double ssim(View<const float> ref_v, View<const float> est_v, double data_range) {
    require_same_size("ssim", ref_v.size(), est_v.size());
    require(ref_v.rank() == 2, "ssim: expected 2-D images [ny][nx], got shape " + ref_v.shape().str());
    const Array<float> ref = host(ref_v), est = host(est_v);
    if (data_range <= 0) data_range = data_range_of(ref);
    require(data_range > 0, "ssim: the data range must be positive (constant reference image?)");
    return ssim_2d(ref.data(), est.data(), ref_v.dim(0), ref_v.dim(1), data_range);
}

double ssim_stack(View<const float> ref_v, View<const float> est_v, double data_range) {
    require_same_size("ssim_stack", ref_v.size(), est_v.size());
    require(ref_v.rank() == 3, "ssim_stack: expected a stack [n][ny][nx], got shape " + ref_v.shape().str());
    const Array<float> ref = host(ref_v), est = host(est_v);
    if (data_range <= 0) data_range = data_range_of(ref);
    require(data_range > 0, "ssim_stack: the data range must be positive");
    const index_t n = ref_v.dim(0), ny = ref_v.dim(1), nx = ref_v.dim(2);
    double total = 0;
    for (index_t s = 0; s < n; ++s) total += ssim_2d(ref.data() + s * ny * nx, est.data() + s * ny * nx, ny, nx, data_range);
    return total / double(n);
}

}  // namespace lumen
