// Scan conventions and plausibility checks (include/lumen/ptycho/conventions.hpp). Host code: each
// check looks at the positions, the mean pattern or a probe once; the orientation fit runs a few
// iterations of the same Model and solver the reconstruction uses.
#include "lumen/ptycho/conventions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lumen/core/checks.hpp"
#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/solvers/solvers.hpp"
#include "src/text.hpp"

namespace lumen::ptycho {

using detail::num;

namespace {
std::string pct(double f) { return num(std::round(1000.0 * f) / 10.0) + " %"; }
}  // namespace

void require_orientation(int orientation, const std::string& field) {
    require_option(orientation >= 0 && orientation < orientation_count, field,
                   "expected an orientation 0 to 7 (4: swap x and y, then +1: negate x, +2: negate y), got " +
                       std::to_string(orientation));
}

std::string orientation_name(int o) {
    require_orientation(o);
    std::string s = (o & 4) ? "x and y swapped" : "";
    const char* flip = (o & 3) == 1 ? "x negated" : (o & 3) == 2 ? "y negated" : (o & 3) == 3 ? "x and y negated" : "";
    if (*flip) s += std::string(s.empty() ? "" : ", then ") + flip;
    return s.empty() ? "as stored" : s;
}

Array<float> orient_positions(View<const float> positions_v, int o, double aspect) {
    require_orientation(o, "ptycho::orient_positions");
    require(positions_v.rank() == 2 && positions_v.dim(1) == 2 && positions_v.dim(0) >= 1,
            "ptycho::orient_positions: positions must be [J][2], got " + positions_v.shape().str());
    require(aspect > 0 && std::isfinite(aspect), "ptycho::orient_positions: the pixel aspect must be positive");
    const Array<float> p = Array<float>::copy_of(positions_v, Device::cpu);
    const index_t J = p.dim(0);
    std::vector<double> rows(static_cast<std::size_t>(J)), cols(static_cast<std::size_t>(J));
    for (index_t j = 0; j < J; ++j) {
        // In units of the object pixel width: x = column, y = row * aspect (metres / dx).
        double x = p[2 * j + 1], y = double(p[2 * j]) * aspect;
        if (o & 4) std::swap(x, y);
        if (o & 1) x = -x;
        if (o & 2) y = -y;
        cols[std::size_t(j)] = x;
        rows[std::size_t(j)] = y / aspect;
    }
    const double r0 = *std::min_element(rows.begin(), rows.end());
    const double c0 = *std::min_element(cols.begin(), cols.end());
    Array<float> out(Shape{J, 2});
    for (index_t j = 0; j < J; ++j) {
        out[2 * j] = float(rows[std::size_t(j)] - r0);
        out[2 * j + 1] = float(cols[std::size_t(j)] - c0);
    }
    return out;
}

FrameStats frame_stats(View<const float> intensities_v, View<const float> mask_v, const Communicator& ranks) {
    require(intensities_v.rank() == 3 && intensities_v.dim(0) >= 1,
            "ptycho::frame_stats: expected intensities [J][ny][nx], got " + intensities_v.shape().str());
    const Array<float> y = Array<float>::copy_of(intensities_v, Device::cpu);
    const Array<float> mask = mask_v.empty() ? Array<float>() : Array<float>::copy_of(mask_v, Device::cpu);
    const index_t J = y.dim(0), ny = y.dim(1), nx = y.dim(2), m = ny * nx;
    std::vector<double> mean(std::size_t(m), 0.0);
    for (index_t j = 0; j < J; ++j)
        for (index_t r = 0; r < m; ++r) mean[std::size_t(r)] += double(y[j * m + r]);
    ranks.sum(mean.data(), m);  // distributed: every rank's frames (the fractions below need no count)
    double total = 0, centre = 0, corner = 0;
    const double radius = 0.25 * double(std::min(ny, nx));
    for (index_t r = 0; r < m; ++r) {
        if (!mask.empty() && mask[r] == 0.0f) mean[std::size_t(r)] = 0.0;
        const double v = mean[std::size_t(r)];
        total += v;
        const index_t ky = r / nx, kx = r % nx;
        if (std::hypot(double(ky - ny / 2), double(kx - nx / 2)) < radius) centre += v;
        // Cyclic distance to [0][0].
        const double dy = double(std::min(ky, ny - ky)), dx = double(std::min(kx, nx - kx));
        if (std::hypot(dy, dx) < radius) corner += v;
    }
    FrameStats s;
    if (!(total > 0)) return s;
    s.centre = centre / total;
    s.corner = corner / total;
    std::vector<double> sorted = mean;
    const std::size_t top = std::max<std::size_t>(1, sorted.size() / 10);
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(top), sorted.end(), std::greater<double>());
    double bright = 0;
    for (std::size_t i = 0; i < top; ++i) bright += sorted[i];
    s.bright = bright / total;
    return s;
}

void frames_to_detector_order(Scan& scan) {
    require(scan.intensities.rank() == 3, "ptycho::frames_to_detector_order: the scan has no frames");
    const index_t J = scan.intensities.dim(0), ny = scan.intensities.dim(1), nx = scan.intensities.dim(2), m = ny * nx;
    // fftshift: index k moves to (k + n/2) mod n, so the output at k reads (k + (n+1)/2) mod n.
    auto shift = [&](const float* in, float* out) {
        for (index_t ky = 0; ky < ny; ++ky)
            for (index_t kx = 0; kx < nx; ++kx)
                out[ky * nx + kx] = in[((ky + (ny + 1) / 2) % ny) * nx + (kx + (nx + 1) / 2) % nx];
    };
    Array<float> y = scan.intensities.to(Device::cpu), shifted(y.shape());
    for (index_t j = 0; j < J; ++j) shift(y.data() + j * m, shifted.data() + j * m);
    scan.intensities = std::move(shifted);
    if (!scan.mask.empty()) {
        Array<float> mk = scan.mask.to(Device::cpu), out(mk.shape());
        shift(mk.data(), out.data());
        scan.mask = std::move(out);
    }
}

ScanOverlap scan_overlap(View<const float> positions_v, View<const complex64> probe_v) {
    require(positions_v.rank() == 2 && positions_v.dim(1) == 2 && positions_v.dim(0) >= 1,
            "ptycho::scan_overlap: positions must be [J][2], got " + positions_v.shape().str());
    require(probe_v.rank() == 2, "ptycho::scan_overlap: the probe must be [my][mx], got " + probe_v.shape().str());
    const Array<float> p = Array<float>::copy_of(positions_v, Device::cpu);
    const Array<complex64> probe = Array<complex64>::copy_of(probe_v, Device::cpu);
    ScanOverlap s;
    const index_t J = p.dim(0);
    double rmin = 1e300, rmax = -1e300, cmin = 1e300, cmax = -1e300;
    for (index_t j = 0; j < J; ++j) {
        rmin = std::min(rmin, double(p[2 * j]));
        rmax = std::max(rmax, double(p[2 * j]));
        cmin = std::min(cmin, double(p[2 * j + 1]));
        cmax = std::max(cmax, double(p[2 * j + 1]));
    }
    s.span = std::max(rmax - rmin, cmax - cmin);
    // Nearest neighbours of up to 1000 positions spread over the scan (cost 1000 J).
    if (J >= 2) {
        const index_t stride = std::max<index_t>(1, J / 1000);
        std::vector<double> nearest;
        for (index_t a = 0; a < J; a += stride) {
            double best = std::numeric_limits<double>::infinity();
            for (index_t b = 0; b < J; ++b) {
                if (b == a) continue;
                const double d = std::hypot(double(p[2 * a] - p[2 * b]), double(p[2 * a + 1] - p[2 * b + 1]));
                if (d > 0) best = std::min(best, d);  // repeated positions do not count as a step
            }
            if (std::isfinite(best)) nearest.push_back(best);
        }
        if (!nearest.empty()) {
            std::nth_element(nearest.begin(), nearest.begin() + std::ptrdiff_t(nearest.size() / 2), nearest.end());
            s.step = nearest[nearest.size() / 2];
        }
    }
    const index_t my = probe.dim(0), mx = probe.dim(1);
    double w = 0, wy = 0, wx = 0;
    for (index_t y = 0; y < my; ++y)
        for (index_t x = 0; x < mx; ++x) {
            const double a = double(norm(probe[y * mx + x]));
            w += a;
            wy += a * double(y);
            wx += a * double(x);
        }
    if (w > 0) {
        const double cy = wy / w, cx = wx / w;
        double r2 = 0;
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x)
                r2 += double(norm(probe[y * mx + x])) *
                      ((double(y) - cy) * (double(y) - cy) + (double(x) - cx) * (double(x) - cx));
        s.probe_diameter = 2.0 * std::sqrt(2.0) * std::sqrt(r2 / w);
    }
    s.overlap = s.probe_diameter > 0 ? 1.0 - s.step / s.probe_diameter : 0.0;
    return s;
}

void check_overlap(View<const float> positions, View<const complex64> probe) {
    if (positions.dim(0) < 2) return;
    const ScanOverlap s = scan_overlap(positions, probe);
    if (!(s.probe_diameter > 0)) return;
    const std::string measured = "median step " + num(s.step) + " px, probe diameter " + num(s.probe_diameter) +
                                 " px (2 sqrt 2 x rms radius), linear overlap " + pct(s.overlap);
    const std::string what =
        "; check the translation units (metres) and the energy, distance and pixel sizes "
        "that convert them to object pixels (lambda z / (N p))";
    if (s.overlap < overlap_low)
        warn("ptycho.overlap", measured +
                                   ": the probe windows do not overlap, so ptychography cannot work; the positions "
                                   "look about " +
                                   num(std::round(10.0 * s.step / (0.3 * s.probe_diameter)) / 10.0) +
                                   "x too far apart for the usual 70 % overlap" + what);
    else if (s.overlap > overlap_high)
        warn("ptycho.overlap", measured + ": the probe hardly moves between positions; the positions look about " +
                                   num(std::round(10.0 * 0.3 * s.probe_diameter / std::max(s.step, 1e-9)) / 10.0) +
                                   "x too close together for the usual 70 % overlap" + what);
    else
        report_check("ptycho.overlap", true, measured);
    if (s.span < s.probe_diameter)
        warn("ptycho.coverage", "the whole scan spans " + num(s.span) + " px, less than one probe diameter (" +
                                    num(s.probe_diameter) + " px)" + what);
    else
        report_check("ptycho.coverage", true,
                     "the scan spans " + num(s.span) + " px, " +
                         num(std::round(10.0 * s.span / s.probe_diameter) / 10.0) + " probe diameters");
}

void check_scan(const Scan& scan, bool with_overlap, const Communicator& ranks) {
    const FrameStats f = frame_stats(scan.intensities, scan.mask, ranks);
    const std::string power = "mean pattern power " + pct(f.centre) + " within a quarter frame of the centre, " +
                              pct(f.corner) + " of the corner";
    if (f.fft_order() && !scan.near_field)
        warn("ptycho.frames_centred", power +
                                          ": the frames look like FFT order (zero frequency at [0][0], as tike and "
                                          "numpy's fft2 store them) while CXI frames have it at the centre; read them "
                                          "with the frame order (RunOptions.frame_order) fft or auto, or fftshift "
                                          "the frames in the file");
    else
        report_check("ptycho.frames_centred", true, power);
    const std::string bright = "the brightest 10 % of detector pixels hold " + pct(f.bright) + " of the mean pattern";
    if (scan.near_field)
        report_check("ptycho.far_field", true, "near-field scan (Fresnel propagation); " + bright);
    else if (!f.far_field_like())
        warn("ptycho.far_field", bright +
                                     "; far-field diffraction patterns concentrate their power in the bright field, "
                                     "these frames look like near-field (Fresnel) images of the sample; if they "
                                     "are, read them with the near-field propagation (RunOptions.propagation "
                                     "near; the distance and pixel sizes are then the "
                                     "effective near-field geometry, the pixel size the object pixel)");
    else
        report_check("ptycho.far_field", true, bright);
    if (!scan.mask.empty()) {
        double good = 0;
        for (index_t i = 0; i < scan.mask.size(); ++i) good += scan.mask[i] != 0.0f;
        const double bad = 1.0 - good / double(scan.mask.size());
        if (bad > 0.5)
            warn("ptycho.mask", "the mask excludes " + pct(bad) +
                                    " of the detector pixels; CXI masks mark bad pixels "
                                    "with non-zero bits (0 = good), a mask written with 1 = good is read inverted");
        else
            report_check("ptycho.mask", true, "the mask excludes " + pct(bad) + " of the detector pixels");
    }
    if (with_overlap && !scan.probe.empty()) check_overlap(scan.positions, scan.probe);
}

OrientationFit fit_orientation(View<const float> positions_v, View<const float> intensities_v, View<const float> mask,
                               View<const complex64> probe, int chosen, double aspect, Device device, index_t frames,
                               int iterations, const ModelOptions& model_options) {
    require_orientation(chosen);
    const Array<float> p = Array<float>::copy_of(positions_v, Device::cpu);
    const Array<float> y = Array<float>::copy_of(intensities_v, Device::cpu);
    const index_t J = p.dim(0), ny = y.dim(1), nx = y.dim(2), m = ny * nx;
    // The frames nearest the scan's centre: a connected patch that overlaps like the whole scan.
    double cy = 0, cx = 0;
    for (index_t j = 0; j < J; ++j) {
        cy += p[2 * j];
        cx += p[2 * j + 1];
    }
    cy /= double(J);
    cx /= double(J);
    std::vector<index_t> order(static_cast<std::size_t>(J));
    for (index_t j = 0; j < J; ++j) order[std::size_t(j)] = j;
    auto dist = [&](index_t j) { return std::hypot(double(p[2 * j]) - cy, double(p[2 * j + 1]) - cx); };
    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) { return dist(a) < dist(b); });
    const index_t K = std::min(J, std::max<index_t>(frames, 1));
    Array<float> sub_p(Shape{K, 2}), sub_y(Shape{K, ny, nx});
    for (index_t k = 0; k < K; ++k) {
        const index_t j = order[std::size_t(k)];
        sub_p[2 * k] = p[2 * j];
        sub_p[2 * k + 1] = p[2 * j + 1];
        std::copy(y.data() + j * m, y.data() + (j + 1) * m, sub_y.data() + k * m);
    }
    OrientationFit fit;
    fit.chosen = chosen;
    fit.frames = K;
    fit.iterations = iterations;
    for (int o = 0; o < orientation_count; ++o) {
        const Array<float> q = orient_positions(sub_p, o, aspect);
        Model model(object_shape_for(q, Shape{ny, nx}), Shape{ny, nx}, q, device, model_options);
        model.set_data(sub_y, mask);
        model.set_probe(probe);
        Array<complex64> object(model.object_shape(), device);
        fill(object.view(), complex64(1.0f, 0.0f));
        const double lo = model.lipschitz_object();
        require(lo > 0 && std::isfinite(lo), "ptycho::fit_orientation: the probe illuminates nothing");
        ObjectiveGradientFn<complex64> f = [&](const std::vector<View<const complex64>>& x,
                                               const std::vector<View<complex64>>& g) {
            return model.loss(Loss::amplitude, x[0], g[0], {});
        };
        SolverOptions so;
        so.max_iterations = iterations;
        nesterov<complex64>(f, {{object.view(), 1.0 / lo}}, NesterovOptions<complex64>{}, so);
        fit.loss[std::size_t(o)] = model.loss(Loss::amplitude, object.view(), {}, {});
    }
    for (int o = 1; o < orientation_count; ++o)
        if (fit.loss[std::size_t(o)] < fit.loss[std::size_t(fit.best)]) fit.best = o;
    return fit;
}

void report_orientation(const OrientationFit& fit) {
    const std::string how = " (" + std::to_string(fit.iterations) + " AWF iterations on the " +
                            std::to_string(fit.frames) + " central positions)";
    if (fit.best != fit.chosen && fit.ratio() < orientation_margin)
        warn("ptycho.orientation",
             "the positions fit the frames better with orientation " + std::to_string(fit.best) + " (" +
                 orientation_name(fit.best) + "): its loss is " + pct(fit.ratio()) + " of the loss of orientation " +
                 std::to_string(fit.chosen) + " (" + orientation_name(fit.chosen) + ")" + how +
                 "; the file's translations are probably in another convention, rerun with orientation " +
                 std::to_string(fit.best) + " (ReconOptions.orientation)");
    else
        report_check("ptycho.orientation", true,
                     "orientation " + std::to_string(fit.chosen) + " (" + orientation_name(fit.chosen) +
                         ") fits best or within " + pct(1.0 - orientation_margin) + " of the best" + how);
}

}  // namespace lumen::ptycho
