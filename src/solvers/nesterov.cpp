// Accelerated (Nesterov) gradient descent with fixed per-block steps. See
// include/lumen/solvers/solvers.hpp and docs/solvers.md.
//
// Per iteration and block, besides the caller's gradient: one fused pass (x_prev = x, the gradient
// step, and the step length, size and restart test as a reduction) and, with momentum, one
// extrapolation pass; with projection or post-iteration hooks the measures take one more pass
// after the hooks. Everything is allocated before the loop.
//
// Divergence guard: a non-finite objective is caught before x changes; a non-finite step
// (gradient or projection gone bad) is caught by the fused reduction, and x is copied back from
// x_prev. Either way the output holds the previous iterate.
#include <cmath>
#include <string>
#include <vector>

#include "lumen/solvers/solvers.hpp"
#include "src/solvers/common.hpp"
#include "src/solvers/monitor.hpp"

namespace lumen {

template <class T>
SolverResult nesterov(const ObjectiveGradientFn<T>& f, std::vector<Block<T>> blocks, const NesterovOptions<T>& nesterov,
                      const SolverOptions& options) {
    detail::Monitor mon("nesterov", options);
    require(static_cast<bool>(f), "nesterov: no objective/gradient function given");
    require(!blocks.empty(), "nesterov: no blocks of unknowns given");
    const std::size_t nb = blocks.size();
    for (std::size_t b = 0; b < nb; ++b) {
        require(!blocks[b].x.empty(), "nesterov: block " + std::to_string(b) + " is empty");
        require(std::isfinite(blocks[b].step) && blocks[b].step > 0.0,
                "nesterov: block " + std::to_string(b) + " has step " + std::to_string(blocks[b].step) +
                    ", expected a finite number > 0");
    }
    const bool momentum = nesterov.momentum;

    // Work arrays and the view lists handed to the callbacks, built once.
    std::vector<Array<T>> x_prev, grad, y;
    std::vector<View<T>> x_views, grad_views;
    std::vector<View<const T>> eval_views;
    for (const Block<T>& blk : blocks) {
        const View<const T> xc = blk.x;
        x_prev.push_back(zeros_like(xc));
        grad.push_back(zeros_like(xc));
        if (momentum) {
            y.push_back(Array<T>::copy_of(xc, xc.device()));
            eval_views.push_back(y.back().view());
        } else {
            eval_views.push_back(xc);
        }
        x_views.push_back(blk.x);
        grad_views.push_back(grad.back().view());
    }

    double t = 1.0;
    // Checkpoint hook (issue #10): the state is every block's x, its extrapolated point y (with
    // momentum) and the momentum weight t; x_prev is rewritten before it is read.
    const int first = mon.first_iteration();
    if (const SolverState* state = mon.resume()) {
        for (std::size_t b = 0; b < nb; ++b) {
            state->get("x" + std::to_string(b), x_views[b]);
            if (momentum) state->get("y" + std::to_string(b), y[b].view());
        }
        t = state->scalar("t");
    }
    const bool hooks = static_cast<bool>(nesterov.project) || static_cast<bool>(nesterov.post_iteration);
    for (int k = first; k <= mon.max_iterations(); ++k) {
        // f and its gradient at y_k (x_k without momentum).
        const double fy = f(eval_views, grad_views);
        if (!std::isfinite(fy)) mon.diverged(k, "the objective");
        // x_prev = x, x = y - step grad (fused); without hooks the measures come in the same pass.
        // The restart test is sum_b <y_b - x_b, x_b - x_prev_b> / step_b (the gradient mapping).
        double step_sq = 0.0, size_sq = 0.0, restart_test = 0.0;
        for (std::size_t b = 0; b < nb; ++b) {
            const View<T> xb = x_views[b];
            const T s = detail::scalar<T>(blocks[b].step);
            if (hooks) {
                detail::for_each(xb.device(), xb.size(),
                                 kern::GradStepF<T>{xb.data(), x_prev[b].data(), eval_views[b].data(), grad[b].data(), s});
            } else {
                const kern::Sum3 m = detail::reduce<kern::Sum3>(
                    xb.device(), xb.size(),
                    kern::GradStepMeasureF<T>{xb.data(), x_prev[b].data(), eval_views[b].data(), grad[b].data(), s});
                step_sq += m.a;
                size_sq += m.b;
                restart_test += m.c / blocks[b].step;
            }
        }
        if (hooks) {
            if (nesterov.project) nesterov.project(x_views);
            if (nesterov.post_iteration) nesterov.post_iteration(x_views);
            for (std::size_t b = 0; b < nb; ++b) {
                const kern::Sum3 m = detail::step_measure<T>(x_views[b], x_prev[b].view(), eval_views[b]);
                step_sq += m.a;
                size_sq += m.b;
                restart_test += m.c / blocks[b].step;
            }
        }
        if (!std::isfinite(step_sq) || !std::isfinite(size_sq)) {
            for (std::size_t b = 0; b < nb; ++b) copy(x_prev[b], x_views[b]);
            mon.diverged(k, "the updated estimate");
        }

        if (momentum) {
            double beta = 0.0;
            if (nesterov.adaptive_restart && restart_test > 0.0) {
                t = 1.0;  // the step went against the descent direction: drop the momentum
            } else {
                const double t_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
                beta = (t - 1.0) / t_next;
                t = t_next;
            }
            // y_{k+1} = x_{k+1} + beta (x_{k+1} - x_k)
            for (std::size_t b = 0; b < nb; ++b)
                lin_comb(detail::scalar<T>(1.0 + beta), x_views[b], detail::scalar<T>(-beta), x_prev[b], y[b].view());
        }
        const bool go_on = mon.record(k, fy, detail::relative(step_sq, size_sq), blocks[0].step);
        const auto put_state = [&](SolverState& s) {  // issue #10
            for (std::size_t b = 0; b < nb; ++b) {
                s.put("x" + std::to_string(b), View<const T>(x_views[b]));
                if (momentum) s.put("y" + std::to_string(b), View<const T>(y[b].view()));
            }
            s.put("t", t);
        };
        if (!mon.checkpoint(k, go_on, put_state)) break;
    }
    return mon.finish();
}

#define LUMEN_NESTEROV_INSTANTIATE(T)                                                                 \
    template SolverResult nesterov<T>(const ObjectiveGradientFn<T>&, std::vector<Block<T>>,          \
                                      const NesterovOptions<T>&, const SolverOptions&);
LUMEN_NESTEROV_INSTANTIATE(float)
LUMEN_NESTEROV_INSTANTIATE(complex64)

}  // namespace lumen
