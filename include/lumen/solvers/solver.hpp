// What all solvers share: options, the per-iteration monitor, results, and the divergence guard.
//
// Every solver calls the monitor once per iteration with an IterationInfo; the callback may stop
// the run early by returning false. Stopping on tolerance: when `tolerance` > 0 a solver stops
// once its relative change measure (documented per solver; e.g. ||r|| / ||r0|| for CG) drops
// below it. On NaN/Inf a solver restores the last good estimate (the previous iterate, or the
// starting point at iteration 1) and throws Error(failure) naming the solver and the iteration.
// The history up to the failure has gone to the callback.
//
// Stopping on the data (the discrepancy principle, docs/solvers.md "Stopping where the noise
// says"): when `discrepancy.tau` > 0 a solver measures after every iteration the noise-normalised
// misfit, the mean over measurements of |A x - b|^2 / var, and stops at the first iterate where it
// is at most tau (stop_reason "discrepancy"). The linear least-squares solvers (cgls, sirt, fista,
// admm_tv) measure it from the residual they already hold, given `discrepancy.variance`; any
// solver (and any model, e.g. a nonlinear one under nesterov) can be given `discrepancy.misfit`
// instead, a function that measures the current estimate.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/progress.hpp"

namespace lumen {

// IterationInfo and IterationCallback: lumen/core/progress.hpp.

// The discrepancy principle (Morozov): the data explain the estimate no better than their noise
// once mean_i |(A x - b)_i|^2 / var_i <= tau. Expected value 1 at the truth for Gaussian noise of
// variance var_i; tau is a little above 1 (docs/solvers.md says why and how much).
struct DiscrepancyRule {
    double tau = 0.0;              // > 0: on
    // The noise variance of each measurement b_i: real, as many elements as b, on the operator's
    // device. Measurements whose variance is not a positive finite number carry no information and
    // are left out of the mean. Used by cgls, sirt, fista and admm_tv (no extra operator call).
    View<const float> variance;
    // Or: the misfit of the current estimate, measured by the caller (called after x has been
    // updated). Takes precedence over `variance`; the only way for nesterov and cg/cg_normal, which
    // do not see a data residual, and for models that are not A x = b (e.g. Beer-Lambert CT).
    std::function<double()> misfit;

    bool enabled() const { return tau > 0.0; }
};

// Measurements split over processes (docs/scaling.md, distributed CT): each process holds a block
// of the measurements b and an operator A whose apply() gives its block of A x and whose
// apply_adjoint() already returns the sum over all processes of A_p^H y_p. The solver passes
// every reduction it takes over the data (norms of residuals, the data term of the objective, the
// discrepancy rule's misfit, SIRT's largest row sum) through these, which replace each value, in
// place, by its sum (maximum) over the processes, identically on all of them: the iterates then
// agree on every process and equal a single process's to rounding, and every process takes the
// same branches. cgls, sirt, fista, admm_tv and cg_normal use it; nesterov's data term is the
// caller's f, which must complete its own sums.
struct DataSplit {
    std::function<void(double* values, int count)> sum;
    std::function<void(double* values, int count)> max;
    bool enabled() const { return bool(sum); }
};

struct SolverOptions {
    int max_iterations = 50;      // with a discrepancy rule: the cap
    double tolerance = 0.0;       // 0: run all iterations
    IterationCallback callback;   // optional: progress, custom stopping, recording the error against a truth
    DiscrepancyRule discrepancy;  // optional: stop where the noise says
    // Checkpoints (lumen/core/progress.hpp; sirt, cgls, nesterov and admm_tv support them): the
    // solver saves its state through it when due, stops with stop_reason "interrupted" when a
    // stop was requested, and starts from checkpoint->resume when set. `iteration_offset`: the
    // iterations the caller ran before this call (projected CGLS's cycles, ptychography's
    // phases), so that states and `every` count the run's iterations, not this call's.
    const Checkpointing* checkpoint = nullptr;
    int iteration_offset = 0;
    // Data split over processes (docs/scaling.md, distributed CT); empty: the data are all here.
    DataSplit data_split;
};

struct SolverResult {
    int iterations = 0;
    bool converged = false;       // stopped on tolerance
    // "max_iterations", "tolerance" (also: exact solution reached), "discrepancy" (the misfit
    // reached tau), "callback", "interrupted" (a checkpoint was saved on request)
    std::string stop_reason;
    double discrepancy_tau = 0.0; // the rule's tau when one was set (0: none)
    std::vector<IterationInfo> history;
    double elapsed_s = 0.0;
};

// Writing a result's history into an output file: lumen/io/history.hpp (lumen::io).

}  // namespace lumen
