// FDK: weights and filter spectrum computed on the host in double, the per-element steps
// (kernels/ct/fdk.hpp) and the FFT on the projector's device, then the voxel-driven back
// projection. Formula and conventions in include/lumen/ct/fdk.hpp.
#include "lumen/ct/fdk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "kernels/ct/fdk.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "src/executor.hpp"

namespace lumen::ct {

namespace {

std::string deg(double rad) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", rad * 180.0 / kPi);
    return buf;
}
}  // namespace

FilterWindow parse_filter_window(const std::string& text) {
    if (text == "ram-lak" || text == "ramlak" || text == "ramp") return FilterWindow::ram_lak;
    if (text == "shepp-logan") return FilterWindow::shepp_logan;
    if (text == "cosine") return FilterWindow::cosine;
    if (text == "hamming") return FilterWindow::hamming;
    if (text == "hann" || text == "hanning") return FilterWindow::hann;
    invalid_option("FdkOptions.window",
                   "'" + text + "' is not a filter window; expected ram-lak, shepp-logan, cosine, hamming or hann");
}

void FdkOptions::validate() const {
    require_option(cutoff > 0.0 && cutoff <= 1.0, "FdkOptions.cutoff",
                   "must be in (0, 1] (a fraction of Nyquist), got " + std::to_string(cutoff));
}

ShortScan parse_short_scan(const std::string& text) {
    if (text == "auto" || text == "automatic") return ShortScan::automatic;
    if (text == "parker") return ShortScan::parker;
    if (text == "off") return ShortScan::off;
    invalid_option("FdkOptions.short_scan", "'" + text + "' is not a short-scan mode; expected auto, parker or off");
}

const char* filter_window_name(FilterWindow w) noexcept {
    switch (w) {
        case FilterWindow::ram_lak: return "ram-lak";
        case FilterWindow::shepp_logan: return "shepp-logan";
        case FilterWindow::cosine: return "cosine";
        case FilterWindow::hamming: return "hamming";
        case FilterWindow::hann: return "hann";
    }
    return "?";
}

index_t fdk_padded_length(index_t nu) {
    const index_t need = std::max<index_t>(2 * nu - 1, 2);
    for (index_t n = need;; ++n) {
        index_t m = n;
        for (index_t p : {2, 3, 5})
            while (m % p == 0) m /= p;
        if (m == 1) return n;
    }
}

std::vector<float> ramp_filter_spectrum(index_t padded, double tau, FilterWindow window, double cutoff) {
    require(padded >= 2, "ramp_filter_spectrum: padded length must be at least 2");
    require(tau > 0.0 && std::isfinite(tau), "ramp_filter_spectrum: the sampling pitch must be positive");
    require(cutoff > 0.0 && cutoff <= 1.0, "FDK filter cutoff must be in (0, 1], got " + std::to_string(cutoff));
    // Spatial Ram-Lak kernel (Kak & Slaney): h(0) = 1 / (4 tau^2), h(n odd) = -1 / (pi n tau)^2,
    // h(n even) = 0, on n = -padded/2 .. padded/2 - 1 (circularly). Sampling the kernel rather than
    // |f| avoids the DC offset of a sampled ramp. Its DFT is real: sum h(n) cos(2 pi k n / N).
    const index_t half = padded / 2;
    std::vector<double> h(static_cast<std::size_t>(half + 1));
    h[0] = 1.0 / (4.0 * tau * tau);
    for (index_t n = 1; n <= half; ++n) h[std::size_t(n)] = (n % 2) ? -1.0 / (kPi * kPi * double(n * n) * tau * tau) : 0.0;
    std::vector<float> out(static_cast<std::size_t>(padded));
    for (index_t k = 0; k < padded; ++k) {
        double s = h[0];
        for (index_t n = 1; n <= half; ++n) {
            if (h[std::size_t(n)] == 0.0) continue;
            // n and -n both present except n = N/2 for even N (one sample only).
            const double mult = (2 * n == padded) ? 1.0 : 2.0;
            s += mult * h[std::size_t(n)] * std::cos(2.0 * kPi * double(k) * double(n) / double(padded));
        }
        s *= tau;
        // Normalised angular frequency w in [0, pi].
        const index_t kk = std::min(k, padded - k);
        const double w = 2.0 * kPi * double(kk) / double(padded);
        double win = 1.0;
        if (w > cutoff * kPi) {
            win = 0.0;
        } else {
            const double x = w / cutoff;
            switch (window) {
                case FilterWindow::ram_lak: win = 1.0; break;
                case FilterWindow::shepp_logan: win = x == 0.0 ? 1.0 : std::sin(x / 2.0) / (x / 2.0); break;
                case FilterWindow::cosine: win = std::cos(x / 2.0); break;
                case FilterWindow::hamming: win = 0.54 + 0.46 * std::cos(x); break;
                case FilterWindow::hann: win = 0.5 * (1.0 + std::cos(x)); break;
            }
        }
        out[std::size_t(k)] = float(s * win);
    }
    return out;
}

bool is_full_scan(const std::vector<double>& angles) {
    return angles.size() > 1 && angular_coverage(angles) >= 2.0 * kPi * (1.0 - 1e-3);
}

std::vector<double> angular_steps(const std::vector<double>& angles) {
    const std::size_t n = angles.size();
    std::vector<double> steps(n, 0.0);
    if (n == 0) return steps;
    if (n == 1) {
        steps[0] = kPi;
        return steps;
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return angles[a] < angles[b]; });
    const bool full = is_full_scan(angles);
    const double mean = (angles[order[n - 1]] - angles[order[0]]) / double(n - 1);
    for (std::size_t k = 0; k < n; ++k) {
        double lo, hi;
        if (k > 0) lo = angles[order[k - 1]];
        else lo = full ? angles[order[n - 1]] - 2.0 * kPi : angles[order[0]] - mean;
        if (k + 1 < n) hi = angles[order[k + 1]];
        else hi = full ? angles[order[0]] + 2.0 * kPi : angles[order[n - 1]] + mean;
        steps[order[k]] = 0.5 * (hi - lo);
    }
    return steps;
}

std::vector<float> redundancy_weights(const Geometry& g, ShortScan mode) {
    const std::size_t n = g.angles.size();
    const index_t nu = g.nu;
    std::vector<float> w(n * std::size_t(nu), 0.5f);
    const bool full = is_full_scan(g.angles);
    if (mode == ShortScan::off || (mode == ShortScan::automatic && full)) return w;

    // Fan angle of each column. The ray at column u from source angle beta is the same line as
    // the ray at -u from beta + pi - 2 gamma (gamma = atan(u / dsd), this geometry's rotation
    // sense), so Parker's formula, written for beta + pi + 2 gamma', takes gamma' = -gamma.
    std::vector<double> gamma(static_cast<std::size_t>(nu), 0.0);
    double gamma_max = 0.0;
    for (index_t iu = 0; iu < nu; ++iu) {
        const double u = g.offset_u + (double(iu) - 0.5 * double(nu - 1)) * g.du;
        const double gm = g.type == BeamType::cone ? -std::atan(u / g.dsd) : 0.0;
        gamma[std::size_t(iu)] = gm;
        gamma_max = std::max(gamma_max, std::abs(gm));
    }
    if (g.type == BeamType::cone) {
        // Half a pixel beyond the outermost column centre.
        const double edge = std::abs(g.offset_u) + 0.5 * double(nu) * g.du;
        gamma_max = std::max(gamma_max, std::atan(edge / g.dsd));
    }
    const double coverage = angular_coverage(g.angles);
    require(coverage >= kPi + 2.0 * gamma_max - 1e-6,
            "FDK short scan: the views cover " + deg(coverage) + " deg but 180 deg plus the fan angle (" +
                deg(kPi + 2.0 * gamma_max) + " deg) is needed; use more views or an iterative method (sirt, cgls, tv)");
    const double delta = 0.5 * (std::min(coverage, 2.0 * kPi) - kPi);  // half the over-scan, >= gamma_max
    const double start = *std::min_element(g.angles.begin(), g.angles.end());
    const double step = coverage / double(n);
    for (std::size_t i = 0; i < n; ++i) {
        // Position within the scan, views centred in their angular bins.
        const double b = g.angles[i] - start + 0.5 * step;
        for (index_t iu = 0; iu < nu; ++iu) {
            const double gm = gamma[std::size_t(iu)];
            double wt;
            if (b < 2.0 * (delta - gm)) {
                const double s = std::sin(0.25 * kPi * b / (delta - gm));
                wt = s * s;
            } else if (b <= kPi - 2.0 * gm) {
                wt = 1.0;
            } else if (b <= kPi + 2.0 * delta) {
                const double s = std::sin(0.25 * kPi * (kPi + 2.0 * delta - b) / (delta + gm));
                wt = s * s;
            } else {
                wt = 0.0;
            }
            w[i * std::size_t(nu) + std::size_t(iu)] = float(wt);
        }
    }
    return w;
}

DetectorRows fdk_detector_rows(const Geometry& g, index_t z_begin, index_t z_end) {
    const VolumeGrid& v = g.volume;
    if (z_end < 0) z_end = v.nz;
    z_begin = std::max<index_t>(z_begin, 0);
    z_end = std::min(z_end, v.nz);
    if (z_begin >= z_end) return {};
    const double zc = 0.5 * double(v.nz - 1);
    const double z[2] = {v.offset_z + (double(z_begin) - zc - 0.5) * v.voxel_z,
                         v.offset_z + (double(z_end - 1) - zc + 0.5) * v.voxel_z};
    const double x[2] = {v.offset_x - 0.5 * double(v.nx) * v.voxel_x, v.offset_x + 0.5 * double(v.nx) * v.voxel_x};
    const double y[2] = {v.offset_y - 0.5 * double(v.ny) * v.voxel_y, v.offset_y + 0.5 * double(v.ny) * v.voxel_y};
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    auto take = [&](double vv) {
        lo = std::min(lo, vv);
        hi = std::max(hi, vv);
    };
    if (g.type == BeamType::parallel) {
        take(z[0]);
        take(z[1]);
    } else {
        for (double a : g.angles) {
            const double s = std::sin(a), c = std::cos(a);
            for (double xx : x)
                for (double yy : y) {
                    const double depth = g.dso - xx * s + yy * c;  // > 0: validate keeps the source outside
                    for (double zz : z) take(zz * g.dsd / depth);
                }
        }
    }
    // Fractional rows, then the bilinear pair, one row of margin either side, whole pairs.
    const double r_lo = (lo - g.offset_v) / g.dv + 0.5 * double(g.nv - 1);
    const double r_hi = (hi - g.offset_v) / g.dv + 0.5 * double(g.nv - 1);
    index_t first = index_t(std::floor(std::max(r_lo, -4.0))) - 1;
    index_t last = index_t(std::floor(std::min(r_hi, double(g.nv) + 4.0))) + 2;  // exclusive
    first = std::clamp<index_t>(first, 0, g.nv);
    last = std::clamp<index_t>(last, 0, g.nv);
    first -= first % 2;
    last = std::min(g.nv, last + last % 2);
    if (last <= first) return {first, 0};
    return {first, last - first};
}

void fdk(const Projector& projector, View<const float> line_integrals, View<float> volume, const FdkOptions& options,
         index_t z_begin, index_t z_end, index_t row_first) {
    const Geometry& g = projector.geometry();
    const Device dev = projector.device();
    const index_t held = line_integrals.rank() == 3 ? line_integrals.dim(1) : -1;
    require(line_integrals.rank() == 3 && line_integrals.dim(0) == g.n_angles() && line_integrals.dim(2) == g.nu &&
                row_first >= 0 && row_first + held <= g.nv,
            "FDK: projections of shape " + line_integrals.shape().str() + " (from row " + std::to_string(row_first) +
                ") do not match the geometry's " + g.projection_shape().str());
    require(volume.shape() == g.volume_shape(),
            "FDK: volume of shape " + volume.shape().str() + " does not match the geometry's " + g.volume_shape().str());
    require(line_integrals.device() == dev && volume.device() == dev, "FDK: arrays must be on the projector's device");
    if (held < g.nv) {
        const DetectorRows need = fdk_detector_rows(g, z_begin, z_end);
        require(need.count == 0 || (need.first >= row_first && need.end() <= row_first + held),
                "FDK: slices [" + std::to_string(z_begin) + ", " + std::to_string(z_end < 0 ? g.volume.nz : z_end) +
                    ") project to detector rows [" + std::to_string(need.first) + ", " + std::to_string(need.end()) +
                    ") but only rows [" + std::to_string(row_first) + ", " + std::to_string(row_first + held) +
                    ") were given");
    }

    const index_t n_views = g.n_angles(), nu = g.nu, nv = g.nv;
    // The rows filtered per view: the held rows and, when they are odd, a zero row, so that the
    // filter's pairs never cross views.
    const index_t rows_even = held + held % 2;
    const bool cone = g.type == BeamType::cone;

    // Per view and column: angular step times redundancy weight.
    const std::vector<double> steps = angular_steps(g.angles);
    std::vector<float> vw = redundancy_weights(g, options.short_scan);
    for (index_t i = 0; i < n_views; ++i)
        for (index_t iu = 0; iu < nu; ++iu) vw[std::size_t(i * nu + iu)] *= float(steps[std::size_t(i)]);
    Array<float> view_u_weight = Array<float>::from(vw, Shape{n_views, nu}).to(dev);

    const index_t np = fdk_padded_length(nu);
    const double tau = cone ? g.du * g.dso / g.dsd : g.du;
    Array<float> spectrum = Array<float>::from(ramp_filter_spectrum(np, tau, options.window, options.cutoff), Shape{np}).to(dev);

    // The filtered projections with a zero border for the back projector. Filtering runs in
    // batches of views so that the padded complex buffer stays below ~256 MiB; the input is
    // weighted as it is packed (no weighted copy).
    Array<float> filtered(Shape{n_views, nv + 2, nu + 2}, dev);  // rows not held stay zero
    {  // the FFT buffer and plan are released before the back projection
        const index_t bytes_per_view = (rows_even / 2) * np * index_t(sizeof(complex64));
        const index_t batch_views = std::clamp<index_t>((index_t(256) << 20) / std::max<index_t>(bytes_per_view, 1), 1, n_views);
        Array<complex64> packed(Shape{std::max<index_t>(batch_views * rows_even / 2, 1) * np}, dev);
        std::unique_ptr<FftPlan> plan;
        index_t plan_batch = -1;
        for (index_t v0 = 0; held > 0 && v0 < n_views; v0 += batch_views) {
            const index_t count = std::min(batch_views, n_views - v0);
            const index_t rows = count * rows_even, pairs = rows / 2;
            if (pairs != plan_batch) {
                plan = std::make_unique<FftPlan>(std::vector<index_t>{np}, pairs, dev);
                plan_batch = pairs;
            }
            View<complex64> buf(packed.data(), Shape{pairs * np}, dev);
            kern::ct::FdkPackWeightedF pack{};
            pack.proj = line_integrals.data() + v0 * held * nu;
            pack.view_u_weight = view_u_weight.data() + v0 * nu;
            pack.nu = int(nu);
            pack.held = int(held);
            pack.rows = int(rows_even);
            pack.np = int(np);
            pack.cone = cone;
            pack.dsd = float(g.dsd);
            pack.u0 = float(g.offset_u - 0.5 * double(nu - 1) * g.du);
            pack.du = float(g.du);
            pack.v0 = float(g.offset_v - 0.5 * double(nv - 1) * g.dv);
            pack.dv = float(g.dv);
            pack.row0 = int(row_first);
            pack.packed = buf.data();
            detail::for_each(dev, pairs * np, pack);
            plan->forward(buf);
            detail::for_each(dev, pairs * np, kern::ct::MulSpectrumF{buf.data(), spectrum.data(), int(np)});
            plan->inverse(buf);
            detail::for_each(dev, rows * nu,
                             kern::ct::UnpackRowsPaddedF{buf.data(), int(nu), int(nv), int(np),
                                                         filtered.data() + v0 * (nu + 2) * (nv + 2), int(rows_even),
                                                         int(held), int(row_first)});
        }
    }

    fill(volume, 0.0f);
    projector.backproject_voxel_padded(filtered, volume, z_begin, z_end);
}

}  // namespace lumen::ct
