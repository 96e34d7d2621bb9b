// Ptychographic reconstruction entry points (include/lumen/ptycho/recon.hpp): AWF / WF through the
// shared accelerated-gradient solver, (r)PIE in pie.cpp, the probe estimate from the data, the
// theory step sizes, and the quality against a truth. In memory only (the files are in io.cpp).
#include "lumen/ptycho/recon.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <cmath>
#include <string>
#include <vector>

#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/ptycho/conventions.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/modes.hpp"
#include "lumen/solvers/solvers.hpp"
#include "src/ptycho/pie.hpp"
#include "src/ptycho/positions.hpp"
#include "src/ptycho/stopping.hpp"

namespace lumen::ptycho {

Method parse_method(const std::string& text) {
    if (text == "awf") return Method::awf;
    if (text == "wf") return Method::wf;
    if (text == "epie") return Method::epie;
    if (text == "rpie") return Method::rpie;
    invalid_option("ReconOptions.method", "unknown method '" + text + "' (expected awf, wf, epie or rpie)");
}

Stop parse_stop(const std::string& text) {
    if (text == "discrepancy") return Stop::discrepancy;
    if (text == "iterations") return Stop::iterations;
    invalid_option("ReconOptions.stop", "'" + text + "' is not a stopping rule; expected discrepancy or iterations");
}

const char* stop_name(Stop stop) noexcept { return stop == Stop::discrepancy ? "discrepancy" : "iterations"; }

void ReconOptions::validate() const {
    require_option(iterations >= 0, "ReconOptions.iterations",
                   "must be at least 0 (0: the method's default), got " + std::to_string(iterations));
    require_option(std::isfinite(discrepancy_tau) && discrepancy_tau >= 0, "ReconOptions.discrepancy_tau",
                   "must be a number >= 0 (0: the method's default), got " + std::to_string(discrepancy_tau));
    require_orientation(orientation, "ReconOptions.orientation");
    require_option(std::isfinite(alpha) && alpha >= 0, "ReconOptions.alpha",
                   "must be a number >= 0 (0: the method's default), got " + std::to_string(alpha));
    require_option(std::isfinite(beta) && beta >= 0, "ReconOptions.beta",
                   "must be a number >= 0 (0: the method's default), got " + std::to_string(beta));
    require_option(batch >= 0, "ReconOptions.batch",
                   "must be at least 0 (0: automatic), got " + std::to_string(batch));
    // Mixed-state probes and position refinement (docs/ptychography.md).
    const bool gradient_method = method == Method::awf || method == Method::wf;
    require_option(modes >= 1 && modes <= 64, "ReconOptions.modes", "must be 1 to 64, got " + std::to_string(modes));
    require_option(modes == 1 || gradient_method, "ReconOptions.modes", "probe modes need the awf or wf method");
    require_option(modes == 1 || refine_probe, "ReconOptions.modes",
                   "probe modes are refined from their starting guess; they need the probe refined");
    require_option(!refine_positions || gradient_method, "ReconOptions.refine_positions",
                   "position refinement needs the awf or wf method");
    require_option(position_delay >= 0, "ReconOptions.position_delay",
                   "must be at least 0, got " + std::to_string(position_delay));
    require_option(!refine_positions || !(checkpoint.enabled() || checkpoint.resume), "ReconOptions.checkpoint",
                   "a checkpoint does not hold refined positions; refine positions without checkpoints");
    // Multi-slice objects (docs/ptychography.md, "Multi-slice").
    require_option(slices >= 1 && slices <= 64, "ReconOptions.slices", "must be 1 to 64, got " + std::to_string(slices));
    require_option(std::isfinite(slice_distance) && slice_distance >= 0, "ReconOptions.slice_distance",
                   "must be a distance in metres >= 0, got " + std::to_string(slice_distance));
    require_option(slices == 1 || gradient_method, "ReconOptions.slices",
                   "a multi-slice object needs the awf or wf method (epie and rpie are single-slice)");
    require_option(slices == 1 || !refine_positions, "ReconOptions.slices",
                   "position refinement is single-slice only; refine positions or reconstruct slices, not both");
    require_option(slices == 1 || !(checkpoint.enabled() || checkpoint.resume), "ReconOptions.checkpoint",
                   "multi-slice runs do not checkpoint; reconstruct slices without checkpoints");
    // Distributed runs (docs/scaling.md).
    if (ranks && ranks->distributed()) {
        require_option(!(checkpoint.enabled() || checkpoint.resume), "CheckpointOptions.path",
                       "a distributed run (" + std::to_string(ranks->size()) +
                           " ranks) does not checkpoint; run without checkpoints, or on one rank");
    }
}

const char* method_name(Method method) noexcept {
    switch (method) {
        case Method::awf: return "awf";
        case Method::wf: return "wf";
        case Method::epie: return "epie";
        case Method::rpie: return "rpie";
    }
    return "?";
}

int default_iterations(Method method) noexcept {
    switch (method) {
        case Method::awf: return 100;
        case Method::wf: return 200;
        case Method::epie:
        case Method::rpie: return 50;
    }
    return 100;
}

double default_discrepancy_tau(double unknowns, double measurements) noexcept {
    // docs/ptychography.md, "Stopping and defaults": the truth's misfit is 1 (0.986 to 1.011
    // measured from 1e2 to 1e6 photons per frame); a least-squares fit with p free real
    // parameters to m measurements absorbs about p of the m noise terms, so the iterate that fits
    // the signal and not the noise sits near 1 - p / m. Bounded to [0.5, 1]: a scan with fewer
    // measurements than twice its unknowns has no noise level to stop at below 0.5.
    if (!(measurements > 0) || !(unknowns >= 0)) return 1.0;
    return std::clamp(1.0 - unknowns / measurements, 0.5, 1.0);
}

// rPIE (docs/ptychography.md, the alpha table): on noisy data every alpha below 1 did worse, and
// alpha 0.1 (Maiden, Johnson & Li's value for bright data) diverged within 100 sweeps at 1e3
// photons per frame; at 1 rPIE's object step is ePIE's and loses rPIE's speed on bright data.
// 0.5 came within 0.4 dB of alpha 1 at the best sweep on every noisy scan measured and held its
// best through the 50-sweep cap; the divergence guard stops it where it turns later.
double default_alpha(Method method) noexcept { return method == Method::rpie ? 0.5 : 1.0; }

StepSizes step_sizes(const Model& model, Loss loss, View<const complex64> object, bool with_probe) {
    StepSizes s;
    s.lipschitz_object = model.lipschitz_object();
    require(s.lipschitz_object > 0 && std::isfinite(s.lipschitz_object),
            "ptycho: the probe illuminates nothing (its illumination map is zero or not finite)");
    if (with_probe) {
        s.lipschitz_probe = model.lipschitz_probe(object);
        require(s.lipschitz_probe > 0 && std::isfinite(s.lipschitz_probe),
                "ptycho: the object is zero wherever the probe goes; cannot refine the probe");
    }
    switch (loss) {
        case Loss::amplitude: s.curvature = 1.0; break;
        case Loss::poisson: s.curvature = 4.0; break;
        case Loss::intensity:
            s.curvature = std::max(4.0 * model.data_max(), model.intensity_curvature(object));
            require(s.curvature > 0, "ptycho: the measured intensities are all zero");
            break;
    }
    // Joint steps: with J = [A_O, A_P] (the Jacobian of the exit waves in object and probe) and the
    // block scaling D = diag(L_O, L_P), ||D^-1/2 J^H J D^-1/2|| <= 2, so each block takes half its
    // own step when both move at once.
    const double joint = with_probe ? 0.5 : 1.0;
    s.object = joint / (s.curvature * s.lipschitz_object);
    s.probe = with_probe ? joint / (s.curvature * s.lipschitz_probe) : 0.0;
    if (model.slices() > 1) {
        // N slices (and the probe) are N (+ 1) blocks of the Jacobian, each normalised by its own
        // L: ||D^-1/2 J^H J D^-1/2|| <= the number of blocks (docs/ptychography.md, "Multi-slice").
        // The slices' 1 / L_n is applied to their gradients (precondition_slices), so the object
        // block's base step is the joint factor alone.
        s.lipschitz_slices = model.lipschitz_slices(object);
        for (double l : s.lipschitz_slices)
            require(l > 0 && std::isfinite(l), "ptycho: a slice of the object receives no illumination (its L_n is " +
                                                   std::to_string(l) + ")");
        const double blocks = double(model.slices()) + (with_probe ? 1.0 : 0.0);
        s.object = 1.0 / (blocks * s.curvature);
        s.probe = with_probe ? 1.0 / (blocks * s.curvature * s.lipschitz_probe) : 0.0;
    }
    return s;
}

Array<complex64> probe_from_data(View<const float> intensities_v, View<const float> mask_v, const Communicator& ranks) {
    require(intensities_v.rank() == 3 && intensities_v.dim(0) >= 1,
            "ptycho::probe_from_data: expected intensities [J][ny][nx], got " + intensities_v.shape().str());
    const Array<float> y = Array<float>::copy_of(intensities_v, Device::cpu);
    const index_t J = y.dim(0), ny = y.dim(1), nx = y.dim(2), m = ny * nx;
    const Array<float> mask = mask_v.empty() ? Array<float>() : Array<float>::copy_of(mask_v, Device::cpu);
    std::vector<double> mean(std::size_t(m), 0.0);
    for (index_t j = 0; j < J; ++j)
        for (index_t r = 0; r < m; ++r) mean[std::size_t(r)] += double(y[j * m + r]);
    // Distributed: the mean over every rank's frames.
    double frames = double(J);
    if (ranks.distributed()) {
        ranks.sum(mean.data(), m);
        frames = ranks.sum(frames);
    }
    Array<complex64> p(Shape{ny, nx});
    for (index_t r = 0; r < m; ++r) {
        const bool measured = mask.empty() || mask[r] != 0.0f;
        p[r] = complex64(measured ? float(std::sqrt(mean[std::size_t(r)] / frames)) : 0.0f, 0.0f);
    }
    // Detector order -> FFT order, unitary inverse FFT, then centre the probe in its frame.
    ifftshift(p.view(), 2);
    FftPlan plan({ny, nx}, 1, Device::cpu);
    plan.inverse(p);
    fftshift(p.view(), 2);
    return p;
}

namespace {

// Multi-slice: divides each slice's gradient by its L_n at the current slices (x, g: stacks
// [N][H][W]; the loss that filled g has just computed the bounds at x), so that the object
// block's unit base step becomes 1 / L_n per slice.
void precondition_slices(const Model& model, View<complex64> g) {
    const index_t N = model.slices();
    if (N == 1) return;
    const std::vector<double>& bound = model.last_lipschitz_slices();
    const index_t hw = model.object_shape().size();
    for (index_t n = 0; n < N; ++n) {
        const double l = bound[std::size_t(n)];
        if (l > 0 && std::isfinite(l))
            scale(complex64(float(1.0 / l)), View<complex64>(g.data() + n * hw, Shape{hw}, g.device()));
    }
}

// The probe when the scan has none: the pupil amplitude sqrt(mean pattern) from the data and a
// defocus (quadratic pupil phase) chosen by the data: for each candidate beam width, a few
// object-only AWF iterations from a flat object, keeping the candidate with the lowest loss. A
// focused beam seen out of focus is the usual probe of far-field X-ray ptychography; the joint
// refinement that follows corrects what this family misses.
Array<complex64> estimate_probe(Model& model, View<const float> intensities, View<const float> mask, Loss loss) {
    Array<complex64> pupil = probe_from_data(intensities, mask, model.ranks());  // centred real-space probe
    // Back to the pupil (FFT order): amplitude sqrt(mean pattern).
    ifftshift(pupil.view(), 2);
    const index_t my = pupil.dim(0), mx = pupil.dim(1);
    FftPlan plan({my, mx}, 1, Device::cpu);
    plan.forward(pupil);
    double m0 = 0, m2 = 0;
    auto k_of = [](index_t i, index_t n) { return double(i < (n + 1) / 2 ? i : i - n); };
    for (index_t y = 0; y < my; ++y)
        for (index_t x = 0; x < mx; ++x) {
            const double a2 = double(norm(pupil[y * mx + x]));
            m0 += a2;
            m2 += a2 * (k_of(y, my) * k_of(y, my) + k_of(x, mx) * k_of(x, mx));
        }
    // A uniform disc of radius rho has an rms radius rho / sqrt(2).
    const double rho = std::max(1.0, std::sqrt(2.0 * m2 / std::max(m0, 1e-30)));
    const double frame = double(std::min(my, mx));
    std::vector<double> widths{0.0};
    for (double f : {0.125, 0.25, 0.375, 0.5, 0.625, 0.75}) {
        widths.push_back(f * frame);
        widths.push_back(-f * frame);
    }
    const Device dev = model.device();
    Array<complex64> best, object(model.object_stack_shape(), dev);
    double best_loss = 0;
    for (double d : widths) {
        // The ray of frequency k lands a k pixels off axis under the phase pi a k^2 / n.
        const double a = 0.5 * d / rho;
        Array<complex64> p = pupil.clone();
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x) {
                const double ph = M_PI * a * (k_of(y, my) * k_of(y, my) / double(my) + k_of(x, mx) * k_of(x, mx) / double(mx));
                p[y * mx + x] = p[y * mx + x] * complex64(float(std::cos(ph)), float(std::sin(ph)));
            }
        plan.inverse(p);
        fftshift(p.view(), 2);
        const Array<complex64> pd = p.to(dev);
        model.set_probe(pd.view());
        fill(object.view(), complex64(1.0f, 0.0f));
        const StepSizes st = step_sizes(model, loss, object.view(), false);
        ObjectiveGradientFn<complex64> f = [&](const std::vector<View<const complex64>>& x,
                                               const std::vector<View<complex64>>& g) {
            const double value = model.loss(loss, x[0], g[0], {});
            precondition_slices(model, g[0]);
            return value;
        };
        SolverOptions so;
        so.max_iterations = 8;
        nesterov<complex64>(f, {{object.view(), st.object}}, NesterovOptions<complex64>{}, so);
        const double value = model.loss(loss, object.view(), {}, {});
        if (best.empty() || value < best_loss) {
            best_loss = value;
            best = p.clone();
        }
    }
    return best;
}

// The probe of a near-field scan without one: the square root of the mean frame (the probe's
// intensity on the detector, the object's structure averaged out) propagated back to the sample,
// i.e. the probe adjoint of a one-position model on a unit object.
Array<complex64> near_field_probe(View<const float> intensities_v, const ModelOptions& options,
                                  const Communicator& ranks) {
    const Array<float> intensities = Array<float>::copy_of(intensities_v, Device::cpu);
    const Shape ps = intensities.shape().drop_front();
    const index_t J = intensities.dim(0), m = ps[0] * ps[1];
    ModelOptions local = options;
    local.ranks = nullptr;  // a one-position model of this process's own
    Model one(ps, ps, Array<float>(Shape{1, 2}), Device::cpu, local);
    Array<complex64> g(Shape{1, ps[0], ps[1]}), ones(ps), probe(ps);
    // The mean frame (over every rank's frames when distributed), summed in double.
    std::vector<double> mean(std::size_t(m), 0.0);
    for (index_t j = 0; j < J; ++j)
        for (index_t r = 0; r < m; ++r) mean[std::size_t(r)] += double(intensities[j * m + r]);
    double frames = double(J);
    if (ranks.distributed()) {
        ranks.sum(mean.data(), m);
        frames = ranks.sum(frames);
    }
    for (index_t r = 0; r < m; ++r) {
        g[r] = complex64(float(std::sqrt(std::max(mean[std::size_t(r)] / frames, 0.0))), 0.0f);
        ones[r] = complex64(1.0f, 0.0f);
    }
    one.adjoint_probe(g, ones, probe);
    return probe;
}

// The rms distance of positions a to b after removing the mean offset (pixels, both axes).
double position_rms_error(const Array<float>& a, const Array<float>& b) {
    const index_t J = a.dim(0);
    double mean[2] = {0, 0};
    for (index_t j = 0; j < J; ++j)
        for (int k = 0; k < 2; ++k) mean[k] += (double(a[2 * j + k]) - double(b[2 * j + k])) / double(J);
    double sum = 0;
    for (index_t j = 0; j < J; ++j)
        for (int k = 0; k < 2; ++k) {
            const double d = double(a[2 * j + k]) - double(b[2 * j + k]) - mean[k];
            sum += d * d;
        }
    return std::sqrt(sum / double(J));
}

// Joins the history of a second solver run onto the first (iterations and times continued).
void append_history(SolverResult& total, const SolverResult& part) {
    const int k0 = total.iterations;
    const double t0 = total.elapsed_s;
    for (IterationInfo info : part.history) {
        info.iteration += k0;
        info.elapsed_s += t0;
        total.history.push_back(info);
    }
    total.iterations += part.iterations;
    total.elapsed_s += part.elapsed_s;
    total.converged = part.converged;
    total.stop_reason = part.stop_reason;
}

// The object step's floor, a fraction of L_O (docs/ptychography.md, "Step sizes"): pixels lit at
// least this well take their own diagonal step 1 / illumination(r), dimmer ones the step of this
// fraction; 0.1 is where the quality metrics' illuminated region ends (illuminated_region). At the
// default 100 AWF iterations (289 x 64^2, known probe) floors 0.1 and 0.03 gave NRMSE 0.0072 and
// 0.0111 at 1e8 photons, 0.0171 and 0.0177 at 1e6, where the scalar step (floor 1) gave 0.044 and
// 0.046.
constexpr double k_illumination_floor = 0.1;

// AWF (momentum) or WF (none) on the object, then (blind) on object and probe together.
SolverResult run_gradient(Model& model, Array<complex64>& object, Array<complex64>& probe, const ReconOptions& opt,
                          bool refine, int iterations, int delay, StepSizes& steps, const IterationHook& monitor,
                          const Checkpointing* checkpoint, std::unique_ptr<PositionRefiner>& refiner,
                          View<const float> positions, index_t search_radius, StopGuard* guard, double tau) {
    const Loss loss = opt.loss;
    steps = step_sizes(model, loss, object.view(), refine);
    const double lo0 = steps.lipschitz_object, lp0 = steps.lipschitz_probe;
    // The object alone (probe held fixed) takes the full step 1 / (kappa L_O); N > 1 slices the
    // step 1 / N on gradients preconditioned by 1 / L_n.
    const index_t slices = model.slices();
    const double object_alone = slices > 1 ? 1.0 / (double(slices) * steps.curvature) : 1.0 / (steps.curvature * lo0);
    const double energy0 = norm2_squared(probe.view());

    NesterovOptions<complex64> nopt;
    nopt.momentum = opt.method == Method::awf;
    nopt.adaptive_restart = opt.restart;

    SolverResult total;
    total.stop_reason = "max_iterations";
    bool stopped = false;
    // Checkpoints (issue #10): a phase wholly before the resumed iteration is skipped (the state
    // holds its result), the phase holding it resumes, later phases start as they would have.
    const SolverState* pending_resume = checkpoint ? checkpoint->resume : nullptr;
    Checkpointing phase_checkpoint;
    // Position refinement: the loss also fills df/dp, and the positions step after each iteration.
    int done = 0;
    if (opt.refine_positions)
        refiner = std::make_unique<PositionRefiner>(model, positions, opt.position_delay, loss,
                                                     opt.position_search ? search_radius : 0);
    auto position_gradient = [&]() -> View<float> {
        return refiner && refiner->wanted(done + 1) ? refiner->gradient() : View<float>();
    };
    auto run_phase = [&](bool blind, int count) {
        if (count <= 0 || stopped) return;
        if (checkpoint) {
            if (pending_resume && pending_resume->iteration > total.iterations + count) {
                total.iterations += count;
                return;
            }
            phase_checkpoint = *checkpoint;
            phase_checkpoint.resume = pending_resume;
            pending_resume = nullptr;
        }
        std::vector<Block<complex64>> blocks{{object.view(), blind ? steps.object : object_alone}};
        if (blind) blocks.push_back({probe.view(), steps.probe});
        // The loss pass also measures the fit the stopping rule reads (StopGuard::record): the
        // misfit of the point the gradient is taken at, without a forward pass of its own.
        Model::Residual fit;
        auto loss_and_fit = [&](View<const complex64> obj, View<complex64> go, View<complex64> gp) {
            // Only where the discrepancy rule runs (photon counts): the guard alone keeps measuring
            // x, whose misfit falls more smoothly than the extrapolated point's (a two-slice
            // noiseless fit stopped 4x short of its misfit when the guard watched y_k).
            if (!guard || !(tau > 0)) return model.loss(loss, obj, go, gp, position_gradient());
            const double value = model.loss(loss, obj, go, gp, position_gradient(), fit);
            guard->record(done + 1, fit.ratio());
            return value;
        };
        ObjectiveGradientFn<complex64> f = [&, blind](const std::vector<View<const complex64>>& x,
                                                      const std::vector<View<complex64>>& g) {
            if (!blind) {
                const double value = loss_and_fit(x[0], g[0], {});
                if (slices == 1) model.precondition_object(g[0], k_illumination_floor, lo0);
                precondition_slices(model, g[0]);
                return value;
            }
            model.set_probe(x[1]);
            const double value = loss_and_fit(x[0], g[0], g[1]);
            if (slices > 1) {
                precondition_slices(model, g[0]);
                const double lp = model.lipschitz_probe(x[0]);
                if (lp > 0 && std::isfinite(lp)) scale(complex64(float(lp0 / lp)), g[1]);
                return value;
            }
            // The base steps are 1 / L at the start; L_O and L_P follow the other unknown, so the
            // gradients are scaled by L(start) / L(now): the solver then steps by 1 / L(now), the
            // object pixel by pixel by its own illumination (precondition_object).
            const double lo = model.lipschitz_object(), lp = model.lipschitz_probe(x[0]);
            if (lo > 0 && lp > 0 && std::isfinite(lo) && std::isfinite(lp)) {
                model.precondition_object(g[0], k_illumination_floor, lo0);
                scale(complex64(float(lp0 / lp)), g[1]);
            }
            return value;
        };
        nopt.post_iteration = [&, blind, energy0](std::vector<View<complex64>>& x) {
            ++done;
            if (blind) {
                // Scale ambiguity: (c O, P / c) fits the data as well as (O, P); restoring the
                // probe's starting energy after each step keeps both at the scale the data give them.
                const double e = norm2_squared(View<const complex64>(x[1]));
                if (e > 0 && std::isfinite(e)) {
                    const double c = std::sqrt(e / energy0);
                    scale(complex64(float(1.0 / c)), x[1]);
                    // The object's scale is the product of its slices': the first slice takes it.
                    const index_t hw = model.object_shape().size();
                    scale(complex64(float(c)), View<complex64>(x[0].data(), Shape{hw}, x[0].device()));
                }
            }
            if (refiner) refiner->step(done, x[0]);
        };
        SolverOptions sopt;
        sopt.max_iterations = count;
        const int offset = total.iterations;
        if (checkpoint) {
            sopt.checkpoint = &phase_checkpoint;
            sopt.iteration_offset = offset;
        }
        const double t_offset = total.elapsed_s;
        // The stopping rule (src/ptycho/stopping.hpp): the shared discrepancy rule measures the
        // misfit of x after the update (`done` counts the run's iterations), the callback the guard.
        // In a blind phase the model holds the extrapolated point's probe: the measure sets x's.
        bool diverged = false;
        if (guard && tau > 0) {
            sopt.discrepancy.tau = tau;
            sopt.discrepancy.misfit = [&, blind]() {
                return guard->misfit(done, object.view(), probe.view(), blind);
            };
        }
        if (monitor || guard) {
            sopt.callback = [&, offset, t_offset, blind](const IterationInfo& info) {
                if (guard) {
                    guard->misfit(done, object.view(), probe.view(), blind);
                    if (guard->diverging(done, object.view(), probe.view())) diverged = true;
                }
                IterationInfo shifted = info;
                shifted.iteration += offset;
                shifted.elapsed_s += t_offset;
                const bool go = !monitor || monitor(shifted, object.view(), probe.view());
                if (!go) stopped = true;
                return go && !diverged;
            };
        }
        append_history(total, nesterov<complex64>(f, blocks, nopt, sopt));
        if (diverged && total.stop_reason == "callback" && !stopped) total.stop_reason = "diverged";
        if (total.stop_reason != "max_iterations") stopped = true;
    };
    const int fixed = refine ? std::min(delay, iterations) : iterations;
    run_phase(false, fixed);
    if (refine) run_phase(true, iterations - fixed);
    if (refine) model.set_probe(probe.view());
    return total;
}

}  // namespace

// What one layout's set-up makes and every call reuses.
struct Reconstructor::State {
    ReconOptions opt;
    ScanLayout layout;
    double aspect = 1.0;
    Array<float> given_positions;  // host, as given (the orientation check tries the others from them)
    Array<float> positions;        // host, after the orientation
    // Distributed (ReconOptions::ranks): this rank's frames, their positions (host, oriented) and
    // as given. Not distributed: all frames, the same arrays as above.
    const Communicator* ranks = &single_rank();
    RankBlock frames;
    Array<float> local_positions, local_given_positions;
    Shape object_shape;
    ModelOptions model_options;
    std::unique_ptr<Model> model;
    Array<complex64> object, probe;  // the estimates, on the device

    State(View<const float> positions_in, const ScanLayout& l, ReconOptions o) : opt(std::move(o)), layout(l) {
        opt.validate();
        const char* where = "ptycho::Reconstructor";
        require(layout.frame.rank() == 2 && layout.frame.size() > 0,
                std::string(where) + ": the layout's frame must be [ny][nx], got " + layout.frame.str());
        require(positions_in.rank() == 2 && positions_in.dim(1) == 2 && positions_in.dim(0) >= 1,
                std::string(where) + ": expected positions [J][2], got " + positions_in.shape().str());
        // The transposes swap metres, so they need the object pixel's aspect ratio.
        aspect = layout.pixel_aspect();
        given_positions = Array<float>::copy_of(positions_in, Device::cpu);
        positions = opt.orientation == 0 ? given_positions.clone()
                                         : orient_positions(given_positions, opt.orientation, aspect);
        object_shape = layout.object.rank() == 2 && opt.orientation == 0 ? layout.object
                                                                          : object_shape_for(positions, layout.frame);
        model_options = layout.model_options(opt.batch, opt.subpixel);
        ModelOptions with_modes = layout.with_slices(model_options, opt.slices, opt.slice_distance);
        with_modes.modes = opt.modes;
        // Distributed: the model holds this rank's block of frames on the whole scan's object grid.
        const index_t J = positions.dim(0);
        if (opt.ranks) ranks = opt.ranks;
        require(J >= ranks->size(), std::string(where) + ": " + std::to_string(J) + " frames cannot be split over " +
                                        std::to_string(ranks->size()) + " ranks; run on at most " + std::to_string(J));
        frames = block_of(J, ranks->rank(), ranks->size());
        local_positions = rows(positions, frames);
        local_given_positions = rows(given_positions, frames);
        with_modes.ranks = ranks;
        model = std::make_unique<Model>(object_shape, layout.frame, local_positions, opt.device, with_modes);
    }

    // Rows [b.begin, b.end) of a host [J][2] array.
    static Array<float> rows(const Array<float>& a, RankBlock b) {
        Array<float> out(Shape{b.size(), 2});
        std::copy(a.data() + 2 * b.begin, a.data() + 2 * b.end, out.data());
        return out;
    }

    // Every rank's rows of a [J_r][2] host array, in rank order: the whole scan's [J][2].
    Array<float> gather_rows(const Array<float>& local) const {
        if (!ranks->distributed()) return local.clone();
        const std::string mine(reinterpret_cast<const char*>(local.data()), std::size_t(local.bytes()));
        std::vector<float> all;
        for (const std::string& part : ranks->all_gather(mine)) {
            const auto* f = reinterpret_cast<const float*>(part.data());
            all.insert(all.end(), f, f + part.size() / sizeof(float));
        }
        return Array<float>::from(all, Shape{index_t(all.size() / 2), 2});
    }

    ReconInfo run(View<const float> intensities, View<const float> mask, View<const complex64> initial_probe,
                  View<complex64> object_out, View<complex64> probe_out) {
        const std::string where = "ptycho::reconstruct";
        const Shape frame = layout.frame;
        // Distributed: this rank's block of frames (block_of over all J).
        require_view(intensities, Shape{frames.size(), frame[0], frame[1]}, where, "intensities");
        if (!mask.empty()) require_view(mask, frame, where, "mask");
        if (!initial_probe.empty()) require_view(initial_probe, frame, where, "initial_probe");
        require_view(object_out, object_shape, where, "object");
        require_view(probe_out, frame, where, "probe");
        const Device dev = opt.device;
        const int iterations = opt.iterations > 0 ? opt.iterations : default_iterations(opt.method);
        Model& m = *model;
        m.set_data(intensities, mask);
        ReconInfo r;
        // Stopping (docs/ptychography.md, "Stopping and defaults"): the discrepancy rule needs the
        // noise, which only photon counts carry; the divergence guard needs only the fit.
        std::unique_ptr<StopGuard> guard;
        double tau = 0;
        if (opt.stop == Stop::discrepancy) {
            guard = std::make_unique<StopGuard>(m);
            const CountCheck counts = check_photon_counts(intensities, mask, *ranks);
            if (counts.counts) {
                tau = opt.discrepancy_tau;  // 0: from the degrees of freedom, once the probe is set
                r.stopping = "discrepancy";
            } else {
                r.stopping = "cap";
                r.stopping_note = counts.note;
            }
        } else {
            r.stopping = "iterations";
        }
        // A previous call's refinement moved the model's positions: every call starts from the plan's.
        if (opt.refine_positions) m.set_positions(local_positions.view());

        r.probe_from_data = initial_probe.empty();
        r.refined_probe = opt.refine_probe || r.probe_from_data;
        // The starting (first-mode) probe; K > 1 modes start from it (initial_probe_modes).
        const Array<complex64> probe_host =
            r.probe_from_data ? (model_options.near_field() ? near_field_probe(intensities, model_options, *ranks)
                                                            : estimate_probe(m, intensities, mask, opt.loss))
                              : Array<complex64>::copy_of(initial_probe, Device::cpu);
        require(all_finite(probe_host.view()), "ptycho::reconstruct: the probe has non-finite values");
        probe = (opt.modes > 1 ? initial_probe_modes(probe_host, opt.modes) : probe_host.clone()).to(dev);
        m.set_probe(probe.view());
        if (r.stopping == "discrepancy" && tau == 0) {
            // The default tau, 1 - unknowns / measurements: the object's pixels that the starting
            // probe illuminates (at least 1 % of the maximum), the probe's when it is refined, the
            // positions' when they are; two real numbers each.
            const Array<float> lit = m.illumination().to(Device::cpu);
            double peak = 0, unknowns = 0;
            for (float v : lit) peak = std::max(peak, double(v));
            for (float v : lit) unknowns += double(v) >= 0.01 * peak ? 2.0 : 0.0;
            unknowns *= double(opt.slices);  // every slice has its own pixels
            if (r.refined_probe) unknowns += 2.0 * double(probe.size());
            if (opt.refine_positions) unknowns += 2.0 * double(positions.dim(0));
            double per_frame = double(frame.size());
            if (!mask.empty()) {
                const Array<float> mk = Array<float>::copy_of(mask, Device::cpu);
                per_frame = 0;
                for (float v : mk) per_frame += v != 0.0f;
            }
            tau = default_discrepancy_tau(unknowns, per_frame * double(positions.dim(0)));
        }
        const Shape stack = m.object_stack_shape();
        if (object.shape() != stack || object.device() != dev) object = Array<complex64>(stack, dev);
        fill(object.view(), complex64(1.0f, 0.0f));

        // Plausibility of the scan with the starting probe; neither check changes the result.
        check_overlap(positions, probe_host);
        if (opt.check_orientation)
            // (distributed: each rank on its own frames; rank 0's report is the one shown)
            report_orientation(fit_orientation(local_given_positions, intensities, mask, probe_host, opt.orientation,
                                               aspect, dev, 100, 12, model_options));

        // A probe estimated from the data is far from the truth: hold it fixed for a few iterations
        // so that the object takes shape first.
        const int delay = opt.probe_delay >= 0 ? opt.probe_delay : (r.probe_from_data ? 5 : 0);
        // The options' two callbacks as one per-iteration hook for the method loops.
        IterationHook monitor;
        const ReconOptions& o = opt;
        if (o.progress || o.estimates)
            monitor = [&o](const IterationInfo& info, View<const complex64> ob, View<const complex64> p) {
                ProgressInfo progress;
                progress.iteration = info;
                if (o.estimates && !o.estimates(progress, ob, p)) return false;
                return !o.progress || o.progress(progress);
            };
        // Checkpoints (issue #10): the loops save their state; this adds the method's name and the
        // whole history (a resumed run continues it) and checks that a resumed state is this method's.
        const std::string state_method = std::string("ptycho.") + method_name(opt.method);
        std::vector<IterationInfo> history;
        Checkpointing checkpoint;
        const bool checkpointing = opt.checkpoint.enabled() || opt.checkpoint.resume;
        if (checkpointing) {
            checkpoint = opt.checkpoint;
            if (const SolverState* s = opt.checkpoint.resume) {
                require(s->method == state_method, "ptycho::reconstruct: the checkpoint holds the state of " +
                                                       s->method + ", not of " + state_method);
                history = s->history;
            }
            if (opt.checkpoint.save)
                checkpoint.save = [&](const SolverState& loop_state) {
                    SolverState s = loop_state;
                    s.method = state_method;
                    s.history = history;
                    o.checkpoint.save(s);
                };
            IterationHook user = monitor;
            monitor = [&history, user](const IterationInfo& info, View<const complex64> ob, View<const complex64> p) {
                history.push_back(info);
                return user ? user(info, ob, p) : true;
            };
        }
        if (opt.method == Method::awf || opt.method == Method::wf) {
            std::unique_ptr<PositionRefiner> refiner;
            r.solver = run_gradient(m, object, probe, opt, r.refined_probe, iterations, delay, r.steps, monitor,
                                    checkpointing ? &checkpoint : nullptr, refiner, local_positions,
                                    coarse_search_radius(positions), guard.get(), tau);
            if (refiner) {
                r.refined_positions = true;
                r.positions = gather_rows(refiner->positions());
            }
        } else {
            PieOptions p;
            p.regularized = opt.method == Method::rpie;
            p.alpha = opt.alpha > 0 ? opt.alpha : default_alpha(opt.method);
            p.beta = opt.beta > 0 ? opt.beta : 1.0;
            p.refine_probe = r.refined_probe;
            p.probe_delay = delay;
            p.iterations = iterations;
            p.seed = opt.seed;
            if (checkpointing) p.checkpoint = &checkpoint;
            p.guard = guard.get();
            p.discrepancy_tau = tau;
            r.solver = run_pie(m, object, probe, p, monitor);
            r.steps.lipschitz_object = m.lipschitz_object();
        }
        if (checkpointing && opt.checkpoint.resume) r.solver.history = history;  // the checkpoint's, then this run's
        r.solver.discrepancy_tau = tau;
        if (r.solver.stop_reason == "diverged") r.kept_iteration = guard->restore_best(object.view(), probe.view());
        if (opt.modes > 1) {
            // The gauge of the modes: orthogonal, by descending power (the fit does not change).
            const std::vector<double> powers = orthogonalize_modes(probe.view());
            double total_power = 0;
            for (double p : powers) total_power += p;
            for (double p : powers) r.mode_fractions.push_back(total_power > 0 ? p / total_power : 0.0);
        }
        m.set_probe(probe.view());
        r.residual = m.residual(object.view());
        if (!r.refined_positions) r.positions = positions.clone();
        if (opt.slices > 1) {
            // The slices, and their product (the projection) as the object.
            r.slices = object.to(Device::cpu);
            r.slice_distance = opt.slice_distance;
            const index_t hw = object_shape.size();
            Array<complex64> projection(object_shape);
            for (index_t i = 0; i < hw; ++i) {
                complex64 v = r.slices[i];
                for (index_t n = 1; n < opt.slices; ++n) v = v * r.slices[n * hw + i];
                projection[i] = v;
            }
            copy(projection.view(), object_out);
        } else {
            copy(object.view(), object_out);
        }
        if (opt.modes > 1) {
            r.probe_modes = probe.to(Device::cpu);
            copy(probe.view().item(0), probe_out);  // the strongest mode
        } else {
            copy(probe.view(), probe_out);
        }
        return r;
    }

    Quality compare(View<const complex64> object_v, View<const complex64> probe_v, bool refined,
                    View<const complex64> true_object, View<const complex64> true_probe) {
        const std::string where = "ptycho::Reconstructor::compare_with_truth";
        require_view(object_v, object_shape, where, "object");
        require_view(probe_v, layout.frame, where, "probe");
        require_view(true_object, object_shape, where, "true_object");
        if (!true_probe.empty()) require_view(true_probe, layout.frame, where, "true_probe");
        // The region the scan illuminates, from the true probe when there is one: this model,
        // given that probe, is at the positions used.
        model->set_probe(true_probe.empty() ? probe_v : true_probe);
        const Array<float> region = illuminated_region(model->illumination().to(Device::cpu), 0.1);
        const Array<complex64> object_host = Array<complex64>::copy_of(object_v, Device::cpu);
        const Array<complex64> truth_host = Array<complex64>::copy_of(true_object, Device::cpu);
        Quality q;
        q.nrmse = object_nrmse(truth_host, object_host, region, refined);
        if (!true_probe.empty() && refined) {
            const Array<complex64> probe_host = Array<complex64>::copy_of(probe_v, Device::cpu);
            const Array<complex64> true_probe_host = Array<complex64>::copy_of(true_probe, Device::cpu);
            q.nrmse_probe = nrmse_complex(true_probe_host, probe_host, true, true);
        }
        return q;
    }
};

Reconstructor::Reconstructor(View<const float> positions, const ScanLayout& layout, ReconOptions options)
    : state_(std::make_unique<State>(positions, layout, std::move(options))) {}
Reconstructor::Reconstructor(const Scan& scan, ReconOptions options)
    : Reconstructor(scan.positions, scan.layout(), std::move(options)) {}
Reconstructor::Reconstructor(Reconstructor&&) noexcept = default;
Reconstructor& Reconstructor::operator=(Reconstructor&&) noexcept = default;
Reconstructor::~Reconstructor() = default;

ReconInfo Reconstructor::reconstruct(View<const float> intensities, View<const float> mask,
                                     View<const complex64> initial_probe, View<complex64> object,
                                     View<complex64> probe) {
    return state_->run(intensities, mask, initial_probe, object, probe);
}
Quality Reconstructor::compare_with_truth(View<const complex64> object, View<const complex64> probe, bool refined_probe,
                                          View<const complex64> true_object, View<const complex64> true_probe) {
    return state_->compare(object, probe, refined_probe, true_object, true_probe);
}
Shape Reconstructor::object_shape() const { return state_->object_shape; }
Shape Reconstructor::probe_shape() const { return state_->layout.frame; }
View<const float> Reconstructor::positions() const { return state_->positions.view(); }
Array<float> Reconstructor::illumination() const { return state_->model->illumination(); }
const ReconOptions& Reconstructor::options() const { return state_->opt; }

ReconResult reconstruct(const Scan& scan, const ReconOptions& opt) {
    opt.validate();
    require(!scan.intensities.empty() && scan.intensities.rank() == 3,
            "ptycho::reconstruct: the scan has no intensities [J][ny][nx]");
    const index_t J = scan.n_positions();
    require(scan.positions.shape() == Shape({J, 2}) && (scan.intensities.dim(0) == J || scan.partial()),
            "ptycho::reconstruct: expected positions [" + std::to_string(scan.intensities.dim(0)) + "][2] for the " +
                std::to_string(scan.intensities.dim(0)) + " frames, got " + scan.positions.shape().str());
    const bool distributed = opt.ranks && opt.ranks->distributed();
    require(!scan.partial() || distributed, "ptycho::reconstruct: the scan holds frames " +
                                                std::to_string(scan.first_frame) + " on, of " + std::to_string(J) +
                                                " only (a rank's part of a distributed scan) but the run is not distributed "
                                                "(ReconOptions::ranks)");
    ReconOptions options = opt;
    if (options.slices > 1 && options.slice_distance == 0) {
        options.slice_distance = scan.slice_distance_m;
        require_option(options.slice_distance > 0, "ReconOptions.slice_distance",
                       std::to_string(options.slices) + " slices need their distance (metres); the scan does not state "
                       "one (/lumen/slice_distance), so it must be given");
    }
    Reconstructor plan(scan, options);
    ReconResult r;
    r.object = Array<complex64>(plan.object_shape());
    r.probe = Array<complex64>(plan.probe_shape());
    // Distributed: this rank's block of the scan's frames.
    View<const float> intensities = scan.intensities.view();
    if (distributed) {
        const RankBlock b = block_of(J, opt.ranks->rank(), opt.ranks->size());
        if (scan.partial()) {
            // read_cxi with the same ranks read exactly this block.
            require(scan.first_frame == b.begin && scan.intensities.dim(0) == b.size(),
                    "ptycho::reconstruct: rank " + std::to_string(opt.ranks->rank()) + " holds frames from " +
                        std::to_string(scan.first_frame) + " (" + std::to_string(scan.intensities.dim(0)) +
                        ") but owns frames from " + std::to_string(b.begin) + " (" + std::to_string(b.size()) + ")");
        } else {
            const index_t m = scan.probe_shape().size();
            intensities = View<const float>(scan.intensities.data() + b.begin * m,
                                            Shape{b.size(), scan.intensities.dim(1), scan.intensities.dim(2)},
                                            scan.intensities.device());
        }
    }
    static_cast<ReconInfo&>(r) = plan.reconstruct(intensities, scan.mask, scan.probe, r.object, r.probe);
    r.illumination = plan.illumination().to(Device::cpu);
    if (scan.true_positions.shape() == r.positions.shape() && opt.orientation == 0) {
        r.position_error = position_rms_error(r.positions, scan.true_positions);
        r.recorded_position_error =
            position_rms_error(Array<float>::copy_of(plan.positions(), Device::cpu), scan.true_positions);
    }
    // A truth is only comparable on its own grid (another orientation may transpose the object).
    if (scan.has_truth() && r.object.shape() == scan.true_object.shape())
        r.quality = plan.compare_with_truth(r.object, r.probe, r.refined_probe, scan.true_object, scan.true_probe);
    return r;
}

}  // namespace lumen::ptycho
