// What all solvers share: options, the per-iteration monitor, results, and the divergence guard.
//
// Every solver calls the monitor once per iteration with an IterationInfo; the callback may stop
// the run early by returning false. Stopping on tolerance: when `tolerance` > 0 a solver stops
// once its relative change measure (documented per solver; e.g. ||r|| / ||r0|| for CG) drops
// below it. On NaN/Inf a solver restores the last good estimate (the previous iterate, or the
// starting point at iteration 1) and throws Error(failure) naming the solver and the iteration.
// The history up to the failure has gone to the callback.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"

namespace lumen {

namespace io { class H5Writer; }

struct IterationInfo {
    int iteration = 0;         // 1-based
    double objective = 0.0;    // the quantity the solver minimises (or NaN if it does not compute it)
    double residual = 0.0;     // the solver's convergence measure (relative)
    double step = 0.0;         // the step size used
    double elapsed_s = 0.0;    // since the solver started
};

// Return false to stop after this iteration.
using IterationCallback = std::function<bool(const IterationInfo&)>;

struct SolverOptions {
    int max_iterations = 50;
    double tolerance = 0.0;       // 0: run all iterations
    IterationCallback callback;   // optional: progress, custom stopping, recording the error against a truth
};

struct SolverResult {
    int iterations = 0;
    bool converged = false;       // stopped on tolerance
    std::string stop_reason;      // "max_iterations", "tolerance" (also: exact solution reached), "callback"
    std::vector<IterationInfo> history;
    double elapsed_s = 0.0;
};

// Writes a result's history as /history/{iteration, objective, residual, step, elapsed_s}
// (float64 vectors) under `group` (default "/history") with attributes iterations, stop_reason,
// converged (0/1) and elapsed_s. Call it before out.commit().
void write_history(io::H5Writer& out, const SolverResult& result, const std::string& group = "/history");

}  // namespace lumen
