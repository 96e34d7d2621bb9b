// The per-iteration monitor every solver runs (include/lumen/solvers/solver.hpp): history, the
// user's callback, tolerance stopping, elapsed time, and the divergence error.
#pragma once

#include <chrono>
#include <cmath>
#include <string>

#include "lumen/core/error.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::detail {

class Monitor {
public:
    Monitor(std::string solver, const SolverOptions& options)
        : solver_(std::move(solver)), options_(options), start_(std::chrono::steady_clock::now()) {
        require(options.max_iterations >= 0,
                solver_ + ": max_iterations must be >= 0, got " + std::to_string(options.max_iterations));
        require(std::isfinite(options.tolerance) && options.tolerance >= 0.0,
                solver_ + ": tolerance must be a finite number >= 0, got " + std::to_string(options.tolerance));
        result_.history.reserve(std::size_t(options.max_iterations));
        result_.stop_reason = "max_iterations";
    }

    int max_iterations() const { return options_.max_iterations; }
    const std::string& name() const { return solver_; }

    // Records iteration k (1-based). Returns false when the solver must stop after it: the
    // tolerance is reached, the callback said so, or k is the last iteration.
    bool record(int k, double objective, double residual, double step) {
        IterationInfo info;
        info.iteration = k;
        info.objective = objective;
        info.residual = residual;
        info.step = step;
        info.elapsed_s = seconds();
        result_.history.push_back(info);
        result_.iterations = k;
        bool go_on = true;
        if (options_.tolerance > 0.0 && residual <= options_.tolerance) {
            result_.converged = true;
            result_.stop_reason = "tolerance";
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
    std::chrono::steady_clock::time_point start_;
    SolverResult result_;
};

inline bool finite(double v) { return std::isfinite(v); }

}  // namespace lumen::detail
