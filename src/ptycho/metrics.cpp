// Reconstruction quality for ptychography (include/lumen/ptycho/metrics.hpp). Host code.
#include "lumen/ptycho/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>

#include "lumen/fft.hpp"
#include "lumen/metrics.hpp"

namespace lumen::ptycho {

namespace {
using cd = std::complex<double>;
cd to_cd(complex64 v) { return {double(v.re), double(v.im)}; }

// Shifts `est` (cyclically, by a Fourier shift) onto `ref`: the shift maximising the magnitude of
// their cross-correlation over the region, to a fraction of a pixel.
Array<complex64> register_to(const Array<complex64>& ref, const Array<complex64>& est, const Array<float>& region) {
    const index_t H = ref.dim(0), W = ref.dim(1), n = H * W;
    // Registered on the magnitudes, which neither the global phase nor a phase ramp changes, with
    // their weighted means removed (otherwise the mean transmission correlates the region with
    // itself and pins the peak at zero shift).
    double mean_a = 0, mean_b = 0, wsum = 0;
    for (index_t i = 0; i < n; ++i) {
        const double w = region.empty() ? 1.0 : double(region[i]);
        mean_a += w * double(abs(ref[i]));
        mean_b += w * double(abs(est[i]));
        wsum += w;
    }
    if (wsum > 0) mean_a /= wsum, mean_b /= wsum;
    Array<complex64> a(Shape{H, W}), b(Shape{H, W});
    for (index_t i = 0; i < n; ++i) {
        const double w = region.empty() ? 1.0 : double(region[i]);
        a[i] = complex64(float(w * (double(abs(ref[i])) - mean_a)), 0.0f);
        b[i] = complex64(float(w * (double(abs(est[i])) - mean_b)), 0.0f);
    }
    FftPlan plan({H, W}, 1, Device::cpu);
    plan.forward(a);
    plan.forward(b);
    Array<complex64> xc(Shape{H, W});
    for (index_t i = 0; i < n; ++i) xc[i] = a[i] * conj(b[i]);
    plan.inverse(xc);
    index_t best = 0;
    for (index_t i = 1; i < n; ++i)
        if (norm(xc[i]) > norm(xc[best])) best = i;
    const index_t py = best / W, px = best % W;
    auto mag = [&](index_t y, index_t x) { return double(abs(xc[((y + H) % H) * W + (x + W) % W])); };
    auto refine = [](double m1, double m0, double p1) {
        const double d = m1 - 2 * m0 + p1;
        return d < 0 ? std::clamp(0.5 * (m1 - p1) / d, -0.5, 0.5) : 0.0;
    };
    double sy = double(py) + refine(mag(py - 1, px), mag(py, px), mag(py + 1, px));
    double sx = double(px) + refine(mag(py, px - 1), mag(py, px), mag(py, px + 1));
    if (sy > H / 2) sy -= double(H);
    if (sx > W / 2) sx -= double(W);
    // est(r - s): multiply its spectrum by exp(-2 pi i k s / N).
    Array<complex64> out = est.clone();
    plan.forward(out);
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
            const double ky = double(y < (H + 1) / 2 ? y : y - H), kx = double(x < (W + 1) / 2 ? x : x - W);
            const cd ph = std::polar(1.0, -2 * kPi * (ky * sy / double(H) + kx * sx / double(W)));
            const cd v = to_cd(out[y * W + x]) * ph;
            out[y * W + x] = complex64(float(v.real()), float(v.imag()));
        }
    plan.inverse(out);
    return out;
}

// Multiplies `est` by the linear phase ramp that best aligns it with `ref`: the slopes are the
// mean phases of z(r + e) conj(z(r)), z = conj(est) ref, over the region (no unwrapping needed).
void remove_ramp(const Array<complex64>& ref, Array<complex64>& est, const Array<float>& region) {
    const index_t H = ref.dim(0), W = ref.dim(1);
    auto w = [&](index_t i) { return region.empty() ? 1.0 : double(region[i]); };
    auto z = [&](index_t i) { return std::conj(to_cd(est[i])) * to_cd(ref[i]); };
    cd sy = 0, sx = 0;
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
            const index_t i = y * W + x;
            if (y + 1 < H) sy += w(i) * w(i + W) * z(i + W) * std::conj(z(i));
            if (x + 1 < W) sx += w(i) * w(i + 1) * z(i + 1) * std::conj(z(i));
        }
    const double gy = std::abs(sy) > 0 ? std::arg(sy) : 0.0, gx = std::abs(sx) > 0 ? std::arg(sx) : 0.0;
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
            const cd v = to_cd(est[y * W + x]) * std::polar(1.0, gy * double(y) + gx * double(x));
            est[y * W + x] = complex64(float(v.real()), float(v.imag()));
        }
}

}  // namespace

Array<float> illuminated_region(View<const float> illumination_v, double fraction) {
    const Array<float> illum = Array<float>::copy_of(illumination_v, Device::cpu);
    float peak = 0;
    for (float v : illum) peak = std::max(peak, v);
    Array<float> region(illum.shape());
    for (index_t i = 0; i < illum.size(); ++i) region[i] = (peak > 0 && illum[i] >= fraction * peak) ? 1.0f : 0.0f;
    return region;
}

double object_nrmse(View<const complex64> truth_v, View<const complex64> est_v, View<const float> region_v,
                    bool blind) {
    require(truth_v.shape() == est_v.shape() && truth_v.rank() == 2,
            "ptycho::object_nrmse: the estimate " + est_v.shape().str() + " and the truth " + truth_v.shape().str() +
                " must be images of one shape");
    require(region_v.empty() || region_v.size() == truth_v.size(),
            "ptycho::object_nrmse: the region must match the object's shape");
    const Array<complex64> truth = Array<complex64>::copy_of(truth_v, Device::cpu);
    Array<complex64> est = Array<complex64>::copy_of(est_v, Device::cpu);
    const Array<float> region = region_v.empty() ? Array<float>() : Array<float>::copy_of(region_v, Device::cpu);
    if (blind) {
        // Blind ptychography cannot tell (O(r), P(r)) from (O(r - s), P(r - s)), nor O from O
        // times a linear phase ramp: register the estimate to the truth (cross-correlation peak of
        // the magnitudes, parabolic sub-pixel refinement, Fourier shift), then remove the ramp.
        est = register_to(truth, est, region);
        remove_ramp(truth, est, region);
    }
    return nrmse_complex(truth.view(), est.view(), true, blind, region.view());
}

FrcCurve fourier_ring_correlation(View<const complex64> a_v, View<const complex64> b_v, View<const float> region_v) {
    require(a_v.shape() == b_v.shape() && a_v.rank() == 2,
            "ptycho::fourier_ring_correlation: the images must be 2-D and of one shape");
    const Array<complex64> a = Array<complex64>::copy_of(a_v, Device::cpu), b = Array<complex64>::copy_of(b_v, Device::cpu);
    const index_t H = a.dim(0), W = a.dim(1);
    index_t y0 = 0, y1 = H, x0 = 0, x1 = W;
    if (!region_v.empty()) {
        const Array<float> region = Array<float>::copy_of(region_v, Device::cpu);
        y0 = H, y1 = 0, x0 = W, x1 = 0;
        for (index_t y = 0; y < H; ++y)
            for (index_t x = 0; x < W; ++x)
                if (region[y * W + x] > 0) {
                    y0 = std::min(y0, y), y1 = std::max(y1, y + 1), x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
                }
        require(y1 > y0 + 3 && x1 > x0 + 3, "ptycho::fourier_ring_correlation: the region is empty or too small");
    }
    const index_t h = y1 - y0, wd = x1 - x0;
    // Relative global phase of b against a.
    cd cross = 0;
    for (index_t y = y0; y < y1; ++y)
        for (index_t x = x0; x < x1; ++x) cross += std::conj(to_cd(b[y * W + x])) * to_cd(a[y * W + x]);
    const cd phase = std::abs(cross) > 0 ? cross / std::abs(cross) : cd(1, 0);
    auto tukey = [](index_t i, index_t n) {
        const double alpha = 0.2, t = (double(i) + 0.5) / double(n);
        if (t < alpha / 2) return 0.5 * (1 - std::cos(2 * kPi * t / alpha));
        if (t > 1 - alpha / 2) return 0.5 * (1 - std::cos(2 * kPi * (1 - t) / alpha));
        return 1.0;
    };
    Array<complex64> fa(Shape{h, wd}), fb(Shape{h, wd});
    for (index_t y = 0; y < h; ++y)
        for (index_t x = 0; x < wd; ++x) {
            const double win = tukey(y, h) * tukey(x, wd);
            const cd va = to_cd(a[(y + y0) * W + x + x0]) * win, vb = to_cd(b[(y + y0) * W + x + x0]) * phase * win;
            fa[y * wd + x] = complex64(float(va.real()), float(va.imag()));
            fb[y * wd + x] = complex64(float(vb.real()), float(vb.imag()));
        }
    FftPlan plan({h, wd}, 1, Device::cpu);
    plan.forward(fa);
    plan.forward(fb);
    const index_t rings = std::min(h, wd) / 2;
    std::vector<cd> num(std::size_t(rings), 0.0);
    std::vector<double> ea(std::size_t(rings), 0.0), eb(std::size_t(rings), 0.0);
    FrcCurve c;
    c.pixels.assign(std::size_t(rings), 0);
    for (index_t y = 0; y < h; ++y)
        for (index_t x = 0; x < wd; ++x) {
            const double fy = double(y < (h + 1) / 2 ? y : y - h) / double(h);
            const double fx = double(x < (wd + 1) / 2 ? x : x - wd) / double(wd);
            const index_t r = index_t(std::floor(std::hypot(fy, fx) * 2.0 * double(rings)));
            if (r >= rings) continue;
            const cd va = to_cd(fa[y * wd + x]), vb = to_cd(fb[y * wd + x]);
            num[std::size_t(r)] += va * std::conj(vb);
            ea[std::size_t(r)] += std::norm(va);
            eb[std::size_t(r)] += std::norm(vb);
            c.pixels[std::size_t(r)] += 1;
        }
    bool crossed = false;
    for (index_t r = 0; r < rings; ++r) {
        const double n = double(std::max<long>(1, c.pixels[std::size_t(r)]));
        const double denom = std::sqrt(ea[std::size_t(r)] * eb[std::size_t(r)]);
        const double v = denom > 0 ? std::abs(num[std::size_t(r)]) / denom : 0.0;
        const double one = (0.5 + 2.4142 / std::sqrt(n)) / (1.5 + 1.4142 / std::sqrt(n));
        const double half = (0.2071 + 1.9102 / std::sqrt(n)) / (1.2071 + 0.9102 / std::sqrt(n));
        const double f = (double(r) + 0.5) / (2.0 * double(rings));
        c.frequency.push_back(f);
        c.frc.push_back(v);
        c.one_bit.push_back(one);
        c.half_bit.push_back(half);
        if (!crossed && r > 0 && v < half) {
            c.half_bit_crossing = f;
            crossed = true;
        }
    }
    return c;
}

}  // namespace lumen::ptycho
