// Ptychography benchmarks: time per iteration and time / iterations to a target NRMSE for AWF, WF,
// ePIE and rPIE on one simulated scan, and how the cost of an iteration grows with the number of
// positions and the frame size.
//
//   lumen-bench --filter ptycho/ [--size large --device cuda]
// (s/iteration is the median over the run; "s to target" the measured cumulative time).
//     --param ptycho_target=0.05        target object NRMSE for time-to-quality
//     --param ptycho_max_iters=300      iteration cap per method
//     --param ptycho_plot=FILE.png      convergence curves (NRMSE against iterations | seconds)
//     --param ptycho_curves=FILE.csv    the curves as numbers
//     --param ptycho_positions=N --param ptycho_frame=M   another scan size for methods/gradient
//
// small (CPU): 400 positions of 128x128, 1e6 photons per frame; large (GPU): 4096 positions of
// 256x256. The NRMSE is computed outside the timed work (its time is subtracted).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <omp.h>

#include "bench/harness.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/png.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

std::string param(const bench::Bench& b, const std::string& key, const std::string& fallback) {
    const auto it = b.options().params.find(key);
    return it == b.options().params.end() ? fallback : it->second;
}

SimulationOptions scan_options(const bench::Bench& b, index_t positions, index_t frame) {
    SimulationOptions o;
    o.frame = frame;
    o.positions = positions;
    o.photons = 1e6;
    o.seed = 2;
    (void)b;
    return o;
}

// Least work of one gradient over J frames of P pixels on an object of O pixels: the intensities
// read once, the object read and the gradient written once (the probe is small); two FFTs per
// frame (5 P log2 P each) and about 30 FP32 operations per frame pixel around them (exit wave,
// modulus, loss, adjoint products). The object+probe gradient adds the probe's products (8 more).
bench::Work gradient_work(double J, double P, double O, bool probe) {
    return {J * P * sizeof(float) + 2.0 * O * sizeof(complex64),
            J * (2.0 * 5.0 * P * std::log2(P) + (probe ? 38.0 : 30.0) * P)};
}

struct Curve {
    std::string method;
    std::vector<double> nrmse, seconds;
    int iterations_to_target = -1;
    double seconds_to_target = -1;
    double seconds_per_iteration = 0;
};

// Runs one method with the NRMSE recorded after every iteration; the time spent on the metric
// itself is taken out of the reported times.
// stop_at_target ends the run at the first iteration that reaches the target; `stop` is the
// library's stopping rule (the discrepancy rule, its default, measures the misfit every iteration).
Curve trace(const Scan& scan, const Array<float>& region, Method method, int max_iters, double target, Device dev,
            bool stop_at_target = false, Stop stop = Stop::discrepancy) {
    Curve c;
    c.method = method_name(method);
    ReconOptions o;
    o.method = method;
    o.iterations = max_iters;
    o.refine_probe = false;  // known-probe convergence (the library refines a given probe by default)
    o.device = dev;
    o.stop = stop;
    double metric_time = 0;
    o.estimates = [&](const ProgressInfo& progress, View<const complex64> obj, View<const complex64>) {
        const IterationInfo& info = progress.iteration;
        const auto t0 = std::chrono::steady_clock::now();
        const double e = object_nrmse(scan.true_object, obj, region, false);
        const double solve = info.elapsed_s - metric_time;
        metric_time += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        c.nrmse.push_back(e);
        c.seconds.push_back(solve);
        if (c.iterations_to_target < 0 && e <= target) {
            c.iterations_to_target = info.iteration;
            c.seconds_to_target = solve;
        }
        return !(stop_at_target && c.iterations_to_target > 0);
    };
    reconstruct(scan, o);
    // The median time of one iteration: robust to other work on a shared machine stealing a core
    // for a while (the cumulative times are reported as measured).
    std::vector<double> steps;
    for (std::size_t i = 1; i < c.seconds.size(); ++i) steps.push_back(c.seconds[i] - c.seconds[i - 1]);
    if (!steps.empty()) {
        std::nth_element(steps.begin(), steps.begin() + long(steps.size() / 2), steps.end());
        c.seconds_per_iteration = steps[steps.size() / 2];
    }
    return c;
}

// A greyscale line plot: two panels (NRMSE against iterations, and against seconds), log NRMSE.
// Methods are told apart by line style (AWF thick solid, WF thin solid, ePIE dashed, rPIE dotted).
// The seconds are iterations x the method's median seconds per iteration, so that bursts of other
// work on a shared machine do not bend the curves (the CSV has the measured cumulative times).
void plot(const std::string& path, const std::vector<Curve>& curves) {
    const index_t ph = 360, pw = 480, margin = 30, W = 2 * pw + 3 * margin, H = ph + 2 * margin;
    Array<float> img(Shape{H, W});
    std::fill(img.begin(), img.end(), 1.0f);
    double lo = 1e9, hi = 0, max_it = 1, max_t = 1e-9;
    for (const Curve& c : curves) {
        for (double e : c.nrmse) lo = std::min(lo, e), hi = std::max(hi, e);
        max_it = std::max(max_it, double(c.nrmse.size()));
        max_t = std::max(max_t, double(c.nrmse.size()) * c.seconds_per_iteration);
    }
    lo = std::pow(10.0, std::floor(std::log10(std::max(lo, 1e-6))));
    hi = std::pow(10.0, std::ceil(std::log10(std::max(hi, lo * 10))));
    auto put = [&](index_t x, index_t y, float v) {
        if (x >= 0 && x < W && y >= 0 && y < H) img[y * W + x] = std::min(img[y * W + x], v);
    };
    for (int panel = 0; panel < 2; ++panel) {
        const index_t x0 = margin + panel * (pw + margin), y0 = margin;
        for (index_t x = 0; x <= pw; ++x) put(x0 + x, y0 + ph, 0.0f);
        for (index_t y = 0; y <= ph; ++y) put(x0, y0 + y, 0.0f);
        // Decade grid lines.
        for (double d = lo; d <= hi * 1.001; d *= 10) {
            const index_t y = y0 + index_t(double(ph) * (1.0 - std::log10(d / lo) / std::log10(hi / lo)));
            for (index_t x = 0; x <= pw; x += 4) put(x0 + x, y, 0.75f);
        }
        for (std::size_t k = 0; k < curves.size(); ++k) {
            const Curve& c = curves[k];
            double px = -1, py = -1;
            long drawn = 0;  // pixels along the line, for the dash patterns
            for (std::size_t i = 0; i < c.nrmse.size(); ++i) {
                const double xv = panel == 0 ? double(i + 1) / max_it : double(i + 1) * c.seconds_per_iteration / max_t;
                const double yv = 1.0 - std::log10(std::max(c.nrmse[i], lo) / lo) / std::log10(hi / lo);
                const double x = double(x0) + xv * double(pw), y = double(y0) + yv * double(ph);
                if (px >= 0) {
                    const int steps = int(std::max(std::fabs(x - px), std::fabs(y - py))) + 1;
                    for (int s = 0; s <= steps; ++s) {
                        const double t = double(s) / steps, xx = px + t * (x - px), yy = py + t * (y - py);
                        ++drawn;
                        const bool on = k < 2 || (k == 2 ? (drawn / 6) % 2 == 0 : drawn % 4 == 0);
                        if (!on) continue;
                        put(index_t(xx), index_t(yy), 0.0f);
                        if (k == 0) put(index_t(xx), index_t(yy) + 1, 0.0f), put(index_t(xx) + 1, index_t(yy), 0.0f);
                    }
                }
                px = x, py = y;
            }
        }
    }
    io::write_png(path, img.view(), 0.0f, 1.0f);
}

}  // namespace

LUMEN_BENCH_CASE("ptycho/methods", "AWF, WF, ePIE, rPIE on one scan: s/iteration, iterations and s to a target NRMSE") {
    const bool large = bench.large();
    const index_t J = std::stol(param(bench, "ptycho_positions", large ? "4096" : "400"));
    const index_t frame = std::stol(param(bench, "ptycho_frame", large ? "256" : "128"));
    const Scan scan = simulate(scan_options(bench, J, frame), bench.device());
    const double target = std::stod(param(bench, "ptycho_target", "0.05"));
    const int max_iters = std::stoi(param(bench, "ptycho_max_iters", "300"));
    Model m(scan.object_shape, scan.probe_shape(), scan.positions, Device::cpu);
    m.set_probe(scan.true_probe);
    const Array<float> region = illuminated_region(m.illumination(), 0.1);
    std::printf("ptycho/methods: %ld positions of %ldx%ld, object %s, target NRMSE %.3g, cap %d iterations\n",
                long(scan.n_positions()), long(frame), long(frame), scan.object_shape.str().c_str(), target, max_iters);
    std::vector<Curve> curves;
    for (Method method : {Method::awf, Method::wf, Method::epie, Method::rpie}) {
        Curve c = trace(scan, region, method, max_iters, target, bench.device());
        bench.figure(c.method, "s/iteration", c.seconds_per_iteration);
        bench.figure(c.method, "iterations to target", c.iterations_to_target);
        bench.figure(c.method, "s to target", c.seconds_to_target);
        bench.figure(c.method, "iterations x median s/iteration",
                     c.iterations_to_target > 0 ? c.iterations_to_target * c.seconds_per_iteration : -1.0);
        bench.figure(c.method, "final NRMSE", c.nrmse.empty() ? NAN : c.nrmse.back());
        bench.figure(c.method, "NRMSE at 50 iterations", c.nrmse.size() >= 50 ? c.nrmse[49] : NAN);
        curves.push_back(std::move(c));
    }
    const std::string png = param(bench, "ptycho_plot", "");
    if (!png.empty()) plot(png, curves);
    const std::string csv = param(bench, "ptycho_curves", "");
    if (!csv.empty()) {
        std::ofstream f(csv);
        f << "method,iteration,seconds,nrmse\n";
        for (const Curve& c : curves)
            for (std::size_t i = 0; i < c.nrmse.size(); ++i)
                f << c.method << "," << i + 1 << "," << c.seconds[i] << "," << c.nrmse[i] << "\n";
    }
}

LUMEN_BENCH_CASE("ptycho/gradient", "one AWF gradient (forward, loss, adjoint) on the methods scan") {
    const index_t J = std::stol(param(bench, "ptycho_positions", bench.large() ? "4096" : "400"));
    const index_t frame = std::stol(param(bench, "ptycho_frame", bench.large() ? "256" : "128"));
    // Noise-free data: the Poisson draws are single-threaded (about a minute at the large size)
    // and do not change the work of a gradient.
    SimulationOptions so = scan_options(bench, J, frame);
    so.poisson = false;
    const Scan scan = simulate(so, bench.device());
    Model model(scan.object_shape, scan.probe_shape(), scan.positions, bench.device());
    model.set_probe(scan.true_probe.to(bench.device()));
    model.set_data(scan.intensities.to(bench.device()));
    Array<complex64> obj = scan.true_object.to(bench.device()), grad(scan.object_shape, bench.device());
    Array<complex64> gp(scan.probe_shape(), bench.device());
    const double frames = double(J), P = double(frame * frame), O = double(scan.object_shape.size());
    bench.time("object gradient", [&] { model.loss(Loss::amplitude, obj, grad, {}); }, {{"frames/s", frames}},
               gradient_work(frames, P, O, false));
    bench.time("object+probe gradient", [&] { model.loss(Loss::amplitude, obj, grad, gp); }, {{"frames/s", frames}},
               gradient_work(frames, P, O, true));
}

LUMEN_BENCH_CASE("ptycho/scaling", "AWF object gradient time against positions and frame size") {
    const bool large = bench.large();
    const std::vector<index_t> counts = large ? std::vector<index_t>{1024, 2048, 4096, 8192}
                                              : std::vector<index_t>{100, 200, 400, 800};
    const std::vector<index_t> frames = large ? std::vector<index_t>{128, 256, 512} : std::vector<index_t>{64, 128, 256};
    const index_t base_frame = large ? 256 : 128, base_count = large ? 1024 : 100;
    auto run = [&](index_t J, index_t frame) {
        SimulationOptions o = scan_options(bench, J, frame);
        o.poisson = false;
        const Scan scan = simulate(o, bench.device());
        Model model(scan.object_shape, scan.probe_shape(), scan.positions, bench.device());
        model.set_probe(scan.true_probe.to(bench.device()));
        model.set_data(scan.intensities.to(bench.device()));
        Array<complex64> obj = scan.true_object.to(bench.device()), grad(scan.object_shape, bench.device());
        const std::string label = std::to_string(J) + " x " + std::to_string(frame) + "^2";
        bench.time(label, [&] { model.loss(Loss::amplitude, obj, grad, {}); },
                   {{"frames/s", double(J)}, {"Mpixel/s", double(J) * double(frame * frame) * 1e-6}},
                   gradient_work(double(J), double(frame * frame), double(scan.object_shape.size()), false));
    };
    for (index_t J : counts) run(J, base_frame);
    for (index_t f : frames)
        if (f != base_frame) run(base_count, f);
}

LUMEN_BENCH_CASE("ptycho/awf-iteration", "AWF s/iteration, object only and blind (16384 x 128^2 large, 400 x 64^2 small)") {
    const bool large = bench.large();
    const index_t J = std::stol(param(bench, "ptycho_positions", large ? "16384" : "400"));
    const index_t frame = std::stol(param(bench, "ptycho_frame", large ? "128" : "64"));
    SimulationOptions so = scan_options(bench, J, frame);
    so.poisson = false;  // as in ptycho/gradient: the noise does not change the work
    const Scan scan = simulate(so, bench.device());
    const double P = double(frame * frame), O = double(scan.object_shape.size());
    const std::string size = std::to_string(J) + " x " + std::to_string(frame) + "^2";
    for (bool blind : {false, true}) {
        ReconOptions o;
        o.method = Method::awf;
        o.iterations = std::stoi(param(bench, "ptycho_iters", "8"));
        o.refine_probe = blind;
        o.probe_delay = 0;
        o.device = bench.device();
        const ReconResult r = reconstruct(scan, o);
        // The median step of the solver's history: one iteration without the set-up (model,
        // probe estimate, first illumination) that reconstruct() also does.
        std::vector<double> steps;
        for (std::size_t i = 1; i < r.solver.history.size(); ++i)
            steps.push_back(r.solver.history[i].elapsed_s - r.solver.history[i - 1].elapsed_s);
        if (steps.empty()) continue;
        std::nth_element(steps.begin(), steps.begin() + long(steps.size() / 2), steps.end());
        bench.record(std::string(blind ? "blind " : "object-only ") + size, steps[steps.size() / 2],
                     {{"frames/s", double(J)}}, gradient_work(double(J), P, O, blind));
    }
}

// Mixed-state probes and position refinement (docs/ptychography.md): blind AWF s/iteration against
// the number of probe modes K, and with position refinement (from the first iteration). The scan is
// ptycho/awf-iteration's. Modes: the median step; positions: the mean step, because the
// Gauss-Newton curvature is refreshed every 5th iteration.
LUMEN_BENCH_CASE("ptycho/depth", "blind AWF s/iteration against probe modes K and with position refinement") {
    const bool large = bench.large();
    const index_t J = std::stol(param(bench, "ptycho_positions", large ? "16384" : "400"));
    const index_t frame = std::stol(param(bench, "ptycho_frame", large ? "128" : "64"));
    SimulationOptions so = scan_options(bench, J, frame);
    so.poisson = false;
    const Scan scan = simulate(so, bench.device());
    const double P = double(frame * frame), O = double(scan.object_shape.size());
    const std::string size = std::to_string(J) + " x " + std::to_string(frame) + "^2";
    auto steps_of = [](const ReconResult& r) {
        std::vector<double> steps;
        for (std::size_t i = 1; i < r.solver.history.size(); ++i)
            steps.push_back(r.solver.history[i].elapsed_s - r.solver.history[i - 1].elapsed_s);
        return steps;
    };
    auto run = [&](index_t modes, bool positions) {
        ReconOptions o;
        o.method = Method::awf;
        o.iterations = std::stoi(param(bench, "ptycho_iters", "11"));
        o.probe_delay = 0;
        o.modes = modes;
        o.refine_positions = positions;
        o.position_delay = 0;
        o.position_search = false;  // the gradient steps' cost; the search is timed below
        o.device = bench.device();
        std::vector<double> steps = steps_of(reconstruct(scan, o));
        if (steps.empty()) return;
        double s = 0;
        if (positions) {
            for (double v : steps) s += v / double(steps.size());
        } else {
            std::nth_element(steps.begin(), steps.begin() + long(steps.size() / 2), steps.end());
            s = steps[steps.size() / 2];
        }
        const std::string label = std::string("K=") + std::to_string(modes) + (positions ? " +positions " : " ") + size;
        // Each mode costs the FFTs and products of one more probe.
        bench::Work work = gradient_work(double(J) * double(modes), P, O, true);
        bench.record(label, s, {{"frames/s", double(J)}}, work);
    };
    for (index_t k : {1, 2, 3, 5}) run(k, false);
    run(1, true);
    run(3, true);
    // The coarse position search: one offset is one forward pass and per-frame loss
    // (Model::frame_losses); a search takes (2R + 1)^2 of them, R from the scan's spacing (+1 px).
    Model model(scan.object_shape, scan.probe_shape(), scan.positions, bench.device());
    model.set_probe(scan.true_probe.to(bench.device()));
    model.set_data(scan.intensities.to(bench.device()));
    const Array<complex64> obj = scan.true_object.to(bench.device());
    Array<complex64> grad(scan.object_shape, bench.device()), gp(scan.probe_shape(), bench.device());
    Array<float> losses(Shape{J}, bench.device());
    bench.time("object+probe gradient " + size, [&] { model.loss(Loss::amplitude, obj, grad, gp); },
               {{"frames/s", double(J)}}, gradient_work(double(J), P, O, true));
    bench.time("search offset (frame_losses) " + size, [&] { model.frame_losses(Loss::amplitude, obj, 3, -2, losses); },
               {{"frames/s", double(J)}});
    const index_t R = coarse_search_radius(scan.positions);
    const double pass = bench.median_of("search offset (frame_losses) " + size);
    bench.figure("search offset (frame_losses) " + size, "R (px)", double(R));
    bench.figure("search offset (frame_losses) " + size, "one search (s)", double((2 * R + 1) * (2 * R + 1)) * pass);
}

// Multi-slice objects (docs/ptychography.md, "Multi-slice"): AWF s/iteration against the number of
// slices N on one scan (a two-slice object 40 um apart; N = 1 is the thin model on the same data).
//   --param ptycho_slices_iters=11 --param ptycho_positions=N --param ptycho_frame=M
LUMEN_BENCH_CASE("ptycho/multislice", "AWF s/iteration against the number of object slices (1, 2, 4)") {
    const bool large = bench.large();
    const index_t J = std::stol(param(bench, "ptycho_positions", large ? "4096" : "400"));
    const index_t frame = std::stol(param(bench, "ptycho_frame", large ? "128" : "64"));
    SimulationOptions so = scan_options(bench, J, frame);
    so.poisson = false;
    so.slices = 2;
    so.slice_distance_m = 40e-6;
    const Scan scan = simulate(so, bench.device());
    const double P = double(frame * frame), O = double(scan.object_shape.size());
    const std::string size = std::to_string(J) + " x " + std::to_string(frame) + "^2";
    for (index_t slices : {1, 2, 4}) {
        ReconOptions o;
        o.method = Method::awf;
        o.iterations = std::stoi(param(bench, "ptycho_slices_iters", "11"));
        o.refine_probe = false;
        o.slices = slices;
        o.slice_distance = so.slice_distance_m;
        o.device = bench.device();
        const ReconResult r = reconstruct(scan, o);
        std::vector<double> steps;
        for (std::size_t i = 1; i < r.solver.history.size(); ++i)
            steps.push_back(r.solver.history[i].elapsed_s - r.solver.history[i - 1].elapsed_s);
        if (steps.empty()) continue;
        std::nth_element(steps.begin(), steps.begin() + long(steps.size() / 2), steps.end());
        // Each slice after the first adds two FFTs (forward and back) per frame to the gradient and
        // one forward pass for its step bound (docs/ptychography.md).
        bench::Work work = gradient_work(double(J) * double(slices), P, O * double(slices), false);
        bench.record("N=" + std::to_string(slices) + " slices " + size, steps[steps.size() / 2], {{"frames/s", double(J)}},
                     work);
    }
}

// lumen's AWF against pty-chi's engines (issue #16): time to an object NRMSE target on one scan,
// known probe, the CPU. lumen runs AWF to the target (trace: the metric's time taken out); the scan,
// the probe, the truth and the region the NRMSE is taken over go to an HDF5 file, and
// bench/peers/ptychi_run.py runs each pty-chi engine on it under $LUMEN_PEER_PYTHON with the same
// metric after every epoch (outside the timed part) and as many torch threads as lumen's OpenMP.
//   --param ptycho_positions=289 --param ptycho_frame=64 --param ptycho_target=0.01
//   --param ptycho_max_iters=500          lumen's iteration cap
//   --param ptycho_stop=discrepancy       lumen's stopping rule (iterations: no misfit measured)
//   --param ptychi_max_epochs=200         pty-chi's epoch cap per engine
//   --param ptychi_engines=rPIE,ePIE,LSQML   (also DM; none: lumen alone)
//   --param ptycho_seed=1 --param ptycho_photons=1e8   the simulation's seed and photons per frame
//   --param ptycho_integer_positions=1    whole-pixel positions (0: sub-pixel, as the other cases)
//   --param ptychi_batch=0 (per engine: 20 rPIE/ePIE, 32 LSQML) --param ptychi_pie_step=1
//   --param ptychi_rpie_alpha=0.1 --param ptychi_batching=uniform|random|compact (default per engine)
//   --param ptychi_curves=FILE.csv        NRMSE per iteration / epoch (lumen's and each engine's)
LUMEN_BENCH_CASE("ptycho/vs-ptychi", "AWF against pty-chi (rPIE, ePIE, LSQML): epochs and s to an NRMSE target, CPU") {
    const index_t J = std::stol(param(bench, "ptycho_positions", "289"));
    const index_t frame = std::stol(param(bench, "ptycho_frame", "64"));
    const double target = std::stod(param(bench, "ptycho_target", "0.01"));
    const int max_iters = std::stoi(param(bench, "ptycho_max_iters", "500"));
    // Seed 1: the scan `lumen-ptycho simulate --frame 64 --positions 289` makes (issue #16's case).
    SimulationOptions so = scan_options(bench, J, frame);
    so.seed = std::stoull(param(bench, "ptycho_seed", "1"));
    // 1e8 photons per frame: at the other cases' 1e6 the Poisson noise floors the NRMSE above the
    // target (AWF's lowest is 0.0142, at iteration 170 of the 289-frame scan, then it rises).
    so.photons = std::stod(param(bench, "ptycho_photons", "1e8"));
    // Whole-pixel positions: pty-chi moves the probe by a sub-pixel remainder otherwise than lumen's
    // simulator does (its forward model of the true object misses 1e8-photon frames by 0.52 %
    // against 0.13 % Poisson noise, frames 0.11 % to 1.1 %), which floors its NRMSE at 0.013
    // (rPIE, 289 frames). With whole pixels both models are the same.
    so.integer_positions = param(bench, "ptycho_integer_positions", "1") != "0";
    const Scan scan = simulate(so, bench.device());
    Model m(scan.object_shape, scan.probe_shape(), scan.positions, Device::cpu);
    m.set_probe(scan.true_probe);
    const Array<float> region = illuminated_region(m.illumination(), 0.1);
    const std::string size = std::to_string(scan.n_positions()) + " x " + std::to_string(frame) + "^2";
    std::printf("ptycho/vs-ptychi: %s, object %s, target NRMSE %.3g, %d threads\n", size.c_str(),
                scan.object_shape.str().c_str(), target, omp_get_max_threads());

    const Curve awf = trace(scan, region, Method::awf, max_iters, target, bench.device(), true,
                            parse_stop(param(bench, "ptycho_stop", "discrepancy")));
    const std::string lumen_label = "lumen AWF " + size;
    // The time to the target, or (not reached) the time of all its iterations.
    bench.record(lumen_label, awf.seconds_to_target > 0 ? awf.seconds_to_target
                                                        : awf.seconds.empty() ? 0.0 : awf.seconds.back());
    bench.figure(lumen_label, "iterations to target", awf.iterations_to_target);
    bench.figure(lumen_label, "s/iteration", awf.seconds_per_iteration);
    bench.figure(lumen_label, "final NRMSE", awf.nrmse.empty() ? NAN : awf.nrmse.back());

    const std::string curves = param(bench, "ptychi_curves", "");
    if (!curves.empty()) {
        std::ofstream f(curves);
        f << "method,iteration,seconds,nrmse\n";
        for (std::size_t i = 0; i < awf.nrmse.size(); ++i)
            f << "lumen AWF," << i + 1 << "," << awf.seconds[i] << "," << awf.nrmse[i] << "\n";
    }
    const std::string engines = param(bench, "ptychi_engines", "rPIE,ePIE,LSQML");
    if (engines == "none") return;
    if (bench.device() != Device::cpu) {  // the script runs pty-chi on the CPU: a CPU comparison
        bench.figure("pty-chi: compared on --device cpu only", "skipped", 0);
        return;
    }
    if (!bench::peer_python_has({"ptychi", "torch", "numpy", "h5py"})) {
        bench.figure("pty-chi: not installed", "skipped", 0);
        return;
    }
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("lumen-bench-ptychi-" + std::to_string(J) + "-" + std::to_string(frame))).string();
    std::filesystem::create_directories(dir);
    const std::string file = dir + "/scan.h5";
    {
        io::H5Writer w(file);
        w.write("intensities", scan.intensities.view());
        w.write("positions", scan.positions.view());
        w.write("probe", scan.true_probe.view());
        w.write("true_object", scan.true_object.view());
        w.write("region", region.view());
        // An estimate and lumen's NRMSE of it: the script checks that its metric gives the same.
        Array<complex64> check(scan.object_shape);
        for (index_t i = 0; i < check.size(); ++i)
            check[i] = scan.true_object[i] * complex64(0.69f, 0.58f) + complex64(0.1f, float(i % 7) * 0.01f);
        w.write("check_estimate", check.view());
        w.write_scalar("check_nrmse", object_nrmse(scan.true_object, check, region, false));
        w.commit();
    }
    const std::string script = bench::peer_script("ptychi_run.py");
    std::string cmd = "'" + bench::peer_python() + "' '" + script + "' '" + file + "'" +
                      " --threads " + std::to_string(omp_get_max_threads()) + " --target " + param(bench, "ptycho_target", "0.01") +
                      " --max-epochs " + param(bench, "ptychi_max_epochs", "200") +
                      " --engines " + engines +
                      " --batch " + param(bench, "ptychi_batch", "0") +
                      " --pie-step " + param(bench, "ptychi_pie_step", "1") +
                      " --rpie-alpha " + param(bench, "ptychi_rpie_alpha", "0.1");
    if (!curves.empty()) cmd += " --curves '" + curves + "'";
    const std::string batching = param(bench, "ptychi_batching", "");
    if (!batching.empty()) cmd += " --batching " + batching;
    FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
    if (!pipe) throw std::runtime_error("ptycho/vs-ptychi: cannot run " + cmd);
    double fastest = -1;
    char line[1024];
    while (std::fgets(line, sizeof line, pipe)) {
        char engine[64] = {0};
        int epochs = 0, to_target = -1, best_epoch = 0;
        double total = 0, seconds = -1, per_epoch = 0, final_nrmse = NAN, best = NAN;
        if (std::sscanf(line,
                        "ptychi engine=%63s epochs=%d seconds=%lf epochs_to_target=%d seconds_to_target=%lf s_per_epoch=%lf "
                        "final_nrmse=%lf best_nrmse=%lf best_epoch=%d",
                        engine, &epochs, &total, &to_target, &seconds, &per_epoch, &final_nrmse, &best, &best_epoch) != 9) {
            if (std::strncmp(line, "ptychi version=", 15) == 0 || std::strncmp(line, "ptychi metric_check", 19) == 0 ||
                std::strstr(line, "Error") || std::strstr(line, "ptychi_run.py: ") ||
                std::strstr(line, "Traceback"))
                std::fputs(line, stdout);  // its versions and settings, or why it failed
            continue;
        }
        const std::string label = std::string("pty-chi ") + engine + " " + size;
        // The time to the target, or (not reached) the time of all its epochs.
        bench.record(label, to_target > 0 ? seconds : total);
        bench.figure(label, "epochs to target", to_target);
        bench.figure(label, "s/epoch", per_epoch);
        bench.figure(label, "final NRMSE", final_nrmse);
        bench.figure(label, "best NRMSE", best);
        bench.figure(label, "best epoch", best_epoch);
        if (to_target > 0 && (fastest < 0 || seconds < fastest)) fastest = seconds;
    }
    const int rc = pclose(pipe);
    if (rc != 0) bench.figure("pty-chi: script failed", "exit status", rc);
    if (fastest > 0 && awf.seconds_to_target > 0)
        bench.figure(lumen_label, "ratio lumen / fastest pty-chi (s to target)", awf.seconds_to_target / fastest);
}
