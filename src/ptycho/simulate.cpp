// Simulated ptychographic scans (include/lumen/ptycho/simulate.hpp). Host code: the patterns are
// made once on the CPU; the far fields come from the same Model the reconstructions use.
#include "lumen/ptycho/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "lumen/fft.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/modes.hpp"
#include "src/text.hpp"

namespace lumen::ptycho {

ScanPattern parse_scan_pattern(const std::string& text) {
    if (text == "raster") return ScanPattern::raster;
    if (text == "spiral" || text == "fermat") return ScanPattern::spiral;
    invalid_option("SimulationOptions.scan", "unknown scan '" + text + "' (expected raster or spiral)");
}

void SimulationOptions::validate() const {
    require_option(frame >= 8 && frame <= 4096, "SimulationOptions.frame",
                   "must be in [8, 4096], got " + std::to_string(frame));
    require_option(positions >= 1 && positions <= 1000000, "SimulationOptions.positions",
                   "must be in [1, 1e6], got " + std::to_string(positions));
    require_option(photons > 0 && std::isfinite(photons), "SimulationOptions.photons", "must be positive");
    require_option(position_error >= 0, "SimulationOptions.position_error", "must be >= 0");
    require_option(min_amplitude >= 0 && min_amplitude <= 1, "SimulationOptions.min_amplitude", "must be in [0, 1]");
    require_option(energy_kev > 0, "SimulationOptions.energy_kev", "must be positive");
    require_option(distance_m > 0, "SimulationOptions.distance_m", "must be positive");
    require_option(detector_pixel_m > 0, "SimulationOptions.detector_pixel_m", "must be positive");
    require_option(overlap >= 0 && overlap <= 0.95, "SimulationOptions.overlap",
                   "must be in [0, 0.95], got " + std::to_string(overlap));
    const double diameter = beam_diameter > 0 ? beam_diameter : 0.5 * double(frame);
    require_option(diameter < double(frame), "SimulationOptions.beam_diameter",
                   "must be smaller than the frame (" + std::to_string(frame) + " pixels)");
    require_option(probe_modes >= 1 && probe_modes <= 16, "SimulationOptions.probe_modes",
                   "must be 1 to 16, got " + std::to_string(probe_modes));
    require_option(std::isfinite(source_blur) && source_blur >= 0 && source_blur < 0.25 * double(frame),
                   "SimulationOptions.source_blur", "must be >= 0 and below a quarter of the frame (0: frame / 32)");
    require_option(slices >= 1 && slices <= 16, "SimulationOptions.slices", "must be 1 to 16, got " + std::to_string(slices));
    require_option(std::isfinite(slice_distance_m) && slice_distance_m >= 0, "SimulationOptions.slice_distance_m",
                   "must be a distance in metres >= 0, got " + std::to_string(slice_distance_m));
    require_option(slices == 1 || slice_distance_m > 0, "SimulationOptions.slice_distance_m",
                   "a multi-slice object needs the slice distance (> 0 metres)");
}

namespace {


// A smooth step: 0 well inside (d < 0), 1 well outside, over about one pixel.
double soft_edge(double d) { return 0.5 * (1.0 + std::tanh(d / 0.7)); }

}  // namespace

Array<complex64> make_test_object(const Shape& shape, double min_amplitude, double phase_range, std::uint64_t seed) {
    require(shape.rank() == 2 && shape[0] >= 8 && shape[1] >= 8,
            "ptycho::make_test_object: the object must be [H][W] with H, W >= 8, got " + shape.str());
    const index_t H = shape[0], W = shape[1];
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 11);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    const double size = double(std::min(H, W));

    // Amplitude: a Siemens star in the middle, discs and bars of random transmission elsewhere.
    std::vector<double> amp(std::size_t(H * W), 1.0);
    struct Disc {
        double y, x, r, v;
    };
    std::vector<Disc> discs;
    const int n_discs = int(6 + (H * W) / 1500);
    for (int k = 0; k < n_discs; ++k)
        discs.push_back({uni(rng) * H, uni(rng) * W, size * (0.03 + 0.09 * uni(rng)), uni(rng)});
    struct Bar {
        double y, x, h, w, v;
    };
    std::vector<Bar> bars;
    for (int k = 0; k < 4 + n_discs / 3; ++k)
        bars.push_back({uni(rng) * H, uni(rng) * W, size * (0.02 + 0.05 * uni(rng)), size * (0.1 + 0.2 * uni(rng)),
                        uni(rng)});
    const double cy = 0.5 * H, cx = 0.5 * W, star_r = 0.3 * size;
    for (index_t i = 0; i < H; ++i)
        for (index_t j = 0; j < W; ++j) {
            double a = 1.0;
            for (const Disc& d : discs) {
                const double dist = std::hypot(i - d.y, j - d.x) - d.r;
                a = a + (d.v - a) * (1.0 - soft_edge(dist));
            }
            for (const Bar& b : bars) {
                const double dy = std::fabs(i - b.y) - 0.5 * b.h, dx = std::fabs(j - b.x) - 0.5 * b.w;
                a = a + (b.v - a) * (1.0 - soft_edge(std::max(dy, dx)));
            }
            const double r = std::hypot(i - cy, j - cx);
            if (r < star_r) {
                // 16 spokes, blurred towards the centre where they get finer than a pixel.
                const double spokes = std::sin(16.0 * std::atan2(i - cy, j - cx));
                const double target = 0.5 + 0.45 * std::tanh(spokes * std::min(r, 24.0) / 3.0);
                a = a + (target - a) * (1.0 - soft_edge(r - star_r));
            }
            amp[std::size_t(i * W + j)] = std::clamp(a, 0.0, 1.0);
        }

    // Phase: smooth Gaussian blobs of both signs and a few sharp-edged plates, independent of the
    // amplitude pattern.
    std::vector<double> ph(std::size_t(H * W), 0.0);
    struct Blob {
        double y, x, s, v;
    };
    std::vector<Blob> blobs;
    for (int k = 0; k < 8 + n_discs; ++k)
        blobs.push_back({uni(rng) * H, uni(rng) * W, size * (0.04 + 0.12 * uni(rng)), 2.0 * uni(rng) - 1.0});
    std::vector<Bar> plates;
    for (int k = 0; k < 3 + n_discs / 4; ++k)
        plates.push_back({uni(rng) * H, uni(rng) * W, size * (0.05 + 0.15 * uni(rng)), size * (0.05 + 0.15 * uni(rng)),
                          2.0 * uni(rng) - 1.0});
    for (index_t i = 0; i < H; ++i)
        for (index_t j = 0; j < W; ++j) {
            double p = 0;
            for (const Blob& b : blobs) {
                const double d2 = (i - b.y) * (i - b.y) + (j - b.x) * (j - b.x);
                p += b.v * std::exp(-d2 / (2 * b.s * b.s));
            }
            for (const Bar& b : plates) {
                const double dy = std::fabs(i - b.y) - 0.5 * b.h, dx = std::fabs(j - b.x) - 0.5 * b.w;
                p += 0.6 * b.v * (1.0 - soft_edge(std::max(dy, dx)));
            }
            ph[std::size_t(i * W + j)] = p;
        }
    const auto [lo, hi] = std::minmax_element(ph.begin(), ph.end());
    const double span = std::max(*hi - *lo, 1e-12), mid = 0.5 * (*hi + *lo);

    Array<complex64> obj(shape);
    for (index_t k = 0; k < H * W; ++k) {
        const double a = min_amplitude + (1.0 - min_amplitude) * amp[std::size_t(k)];
        const double phase = phase_range * (ph[std::size_t(k)] - mid) / span;
        obj[k] = complex64(float(a * std::cos(phase)), float(a * std::sin(phase)));
    }
    return obj;
}

Array<complex64> make_probe(index_t frame, double diameter) {
    require(frame >= 8, "ptycho::make_probe: the frame must be at least 8 pixels, got " + std::to_string(frame));
    require(diameter > 0 && diameter < double(frame),
            "ptycho::make_probe: the beam diameter must be in (0, frame), got " + std::to_string(diameter));
    const index_t n = frame;
    // Pupil of radius rho bins with a defocus phase pi a k^2 / n: the ray of frequency k lands a k
    // pixels off axis, so the beam is about 2 a rho pixels wide.
    const double rho = double(n) / 8.0;
    const double a = 0.5 * diameter / rho;
    Array<complex64> p(Shape{n, n});
    for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) {
            const double ky = double(i < (n + 1) / 2 ? i : i - n), kx = double(j < (n + 1) / 2 ? j : j - n);
            const double k = std::hypot(ky, kx);
            const double pupil = 1.0 - soft_edge(k - rho);
            const double phase = kPi * a * k * k / double(n);
            p[i * n + j] = complex64(float(pupil * std::cos(phase)), float(pupil * std::sin(phase)));
        }
    FftPlan plan({n, n}, 1, Device::cpu);
    plan.inverse(p);
    fftshift(p.view(), 2);  // centre the beam in the frame
    double energy = 0;
    for (index_t i = 0; i < p.size(); ++i) energy += double(norm(p[i]));
    const float s = float(1.0 / std::sqrt(energy));
    for (index_t i = 0; i < p.size(); ++i) p[i] = p[i] * s;
    return p;
}

Array<complex64> make_probe_modes(index_t frame, double diameter, index_t modes, double source_blur) {
    require(modes >= 1, "ptycho::make_probe_modes: the number of modes must be at least 1");
    const double blur = source_blur > 0 ? source_blur : double(frame) / 32.0;
    const Array<complex64> probe = make_probe(frame, diameter);
    const index_t n = frame, m = n * n;
    // The source as a 9 x 9 grid of points over +-2 rms per axis with Gaussian weights; each point
    // displaces the beam by its offset (a Fourier shift of the probe).
    const int side = 9;
    const index_t members = side * side;
    std::vector<double> t(side), w(side);
    double wsum = 0;
    for (int i = 0; i < side; ++i) {
        t[std::size_t(i)] = -2.0 + 4.0 * double(i) / double(side - 1);
        w[std::size_t(i)] = std::exp(-0.5 * t[std::size_t(i)] * t[std::size_t(i)]);
        wsum += w[std::size_t(i)];
    }
    FftPlan plan({n, n}, 1, Device::cpu);
    Array<complex64> spectrum = probe.clone();
    plan.forward(spectrum);
    Array<complex64> ensemble(Shape{members, n, n});
    for (int a = 0; a < side; ++a)
        for (int b = 0; b < side; ++b) {
            const double dy = blur * t[std::size_t(a)], dx = blur * t[std::size_t(b)];
            const double weight = w[std::size_t(a)] * w[std::size_t(b)] / (wsum * wsum);
            Array<complex64> q(Shape{n, n});
            for (index_t y = 0; y < n; ++y)
                for (index_t x = 0; x < n; ++x) {
                    const double ky = double(y < (n + 1) / 2 ? y : y - n), kx = double(x < (n + 1) / 2 ? x : x - n);
                    const double ph = -2.0 * kPi * (ky * dy + kx * dx) / double(n);
                    q[y * n + x] = spectrum[y * n + x] * complex64(float(std::sqrt(weight) * std::cos(ph)),
                                                                   float(std::sqrt(weight) * std::sin(ph)));
                }
            plan.inverse(q);
            for (index_t r = 0; r < m; ++r) ensemble[(a * side + b) * m + r] = q[r];
        }
    const std::vector<double> powers = orthogonalize_modes(ensemble.view());
    double kept = 0;
    for (index_t k = 0; k < modes; ++k) kept += powers[std::size_t(k)];
    Array<complex64> out(Shape{modes, n, n});
    const float s = float(1.0 / std::sqrt(kept));
    for (index_t i = 0; i < modes * m; ++i) out[i] = ensemble[i] * s;
    return out;
}

Array<float> make_scan(index_t count, ScanPattern pattern, double diameter, double overlap, double jitter,
                       std::uint64_t seed) {
    require(count >= 1, "ptycho::make_scan: the number of positions must be at least 1, got " + std::to_string(count));
    require(overlap >= 0 && overlap <= 0.95, "ptycho::make_scan: the overlap must be in [0, 0.95], got " +
                                                 std::to_string(overlap));
    require(diameter > 0, "ptycho::make_scan: the beam diameter must be positive");
    const double step = diameter * (1.0 - overlap);
    std::mt19937_64 rng(seed * 0xD1B54A32D192ED03ULL + 5);
    std::vector<double> rows, cols;
    if (pattern == ScanPattern::raster) {
        const index_t side = std::max<index_t>(1, index_t(std::llround(std::sqrt(double(count)))));
        const double j = jitter < 0 ? 0.1 * step : jitter;
        std::uniform_real_distribution<double> uni(-j, j);
        for (index_t a = 0; a < side; ++a)
            for (index_t b = 0; b < side; ++b) {
                rows.push_back(double(a) * step + (j > 0 ? uni(rng) : 0.0));
                cols.push_back(double(b) * step + (j > 0 ? uni(rng) : 0.0));
            }
    } else {
        // Fermat spiral r = c sqrt(n), theta = n * golden angle: about pi c^2 of area per point,
        // which a hexagonal packing of nearest-neighbour distance `step` fills when c = step / 1.905.
        const double c = step / std::sqrt(2.0 * kPi / std::sqrt(3.0));
        const double golden = kPi * (3.0 - std::sqrt(5.0));
        for (index_t n = 0; n < count; ++n) {
            const double r = c * std::sqrt(double(n) + 0.5), t = double(n) * golden;
            rows.push_back(r * std::sin(t));
            cols.push_back(r * std::cos(t));
        }
    }
    const double r0 = *std::min_element(rows.begin(), rows.end()), c0 = *std::min_element(cols.begin(), cols.end());
    Array<float> p(Shape{index_t(rows.size()), 2});
    for (std::size_t k = 0; k < rows.size(); ++k) {
        p[index_t(2 * k)] = float(rows[k] - r0);
        p[index_t(2 * k + 1)] = float(cols[k] - c0);
    }
    return p;
}

Scan simulate(const SimulationOptions& o, Device device) {
    o.validate();
    const index_t M = o.frame;
    const double diameter = o.beam_diameter > 0 ? o.beam_diameter : 0.5 * double(M);

    Array<float> truth = make_scan(o.positions, o.scan, diameter, o.overlap, o.jitter, o.seed);
    const index_t J = truth.dim(0);
    if (o.integer_positions)
        for (index_t i = 0; i < truth.size(); ++i) truth[i] = std::round(truth[i]);
    // Recorded positions: the truth plus errors; the object grid follows the recorded positions
    // (as a reader of the file will build it), and the truth is kept inside that grid.
    Array<float> recorded = truth.clone();
    if (o.position_error > 0) {
        std::mt19937_64 rng(o.seed * 0x94D049BB133111EBULL + 17);
        std::normal_distribution<double> err(0.0, o.position_error);
        for (index_t i = 0; i < recorded.size(); ++i) recorded[i] = float(recorded[i] + err(rng));
    }
    for (int a = 0; a < 2; ++a) {
        float lo = recorded[a];
        for (index_t j = 0; j < J; ++j) lo = std::min(lo, recorded[2 * j + a]);
        for (index_t j = 0; j < J; ++j) {
            recorded[2 * j + a] -= lo;
            truth[2 * j + a] -= lo;
        }
    }
    const Shape shape = object_shape_for(recorded, Shape{M, M});
    // A window at t covers [floor(t), floor(t) + M): t must stay below shape - M + 1.
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            float& t = truth[2 * j + a];
            t = std::clamp(t, 0.0f, float(shape[a] - M) + 0.99f);
        }

    Scan s;
    s.object_shape = shape;
    if (o.slices > 1) {
        // Slice n: its own pattern, moved cyclically by n/3 of the grid so that the features
        // (the Siemens star of every test object) do not coincide across slices.
        const index_t N = o.slices, H = shape[0], W = shape[1];
        s.true_slices = Array<complex64>(Shape{N, H, W});
        s.true_object = Array<complex64>(shape);
        std::fill(s.true_object.begin(), s.true_object.end(), complex64(1.0f, 0.0f));
        const double min_amplitude = std::pow(o.min_amplitude, 1.0 / double(N)), phase = o.phase_range / double(N);
        for (index_t n = 0; n < N; ++n) {
            const Array<complex64> slice = make_test_object(shape, min_amplitude, phase, o.seed + std::uint64_t(n));
            const index_t dy = (n * H / 3) % H, dx = (n * W / 3) % W;
            for (index_t i = 0; i < H; ++i)
                for (index_t j = 0; j < W; ++j) {
                    const complex64 v = slice[((i + dy) % H) * W + (j + dx) % W];
                    s.true_slices[(n * H + i) * W + j] = v;
                    s.true_object[i * W + j] = s.true_object[i * W + j] * v;
                }
        }
        s.slice_distance_m = o.slice_distance_m;
    } else {
        s.true_object = make_test_object(shape, o.min_amplitude, o.phase_range, o.seed);
    }
    if (o.probe_modes > 1) {
        s.true_probe_modes = make_probe_modes(M, diameter, o.probe_modes, o.source_blur);
        s.true_probe = Array<complex64>(Shape{M, M});
        for (index_t i = 0; i < M * M; ++i) s.true_probe[i] = s.true_probe_modes[i];
    } else {
        s.true_probe = make_probe(M, diameter);
    }
    s.true_positions = truth.clone();
    s.positions = std::move(recorded);
    s.geometry.energy_j = Geometry::joules_from_kev(o.energy_kev);
    s.geometry.distance_m = o.distance_m;
    s.geometry.pixel_x_m = o.detector_pixel_m;
    s.geometry.pixel_y_m = o.detector_pixel_m;
    s.near_field = o.near_field;
    s.intensities = Array<float>(Shape{J, M, M});  // the frame shape, for model_options()

    ModelOptions model_options = s.layout().with_slices(s.model_options(), o.slices, o.slice_distance_m);
    model_options.modes = o.probe_modes;
    Model model(shape, Shape{M, M}, truth, device, model_options);
    const Array<complex64> obj_d = (o.slices > 1 ? s.true_slices : s.true_object).to(device);
    model.set_probe((o.probe_modes > 1 ? s.true_probe_modes : s.true_probe).to(device));
    Array<float> y(model.data_shape(), device);
    model.intensities(obj_d, y);
    s.intensities = y.to(Device::cpu);

    double total = 0;
    for (index_t i = 0; i < s.intensities.size(); ++i) total += s.intensities[i];
    const double scale = o.photons * double(J) / total;
    for (index_t i = 0; i < s.true_probe.size(); ++i) s.true_probe[i] = s.true_probe[i] * float(std::sqrt(scale));
    for (index_t i = 0; i < s.true_probe_modes.size(); ++i)
        s.true_probe_modes[i] = s.true_probe_modes[i] * float(std::sqrt(scale));
    std::mt19937_64 rng(o.seed * 0xBF58476D1CE4E5B9ULL + 3);
    for (index_t i = 0; i < s.intensities.size(); ++i) {
        const double mean = double(s.intensities[i]) * scale;
        if (o.poisson) {
            std::poisson_distribution<long long> draw(mean > 0 ? mean : 0.0);
            s.intensities[i] = mean > 0 ? float(draw(rng)) : 0.0f;
        } else {
            s.intensities[i] = float(mean);
        }
    }
    if (o.store_probe) s.probe = s.true_probe.clone();
    return s;
}

}  // namespace lumen::ptycho
