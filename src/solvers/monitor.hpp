// The per-iteration monitor every solver runs (include/lumen/solvers/solver.hpp): history, the
// user's callback, tolerance stopping, the discrepancy rule, elapsed time, and the divergence error.
#pragma once

#include <chrono>
#include <cmath>
#include <string>

#include "kernels/solvers/solver_ops.hpp"
#include "lumen/core/error.hpp"
#include "lumen/solvers/solver.hpp"
#include "src/executor.hpp"

namespace lumen::detail {

class Monitor {
public:
    // `residual_size` >= 0: the solver holds the data residual (of that many elements, on
    // `device`) at every record() and measures the discrepancy rule's misfit from it with
    // residual_misfit(); < 0: the rule needs the caller's misfit function.
    Monitor(std::string solver, const SolverOptions& options, index_t residual_size = -1, Device device = Device::cpu)
        : solver_(std::move(solver)), options_(options), start_(std::chrono::steady_clock::now()) {
        require(options.max_iterations >= 0,
                solver_ + ": max_iterations must be >= 0, got " + std::to_string(options.max_iterations));
        require(std::isfinite(options.tolerance) && options.tolerance >= 0.0,
                solver_ + ": tolerance must be a finite number >= 0, got " + std::to_string(options.tolerance));
        const DiscrepancyRule& d = options.discrepancy;
        require(std::isfinite(d.tau) && d.tau >= 0.0,
                solver_ + ": discrepancy.tau must be a finite number >= 0, got " + std::to_string(d.tau));
        if (d.enabled() && !d.misfit) {
            require(residual_size >= 0, solver_ + ": the discrepancy rule needs discrepancy.misfit, a function measuring "
                                                  "the estimate: this solver does not hold a data residual");
            require(!d.variance.empty(), solver_ + ": the discrepancy rule needs discrepancy.variance (the noise "
                                                   "variance of each measurement) or discrepancy.misfit");
            require(d.variance.size() == residual_size,
                    solver_ + ": discrepancy.variance has " + std::to_string(d.variance.size()) +
                        " elements, expected one per measurement (" + std::to_string(residual_size) + ")");
            require(d.variance.device() == device, solver_ + ": discrepancy.variance is on the " +
                                                       device_name(d.variance.device()) + " but the data are on the " +
                                                       device_name(device));
            from_residual_ = true;
        }
        result_.history.reserve(std::size_t(options.max_iterations));
        result_.stop_reason = "max_iterations";
        result_.discrepancy_tau = d.tau;
    }

    // True when record() wants the misfit measured from the solver's residual.
    bool wants_residual_misfit() const { return from_residual_; }

    // mean |a - b|^2 / var over the informative measurements (b may be empty: a is the residual);
    // NaN when none is informative or the rule does not use the residual. Over all processes'
    // measurements when the data are split (SolverOptions::data_split).
    template <class T>
    double residual_misfit(View<const T> a, View<const T> b) const {
        if (!from_residual_) return std::nan("");
        const kern::Sum3 s = reduce<kern::Sum3>(
            a.device(), a.size(),
            kern::NoiseMisfitF<T>{a.data(), b.empty() ? nullptr : b.data(), options_.discrepancy.variance.data()});
        double sums[2] = {s.a, s.b};
        if (options_.data_split.sum) options_.data_split.sum(sums, 2);
        return sums[1] > 0.0 ? sums[0] / sums[1] : std::nan("");
    }

    // A sum over the data (a residual's norm, the data term) completed over the processes that
    // share the data (SolverOptions::data_split); the value itself when the data are all here.
    double data_sum(double partial) const {
        if (options_.data_split.sum) options_.data_split.sum(&partial, 1);
        return partial;
    }
    // A maximum over the data, likewise.
    double data_max(double partial) const {
        if (options_.data_split.max) options_.data_split.max(&partial, 1);
        return partial;
    }

    int max_iterations() const { return options_.max_iterations; }
    const std::string& name() const { return solver_; }

    // Records iteration k (1-based). Returns false when the solver must stop after it: the
    // tolerance is reached, the misfit reached the discrepancy rule's tau, the callback said so,
    // or k is the last iteration. `misfit`: from residual_misfit() when wants_residual_misfit();
    // the caller's misfit function, when given, is called here instead.
    bool record(int k, double objective, double residual, double step, double misfit = std::nan("")) {
        const DiscrepancyRule& d = options_.discrepancy;
        if (d.enabled() && d.misfit) misfit = d.misfit();
        IterationInfo info;
        info.iteration = k;
        info.objective = objective;
        info.residual = residual;
        info.step = step;
        info.misfit = d.enabled() ? misfit : std::nan("");
        info.elapsed_s = seconds();
        result_.history.push_back(info);
        result_.iterations = k;
        bool go_on = true;
        if (options_.tolerance > 0.0 && residual <= options_.tolerance) {
            result_.converged = true;
            result_.stop_reason = "tolerance";
            go_on = false;
        }
        // A NaN misfit (nothing informative) never stops the run: comparisons with NaN are false.
        if (go_on && d.enabled() && misfit <= d.tau) {
            result_.stop_reason = "discrepancy";
            go_on = false;
        }
        if (options_.callback && !options_.callback(info) && go_on) {
            result_.stop_reason = "callback";
            go_on = false;
        }
        if (go_on && k >= options_.max_iterations) {
            result_.stop_reason = "max_iterations";
            go_on = false;
        }
        return go_on;
    }

    // Stops with an exact solution: before the first iteration (the starting point solves the
    // problem) or after an iteration that reached a zero residual.
    void mark_converged() {
        result_.converged = true;
        result_.stop_reason = "tolerance";
    }

    // The divergence guard's error. The caller has already put the last good estimate back.
    [[noreturn]] void diverged(int k, const std::string& what) const {
        const std::string kept = k <= 1 ? "the starting point" : "the estimate of iteration " + std::to_string(k - 1);
        throw Error(ErrorCode::failure, solver_ + ": diverged at iteration " + std::to_string(k) + ": " + what +
                                            " is not finite (NaN or Inf); the output holds " + kept +
                                            ". Try a smaller step size or check the data for NaN/Inf.");
    }

    // ---- Checkpoints (issue #10; lumen/core/progress.hpp). A solver that supports them restores
    // its arrays from resume() before its loop, runs k from first_iteration(), and calls
    // checkpoint() after every record() with a function that puts its state.

    // The state to start from (nullptr: the beginning). Throws Error(bad_input) when it lies
    // outside this call's iterations.
    const SolverState* resume() const {
        const SolverState* s = options_.checkpoint ? options_.checkpoint->resume : nullptr;
        if (!s) return nullptr;
        const int local = s->iteration - options_.iteration_offset;
        require(local >= 0 && local <= options_.max_iterations,
                solver_ + ": the checkpoint is at iteration " + std::to_string(s->iteration) + ", outside iterations " +
                    std::to_string(options_.iteration_offset + 1) + " to " +
                    std::to_string(options_.iteration_offset + options_.max_iterations) + " of this run");
        return s;
    }
    // The first iteration this call runs: 1, or the one after the resumed state's.
    int first_iteration() {
        const SolverState* s = resume();
        if (!s) return 1;
        result_.iterations = s->iteration - options_.iteration_offset;
        return result_.iterations + 1;
    }
    // After iteration k (this call's count) was recorded with result `go_on`: saves the state
    // that `fill` puts when a save is due (also after this call's last iteration, which need not
    // be the run's: projected CGLS's cycles, ptychography's phases); returns false when the
    // solver must stop (go_on was false, or a stop was requested: stop_reason "interrupted").
    template <class Fill>
    bool checkpoint(int k, bool go_on, const Fill& fill) {
        const Checkpointing* c = options_.checkpoint;
        if (!c) return go_on;
        bool stop = false;
        const int run_k = options_.iteration_offset + k;
        if (!c->due(run_k, &stop)) return go_on;
        SolverState state;
        state.method = solver_;
        state.iteration = run_k;
        fill(state);
        state.history = result_.history;
        c->save(state);
        if (stop) {
            result_.stop_reason = "interrupted";
            return false;
        }
        return go_on;
    }

    SolverResult finish() {
        result_.elapsed_s = seconds();
        return std::move(result_);
    }

private:
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    std::string solver_;
    const SolverOptions& options_;
    bool from_residual_ = false;
    std::chrono::steady_clock::time_point start_;
    SolverResult result_;
};

inline bool finite(double v) { return std::isfinite(v); }

}  // namespace lumen::detail
