// CT reconstruction methods (include/lumen/ct/recon.hpp): FDK, and SIRT, CGLS, ADMM-TV and
// nonlinear Beer-Lambert least squares through the shared solvers and the projector pair.
#include "lumen/ct/recon.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "kernels/ct/elementwise.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "src/ct/distributed.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::num;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `cgls` in cycles of `restart` iterations, projecting onto x >= 0 between cycles; the
// history and the callback see one continuous iteration count.
SolverResult projected_cgls(const LinearOperator<float>& A, View<const float> b, View<float> x, int restart,
                            const SolverOptions& options) {
    if (restart <= 0) return cgls<float>(A, b, x, 0.0, options);
    if (options.max_iterations == 0) {
        SolverResult none;
        none.stop_reason = "max_iterations";
        none.discrepancy_tau = options.discrepancy.tau;
        return none;
    }
    SolverResult total;
    total.stop_reason = "max_iterations";
    int done = 0;
    // Checkpoints (issue #10): a resumed run starts with the cycle holding the state's iteration;
    // only that cycle resumes, and every cycle counts the run's iterations.
    Checkpointing cycle_checkpoint;
    if (options.checkpoint) {
        cycle_checkpoint = *options.checkpoint;
        if (const SolverState* s = cycle_checkpoint.resume) done = s->iteration > 0 ? (s->iteration - 1) / restart * restart : 0;
    }
    const auto t0 = std::chrono::steady_clock::now();
    bool stop = false;
    while (done < options.max_iterations && !stop) {
        SolverOptions cycle;
        if (options.checkpoint) {
            cycle.checkpoint = &cycle_checkpoint;
            cycle.iteration_offset = done;
        }
        cycle.max_iterations = std::min(restart, options.max_iterations - done);
        cycle.tolerance = options.tolerance;
        // The misfit is measured inside the cycle, before the projection onto x >= 0 (which only
        // removes negative values that the data did not ask for).
        cycle.discrepancy = options.discrepancy;
        cycle.data_split = options.data_split;
        const int offset = done;
        cycle.callback = [&](const IterationInfo& info) {
            IterationInfo shifted = info;
            shifted.iteration = info.iteration + offset;
            shifted.elapsed_s = seconds_since(t0);
            total.history.push_back(shifted);
            if (options.callback && !options.callback(shifted)) {
                stop = true;
                return false;
            }
            return true;
        };
        const SolverResult r = cgls<float>(A, b, x, 0.0, cycle);
        cycle_checkpoint.resume = nullptr;
        if (r.stop_reason == "interrupted") {
            total.stop_reason = "interrupted";
            done += r.iterations;
            break;
        }
        clamp(x, 0.0f, std::numeric_limits<float>::max());
        done += std::max(r.iterations, 1);
        if (stop) total.stop_reason = "callback";
        if (r.stop_reason == "discrepancy") {
            total.stop_reason = "discrepancy";
            break;
        }
        if (r.converged) {
            total.converged = true;
            total.stop_reason = "tolerance";
            break;
        }
    }
    total.iterations = done;
    total.elapsed_s = seconds_since(t0);
    total.discrepancy_tau = options.discrepancy.tau;
    return total;
}

// The frames' mean per detector pixel ([frames][nv][nu] or [nv][nu]).
Array<float> mean_frame(const Array<float>& frames, const Shape& frame) {
    const index_t per = frame.size();
    Array<float> m(frame);
    const index_t n = frames.size() / per;
    for (index_t p = 0; p < per; ++p) {
        double s = 0;
        for (index_t f = 0; f < n; ++f) s += frames[f * per + p];
        m[p] = float(s / double(n));
    }
    return m;
}

}  // namespace

CountNoise count_noise(const Scan& scan) {
    const Geometry& g = scan.geometry;
    const index_t per = g.nu * g.nv;
    CountNoise n;
    n.variance = line_integral_variance(scan);
    n.dark = scan.dark.empty() ? Array<float>(Shape{g.nv, g.nu}) : mean_frame(scan.dark, Shape{g.nv, g.nu});
    if (scan.white.empty()) {
        n.gain = Array<float>(Shape{g.nv, g.nu});
        fill(n.gain.view(), float(scan.i0));
    } else {
        n.gain = mean_frame(scan.white, Shape{g.nv, g.nu});
        for (index_t p = 0; p < per; ++p) n.gain[p] -= n.dark[p];
    }
    return n;
}

Stop parse_stop(const std::string& text) {
    if (text == "discrepancy") return Stop::discrepancy;
    if (text == "iterations") return Stop::iterations;
    invalid_option("ReconOptions.stop", "'" + text + "' is not a stopping rule; expected discrepancy or iterations");
}

const char* stop_name(Stop s) noexcept { return s == Stop::discrepancy ? "discrepancy" : "iterations"; }

Objective parse_objective(const std::string& text) {
    if (text == "least-squares" || text == "ls") return Objective::least_squares;
    if (text == "poisson") return Objective::poisson;
    invalid_option("ReconOptions.objective", "'" + text + "' is not an objective; expected least-squares or poisson");
}

const char* objective_name(Objective o) noexcept { return o == Objective::poisson ? "poisson" : "least-squares"; }

Method parse_method(const std::string& text) {
    if (text == "fdk") return Method::fdk;
    if (text == "sirt") return Method::sirt;
    if (text == "cgls") return Method::cgls;
    if (text == "tv") return Method::tv;
    if (text == "nonlinear") return Method::nonlinear;
    invalid_option("ReconOptions.method", "'" + text + "' is not a method; expected fdk, sirt, cgls, tv or nonlinear");
}

Init parse_init(const std::string& text) {
    if (text == "fdk") return Init::fdk;
    if (text == "zero") return Init::zero;
    invalid_option("ReconOptions.init", "'" + text + "' is not a start; expected fdk or zero");
}

const char* init_name(Init i) noexcept { return i == Init::zero ? "zero" : "fdk"; }

void ReconOptions::validate() const {
    auto finite_at_least = [](double v, double lo) { return std::isfinite(v) && v >= lo; };
    require_option(iterations >= 0, "ReconOptions.iterations",
                   "must be positive (0: the method's default), got " + std::to_string(iterations));
    fdk.validate();
    require_option(finite_at_least(min_transmission, 0.0) && min_transmission < 1.0, "ReconOptions.min_transmission",
                   "must be in [0, 1) (0: no clamp), got " + num(min_transmission));
    require_option(sirt_relaxation > 0.0 && sirt_relaxation < 2.0, "ReconOptions.sirt_relaxation",
                   "must be in (0, 2), got " + num(sirt_relaxation));
    require_option(cgls_restart >= 0, "ReconOptions.cgls_restart",
                   "must be non-negative (0: no restarts), got " + std::to_string(cgls_restart));
    require_option(finite_at_least(discrepancy_tau, 0.0), "ReconOptions.discrepancy_tau",
                   "must be a positive number (0: the method's default), got " + num(discrepancy_tau));
    require_option(finite_at_least(model_error, 0.0), "ReconOptions.model_error",
                   "must be a non-negative number, got " + num(model_error));
    require_option(objective == Objective::least_squares || method == Method::nonlinear, "ReconOptions.objective",
                   std::string(objective_name(objective)) + " applies to the nonlinear method only, not " +
                       method_name(method));
    require_option(std::isfinite(tv_weight) && tv_weight > 0.0, "ReconOptions.tv_weight",
                   "must be positive, got " + num(tv_weight));
    require_option(finite_at_least(tv_lambda, 0.0), "ReconOptions.tv_lambda",
                   "must be non-negative (0: from tv_weight), got " + num(tv_lambda));
    require_option(tv_inner >= 1, "ReconOptions.tv_inner", "must be at least 1, got " + std::to_string(tv_inner));
    require_option(finite_at_least(nonlinear_tv, 0.0), "ReconOptions.nonlinear_tv",
                   "must be non-negative, got " + num(nonlinear_tv));
    require_option(std::isfinite(nonlinear_tv_eps), "ReconOptions.nonlinear_tv_eps",
                   "must be finite (<= 0: automatic), got " + num(nonlinear_tv_eps));
    require_option(power_iterations >= 1, "ReconOptions.power_iterations",
                   "must be at least 1, got " + std::to_string(power_iterations));
}

const char* method_name(Method m) noexcept {
    switch (m) {
        case Method::fdk: return "fdk";
        case Method::sirt: return "sirt";
        case Method::cgls: return "cgls";
        case Method::tv: return "tv";
        case Method::nonlinear: return "nonlinear";
    }
    return "?";
}

int default_iterations(Method m) {
    // Caps: the discrepancy rule stops earlier where the misfit reaches tau. Where it does not
    // (model errors above the noise: dense inserts, high counts) the cap decides, so each is near
    // the best count measured on the sweep of docs/ct.md ("Stopping and defaults"): SIRT's best
    // came at 44 to 82 iterations, CGLS's at 4 to 11, TV's at 9 or 10 (ADMM passes a better
    // point than its fixed point), the nonlinear least squares' at 12 to 52.
    switch (m) {
        case Method::fdk: return 0;
        case Method::sirt: return 100;
        case Method::cgls: return 15;
        case Method::tv: return 10;
        case Method::nonlinear: return 40;
    }
    return 0;
}

int default_iterations(Method m, Objective o) {
    // The Poisson objective converges faster (photon-rich rays through dense material keep
    // their weight): its best counts were 11 to 27 where the least squares' were 12 to 52.
    return m == Method::nonlinear && o == Objective::poisson ? 25 : default_iterations(m);
}

double default_discrepancy_tau(Method m) {
    switch (m) {
        case Method::fdk: return 0.0;
        // The iterate closest to the truth has absorbed part of the noise in the components it
        // resolves, so its misfit is below the truth's 1 (about 1 - dof/m); measured at 0.8 to
        // 0.9 on the sweep of docs/ct.md. TV's regularisation spends fewer degrees of freedom on
        // the noise: its best iterate sits at 0.96.
        case Method::sirt:
        case Method::cgls:
        case Method::nonlinear: return 0.9;
        case Method::tv: return 1.0;
    }
    return 1.0;
}

double linearised_loss(const LinearOperator<float>& A, View<const float> b, View<const float> x, View<float> grad,
                       View<float> work) {
    A.apply(x, work);
    const double loss = detail::reduce<double>(A.device(), work.size(),
                                               kern::ct::LinearResidualF{work.data(), b.data(), work.data()});
    A.apply_adjoint(work, grad);
    return loss;
}

double beer_lambert_loss(const LinearOperator<float>& A, View<const float> t, View<const float> x, View<float> grad,
                         View<float> work) {
    A.apply(x, work);
    const double loss = detail::reduce<double>(A.device(), work.size(),
                                               kern::ct::BeerLambertResidualF{work.data(), t.data(), work.data()});
    A.apply_adjoint(work, grad);
    return loss;
}

double poisson_loss(const LinearOperator<float>& A, View<const float> t, View<const float> gain, View<const float> dark,
                    View<const float> x, View<float> grad, View<float> work) {
    A.apply(x, work);
    const double loss = detail::reduce<double>(
        A.device(), work.size(),
        kern::ct::PoissonResidualF{work.data(), t.data(), gain.data(), dark.empty() ? nullptr : dark.data(),
                                   gain.size(), work.data()});
    A.apply_adjoint(work, grad);
    return loss;
}

// What one geometry's set-up makes and every call reuses: the projector pair (view matrices on the
// device), the estimate's buffer when the caller's volume is elsewhere, the discrepancy rule's
// variance; in a distributed run (ReconOptions::ranks) this rank's views and their projector.
struct Reconstructor::State {
    Geometry g;
    ReconOptions o;
    Projector A;
    Array<float> x_buffer;
    Array<float> variance;
    distributed::Ranks ranks;
    std::pair<index_t, index_t> views;                        // this rank's [first, last) views
    std::unique_ptr<distributed::ViewBlockOperator> A_views;  // distributed iterative methods

    State(const Geometry& geometry, ReconOptions options)
        : g((geometry.validate(), geometry)), o((options.validate(), std::move(options))), A(g, o.device),
          ranks(o.ranks, o.communication), views(ranks.block(g.n_angles())) {
        require_option(!ranks.distributed() || !(o.checkpoint.enabled() || o.checkpoint.resume), "CheckpointOptions.path",
                       "a distributed run (" + std::to_string(ranks.size()) +
                           " MPI ranks) does not checkpoint; run without checkpoints, or on one rank");
        if (ranks.distributed() && o.method != Method::fdk) {
            require(g.n_angles() >= ranks.size(),
                    "CT reconstruction: " + std::to_string(g.n_angles()) + " views cannot be split over " +
                        std::to_string(ranks.size()) + " MPI ranks; run on at most as many ranks as views");
            A_views = std::make_unique<distributed::ViewBlockOperator>(
                distributed::view_block(g, views.first, views.second), o.device, ranks);
        }
    }

    // FDK of line integrals b into x: in a distributed run each rank reconstructs its slab of
    // slices and the slabs are summed (every other slice is zero on each rank, so the sum is exact).
    // Slabs are whole groups of 8 slices, the CPU back projector's vector width (src/ct/simd.cpp
    // runs 8 slices per AVX2 step and the rest one by one, which rounds differently): every voxel
    // is then computed by the same instructions as in the serial run, and the volume has its bits.
    // `row_first`: b holds detector rows from there on (ReconOptions::row_first), fdk checks that
    // they include the slab's.
    void fdk_volume(View<const float> b, View<float> x, const FdkOptions& options, index_t row_first = 0) {
        if (!ranks.distributed()) {
            fdk(A, b, x, options, 0, -1, row_first);
            return;
        }
        const auto slab = ranks.fdk_slab(g.volume.nz);
        fdk(A, b, x, options, slab.first, slab.second, row_first);
        ranks.sum(x);
    }

    ReconInfo run(View<const float> t_in, const CountNoise* noise, View<float> volume) {
        const auto t0 = std::chrono::steady_clock::now();
        const bool some_rows = o.method == Method::fdk && t_in.rank() == 3 && t_in.dim(1) != g.nv;
        require_option(o.row_first == 0 || o.method == Method::fdk, "ReconOptions.row_first",
                       "applies to fdk only; the other methods need every detector row");
        if (some_rows)
            require(t_in.dim(0) == g.n_angles() && t_in.dim(2) == g.nu && o.row_first >= 0 &&
                        o.row_first + t_in.dim(1) <= g.nv,
                    "CT reconstruction: the transmission of shape " + t_in.shape().str() + " from detector row " +
                        std::to_string(o.row_first) + " is not rows of " + g.projection_shape().str());
        else require_view(t_in, g.projection_shape(), "CT reconstruction", "transmission");
        require_view(volume, g.volume_shape(), "CT reconstruction", "volume");
        const double tau = o.discrepancy_tau > 0.0 ? o.discrepancy_tau : default_discrepancy_tau(o.method);
        if (noise) {
            require(noise->variance.shape() == g.projection_shape(),
                    "CT reconstruction: the noise variance has shape " + noise->variance.shape().str() + ", expected " +
                        g.projection_shape().str());
            require(noise->gain.size() == g.nu * g.nv && (noise->dark.empty() || noise->dark.size() == g.nu * g.nv),
                    "CT reconstruction: the flat and dark levels must have one value per detector pixel");
        }
        const Device dev = o.device;
        // The projections move to the device only when they are not there already: a stack on the
        // right device is used in place, never copied.
        Array<float> t_moved;
        if (t_in.device() != dev) t_moved = Array<float>::copy_of(t_in, dev);
        const View<const float> t = t_in.device() == dev ? t_in : t_moved;
        // A distributed iterative run fits this rank's views (the outermost axis) with op, whose
        // adjoint sums over the ranks; FDK and the bounds below read all views.
        const View<const float> t_mine = A_views ? t.items(views.first, views.second - views.first) : t;
        const LinearOperator<float>& op = A_views ? static_cast<const LinearOperator<float>&>(*A_views) : A;
        // The estimate lives in the caller's volume when that is on the device, else in a kept buffer.
        if (volume.device() != dev && (x_buffer.shape() != g.volume_shape() || x_buffer.device() != dev))
            x_buffer = Array<float>(g.volume_shape(), dev);
        const View<float> x = volume.device() == dev ? volume : x_buffer.view();
        fill(x, 0.0f);
        const int iters = o.iterations > 0 ? o.iterations : default_iterations(o.method, o.objective);

        ReconInfo out;
        out.parameters.emplace_back("method", method_name(o.method));
        SolverOptions so;
        so.max_iterations = iters;
        if (A_views) so.data_split = ranks.data_split();
        if (o.progress || o.inspect) {
            so.callback = [&](const IterationInfo& info) {
                const bool go_on = o.progress ? o.progress(ProgressInfo{info, 0, 1}) : true;
                return (o.inspect ? o.inspect(info, x) : true) && go_on;
            };
        }
        // Checkpoints (issue #10): the solvers save their own state; this adds the method's name and
        // the whole history (a resumed run continues it), and checks that a resumed state is this
        // method's.
        const std::string state_method = std::string("ct.") + method_name(o.method);
        std::vector<IterationInfo> history;
        Checkpointing checkpoint;
        const bool checkpointing = o.method != Method::fdk && (o.checkpoint.enabled() || o.checkpoint.resume);
        if (checkpointing) {
            checkpoint = o.checkpoint;
            if (const SolverState* s = o.checkpoint.resume) {
                require(s->method == state_method, "CT reconstruction: the checkpoint holds the state of " +
                                                       s->method + ", not of " + state_method);
                history = s->history;
            }
            if (o.checkpoint.save)
                checkpoint.save = [&](const SolverState& solver_state) {
                    SolverState s = solver_state;
                    s.method = state_method;
                    s.history = history;
                    o.checkpoint.save(s);
                };
            so.checkpoint = &checkpoint;
            IterationCallback user = so.callback;
            so.callback = [&, user](const IterationInfo& info) {
                history.push_back(info);
                return user ? user(info) : true;
            };
        }
        const std::string context = "CT reconstruction (" + std::string(method_name(o.method)) + ")";
        // The discrepancy rule: the misfit is the mean over rays of (A x + log t)^2 / Var(-log t), the
        // quantity noise_normalised_residual (lumen/ct/run.hpp) reports; rays without counts above
        // the dark level (infinite variance) carry no information and are left out.
        const bool iterative = o.method != Method::fdk;
        if (iterative) {
            out.parameters.emplace_back("iteration_cap", std::to_string(iters));
            if (o.stop == Stop::discrepancy && noise) {
                // Total data error = the counts' noise + the model's error (a voxel grid is not the
                // object): without the second, at high counts the truth itself misfits by
                // 1 + e^2 I and the rule would stop only after fitting the noise.
                Array<float> v = noise->variance.clone();
                const float e2 = float(o.model_error * o.model_error);
                for (float& x : v) x += e2;
                variance = Array<float>::copy_of(View<const float>(v.view()).items(views.first, views.second - views.first), dev);
                so.discrepancy.tau = tau;
                so.discrepancy.variance = variance.view();
                out.parameters.emplace_back("stopping", "discrepancy");
                out.parameters.emplace_back("discrepancy_tau", num(tau));
                out.parameters.emplace_back("model_error", num(o.model_error));
            } else {
                out.parameters.emplace_back("stopping", o.stop == Stop::iterations ? "iterations"
                                                                                    : "iterations (no counts to measure the noise)");
            }
        }
        auto log_data = [&](View<const float> of) {
            if (o.min_transmission > 0) out.parameters.emplace_back("clamp_transmission", num(o.min_transmission));
            return line_integrals(of, o.min_transmission, context);
        };

        switch (o.method) {
            case Method::fdk: {
                const Array<float> b = log_data(t);
                fdk_volume(b, x, o.fdk, some_rows ? o.row_first : 0);
                out.solver.stop_reason = "direct";
                out.parameters.emplace_back("filter", filter_window_name(o.fdk.window));
                out.parameters.emplace_back("cutoff", num(o.fdk.cutoff));
                out.parameters.emplace_back("short_scan", is_full_scan(g.angles) ? "no (full circle)" : "parker");
                break;
            }
            case Method::sirt: {
                const Array<float> b = log_data(t_mine);
                SirtOptions s;
                s.relaxation = o.sirt_relaxation;
                s.lower = 0.0f;
                s.upper = std::numeric_limits<float>::max();
                out.solver = sirt(op, b, x, s, so);
                out.parameters.emplace_back("relaxation", num(o.sirt_relaxation));
                out.parameters.emplace_back("nonnegative", "yes");
                break;
            }
            case Method::cgls: {
                const Array<float> b = log_data(t_mine);
                out.solver = projected_cgls(op, b, x, o.cgls_restart, so);
                out.parameters.emplace_back("restart", std::to_string(o.cgls_restart));
                out.parameters.emplace_back("nonnegative", o.cgls_restart > 0 ? "yes (projected between restarts)" : "no");
                break;
            }
            case Method::tv: {
                const Array<float> b = log_data(t_mine);
                AdmmTvOptions a;
                a.dims = 3;
                a.isotropic = true;
                a.inner_cg_iterations = o.tv_inner;
                a.nonnegative = true;
                a.lambda = o.tv_lambda;
                if (!(a.lambda > 0.0)) {
                    // Relative weight: lambda scales like A^T b, so the result does not depend on the
                    // units of the data or the number of views.
                    Array<float> atb(g.volume_shape(), dev);
                    op.apply_adjoint(b, atb);
                    a.lambda = o.tv_weight * max_abs<float>(atb);
                    out.parameters.emplace_back("tv_weight", num(o.tv_weight));
                }
                require(a.lambda > 0.0 && std::isfinite(a.lambda), context + ": the TV weight must be positive");
                out.solver = admm_tv<float>(op, b, x, a, so);
                out.parameters.emplace_back("lambda", num(a.lambda));
                out.parameters.emplace_back("inner_cg_iterations", std::to_string(o.tv_inner));
                break;
            }
            case Method::nonlinear: {
                if (o.init == Init::fdk) {
                    // The start only: rays with no transmitted signal are clamped for its log.
                    const Array<float> b = line_integrals(t, std::max(o.min_transmission, 1e-4), context);
                    FdkOptions start = o.fdk;
                    if (start.short_scan == ShortScan::automatic && !is_full_scan(g.angles)) {
                        // FDK needs 180 degrees plus the fan; without it start from zero.
                        try {
                            fdk_volume(b, x, start);
                        } catch (const Error&) {
                            fill(x, 0.0f);
                        }
                    } else {
                        fdk_volume(b, x, start);
                    }
                    project_nonnegative(x);
                }
                const bool poisson = o.objective == Objective::poisson;
                require_option(!poisson || noise, "ReconOptions.objective",
                               "poisson needs the counts (flat and dark levels): reconstruct the scan, not normalised "
                               "intensities");
                // The bounds are reduced where t is: a device pipeline sends nothing to the host.
                double curvature = 0.0;
                Array<float> gain_d, dark_d;
                if (!poisson) {
                    // Smoothness of 0.5 (e^{-u} - t)^2 on u >= 0 (A x >= 0 for x >= 0): its second
                    // derivative 2 e^{-2u} - t e^{-u} decreases in u for t < 4, so it is at most 2 - t,
                    // and the loss's gradient is Lipschitz with (2 - min t) ||A||^2.
                    const double lowest =
                        std::min(1.0, -detail::reduce<double>(dev, t.size(), kern::ct::NegatedF{t.data()}, kern::MaxOp()));
                    curvature = 2.0 - std::min(lowest, 1.0);
                } else {
                    // The deviance's second derivative in u = A x is a + I a d / lambda^2 with
                    // a = n e^{-u} <= n on u >= 0 and a d / (a + d)^2 <= 1/4 (its maximum, at a = d;
                    // n d / (n + d)^2 when n < d): at most n + I g per ray (kernels/ct/elementwise.hpp).
                    gain_d = noise->gain.to(dev);
                    if (!noise->dark.empty()) dark_d = noise->dark.to(dev);
                    curvature = std::max(
                        0.0, detail::reduce<double>(dev, t.size(),
                                                    kern::ct::PoissonCurvatureF{t.data(), gain_d.data(),
                                                                                dark_d.empty() ? nullptr : dark_d.data(),
                                                                                g.nu * g.nv},
                                                    kern::MaxOp()));
                    require(curvature > 0.0 && std::isfinite(curvature),
                            context + ": the flat field gives no counts; the poisson objective (ReconOptions.objective) "
                                      "cannot be used");
                }
                const double norm = operator_norm<float>(op, o.power_iterations);
                double lipschitz = curvature * norm * norm * 1.02;

                // Optional smoothed TV, lambda sum_v sqrt(|(D x)_v|^2 + eps^2). Its gradient is
                // Lipschitz with lambda ||D||^2 / eps <= 12 lambda / eps; lambda = w ||A||^2 eps makes
                // that 12 w ||A||^2 and balances the TV gradient against the data gradient of a
                // deviation of size eps, whatever the units (docs/ct.md).
                LinOpPtr<float> D;
                Array<float> dx;
                float eps = float(o.nonlinear_tv_eps);
                double lam = 0.0;
                if (o.nonlinear_tv > 0.0) {
                    D = finite_difference<float>(g.volume_shape(), 3, dev);
                    dx = Array<float>(D->range_shape(), dev);
                    if (!(eps > 0.0f)) eps = float(std::max(0.01 * max_abs<float>(x), 1e-6));
                    lam = o.nonlinear_tv * norm * norm * double(eps);
                    lipschitz += lam * 12.0 / double(eps);
                    out.parameters.emplace_back("tv_weight", num(o.nonlinear_tv));
                    out.parameters.emplace_back("tv_lambda", num(lam));
                    out.parameters.emplace_back("tv_eps", num(eps));
                }
                Array<float> work(op.range_shape(), dev);
                Array<float> tv_grad;
                if (lam > 0.0) tv_grad = Array<float>(g.volume_shape(), dev);
                ObjectiveGradientFn<float> f = [&](const std::vector<View<const float>>& xs,
                                                   const std::vector<View<float>>& grads) {
                    double loss = poisson ? poisson_loss(op, t_mine, gain_d, dark_d, xs[0], grads[0], work)
                                          : beer_lambert_loss(op, t_mine, xs[0], grads[0], work);
                    ranks.sum(&loss, 1);  // the data term over every rank's views (no-op alone)
                    if (lam > 0.0) {
                        D->apply(xs[0], dx);
                        const double tv = detail::reduce<double>(
                            dev, xs[0].size(), kern::ct::SmoothTvF{dx.data(), xs[0].size(), eps});
                        D->apply_adjoint(dx, tv_grad);
                        axpy(float(lam), tv_grad, grads[0]);
                        loss += lam * tv;
                    }
                    return loss;
                };
                NesterovOptions<float> n;
                n.momentum = true;
                n.adaptive_restart = true;
                n.project = [](std::vector<View<float>>& xs) { project_nonnegative(xs[0]); };
                const double step = 1.0 / lipschitz;
                // The discrepancy rule measures x itself (nesterov evaluates the loss at the
                // extrapolated point): one more forward projection per iteration. Rays with t <= 0
                // have an infinite variance and drop out, so their log is never used.
                Array<float> b_log, ax;
                double informative = 0.0;
                if (so.discrepancy.enabled()) {
                    b_log = line_integrals(t_mine, 1e-30, context);
                    ax = Array<float>(op.range_shape(), dev);
                    for (float v : noise->variance) informative += (v > 0.0f && std::isfinite(v)) ? 1.0 : 0.0;
                    so.discrepancy.misfit = [&]() {
                        op.apply(x, ax.view());
                        double sum = detail::reduce<double>(
                            dev, ax.size(), kern::ct::NoiseWeightedResidualF{ax.data(), b_log.data(), variance.data()});
                        ranks.sum(&sum, 1);
                        return informative > 0.0 ? sum / informative : std::nan("");
                    };
                }
                out.solver = nesterov<float>(f, {Block<float>{x, step}}, n, so);
                out.parameters.emplace_back("objective", objective_name(o.objective));
                out.parameters.emplace_back("init", init_name(o.init));
                out.parameters.emplace_back("step", num(step));
                out.parameters.emplace_back("operator_norm", num(norm));
                out.parameters.emplace_back("nonnegative", "yes");
                break;
            }
        }
        if (checkpointing && o.checkpoint.resume) {
            // The resumed run's history is the checkpoint's followed by this run's.
            out.solver.history = history;
            out.solver.iterations = std::max(out.solver.iterations, history.empty() ? 0 : history.back().iteration);
        }
        if (o.method != Method::fdk) out.parameters.emplace_back("iterations", std::to_string(out.solver.iterations));
        require(all_finite<float>(x), context + ": the reconstruction is not finite");
        if (x.data() != volume.data()) copy(x, volume);
        out.elapsed_s = seconds_since(t0);
        return out;
    }
};

Reconstructor::Reconstructor(const Geometry& geometry, ReconOptions options)
    : state_(std::make_unique<State>(geometry, std::move(options))) {}
Reconstructor::Reconstructor(Reconstructor&&) noexcept = default;
Reconstructor& Reconstructor::operator=(Reconstructor&&) noexcept = default;
Reconstructor::~Reconstructor() = default;

ReconInfo Reconstructor::reconstruct(View<const float> transmission, const CountNoise* noise, View<float> volume) {
    return state_->run(transmission, noise, volume);
}
ReconInfo Reconstructor::reconstruct(View<const float> transmission, View<float> volume) {
    return state_->run(transmission, nullptr, volume);
}
const Geometry& Reconstructor::geometry() const { return state_->g; }
const ReconOptions& Reconstructor::options() const { return state_->o; }

ReconResult reconstruct(const Geometry& g, View<const float> t_in, const ReconOptions& o) {
    return reconstruct(g, t_in, nullptr, o);
}

ReconResult reconstruct(const Geometry& g, View<const float> t_in, const CountNoise* noise, const ReconOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    Reconstructor plan(g, o);
    ReconResult out;
    out.volume = Array<float>(g.volume_shape());
    static_cast<ReconInfo&>(out) = plan.reconstruct(t_in, noise, out.volume.view());
    out.elapsed_s = seconds_since(t0);
    return out;
}

ReconResult reconstruct(const Scan& scan, const ReconOptions& options) {
    const Array<float> t = transmission(scan, options.device);
    return reconstruct(scan, t.view(), options);
}

ReconResult reconstruct(const Scan& scan, View<const float> t, const ReconOptions& options) {
    try {
        CountNoise noise;
        if (options.method != Method::fdk) noise = count_noise(scan);
        return reconstruct(scan.geometry, t, options.method != Method::fdk ? &noise : nullptr, options);
    } catch (const Error& e) {
        // Name the file in data errors (e.g. intensities a log cannot take).
        if (e.code() == ErrorCode::bad_input && !scan.path.empty()) throw Error(e.code(), scan.path + ": " + e.what());
        throw;
    }
}

std::pair<index_t, index_t> fdk_slab(index_t nz, int rank, int size) { return distributed::fdk_slab(nz, rank, size); }

DetectorRows fdk_slab_rows(const Geometry& g, int rank, int size) {
    const auto slab = fdk_slab(g.volume.nz, rank, size);
    return fdk_detector_rows(g, slab.first, slab.second);
}

Quality compare_with_truth(View<const float> truth, View<const float> volume) {
    require(truth.shape() == volume.shape(), "compare_with_truth: the truth " + truth.shape().str() +
                                                 " and the reconstruction " + volume.shape().str() + " differ in shape");
    Quality q;
    Array<float> t = Array<float>::copy_of(truth, Device::cpu);
    q.peak = 0.0;
    for (float v : t) q.peak = std::max(q.peak, double(v));
    q.psnr_db = psnr(truth, volume, q.peak);
    q.nrmse = nrmse(truth, volume);
    q.ssim = ssim_stack(truth, volume, q.peak);
    return q;
}

}  // namespace lumen::ct
