// FISTA with function-value adaptive restart. See include/lumen/solvers/solvers.hpp and
// docs/solvers.md.
//
// One A and one A^H per iteration: A x_{k+1} is computed fresh (it gives the exact objective
// F(x_{k+1}) that the restart test needs), and A y_{k+1} = (1 + beta) A x_{k+1} - beta A x_k
// follows by linearity.
//
// Divergence guard: x takes no value before the objective and the step of the candidate are
// known to be finite; on failure x is copied back from x_prev.
#include <cmath>
#include <string>
#include <utility>

#include "lumen/solvers/solvers.hpp"
#include "src/solvers/common.hpp"
#include "src/solvers/monitor.hpp"

namespace lumen {

template <class T>
SolverResult fista(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, const ProxFn<T>& prox,
                   const RegValueFn<T>& reg_value, const FistaOptions& fista, const SolverOptions& options) {
    detail::Monitor mon("fista", options, b.size(), A.device());
    detail::require_array("fista", "b", b, A.range_shape(), A.device());
    detail::require_array("fista", "x", x, A.domain_shape(), A.device());
    require(std::isfinite(fista.step), "fista: step must be a finite number, got " + std::to_string(fista.step));
    double step = fista.step;
    if (!(step > 0.0)) {
        const double L = operator_norm(A, 30);
        require(L > 0.0, "fista: the operator is zero; no step size can be derived from it");
        step = 1.0 / (1.02 * L * L);
    }
    const View<const T> xc = x;
    Array<T> x_prev = zeros_like(xc), y = Array<T>::copy_of(xc, xc.device()), grad = zeros_like(xc);
    Array<T> ax = zeros_like(b), ax_prev = zeros_like(b), r = zeros_like(b);
    const T one = detail::scalar<T>(1.0), minus_one = detail::scalar<T>(-1.0);

    auto objective = [&](View<const T> ax_v, View<const T> x_v) {
        const double data = 0.5 * mon.data_sum(detail::diff_norm_sq<T>(ax_v, b));
        return reg_value ? data + reg_value(x_v) : data;
    };
    A.apply(xc, ax.view());
    double f_prev = objective(ax.view(), xc);
    if (!std::isfinite(f_prev)) mon.diverged(1, "the objective at the starting point");
    lin_comb(one, ax, minus_one, b, r.view());  // r = A y - b with y = x_0

    double t = 1.0;
    for (int k = 1; k <= mon.max_iterations(); ++k) {
        A.apply_adjoint(r, grad.view());
        copy(xc, x_prev.view());
        lin_comb(one, y, detail::scalar<T>(-step), grad, x);
        if (prox) prox(x, step);
        std::swap(ax, ax_prev);
        A.apply(xc, ax.view());
        const double f = objective(ax.view(), xc);
        const kern::Sum3 m = detail::step_measure<T>(xc, x_prev.view(), {});
        if (!std::isfinite(f) || !std::isfinite(m.a) || !std::isfinite(m.b)) {
            copy(x_prev, x);
            mon.diverged(k, std::isfinite(f) ? "the updated estimate" : "the objective");
        }
        double beta = 0.0;
        if (fista.momentum) {
            if (fista.restart && f > f_prev) {
                t = 1.0;
            } else {
                const double t_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
                beta = (t - 1.0) / t_next;
                t = t_next;
            }
        }
        // y = x + beta (x - x_prev);  r = A y - b
        const T bp = detail::scalar<T>(1.0 + beta), bm = detail::scalar<T>(-beta);
        lin_comb(bp, xc, bm, x_prev, y.view());
        detail::comb3<T>(bp, ax, bm, ax_prev, minus_one, b, r.view());
        f_prev = f;
        const double misfit = mon.residual_misfit<T>(ax.view(), b);
        if (!mon.record(k, f, detail::relative(m.a, m.b), step, misfit)) break;
    }
    return mon.finish();
}

#define LUMEN_FISTA_INSTANTIATE(T)                                                                          \
    template SolverResult fista<T>(const LinearOperator<T>&, View<const T>, View<T>, const ProxFn<T>&,     \
                                   const RegValueFn<T>&, const FistaOptions&, const SolverOptions&);
LUMEN_FISTA_INSTANTIATE(float)
LUMEN_FISTA_INSTANTIATE(complex64)

}  // namespace lumen
