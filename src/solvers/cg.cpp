// Conjugate gradients (cg, cg_normal) and CGLS. See include/lumen/solvers/solvers.hpp and
// docs/solvers.md.
//
// Divergence guard: each iteration computes its step length and the updated residual before it
// touches x, and commits the update to x only when both are finite, so on failure x still holds
// the previous iterate.
#include <cmath>
#include <string>

#include "lumen/solvers/solvers.hpp"
#include "src/solvers/cg_core.hpp"
#include "src/solvers/common.hpp"
#include "src/solvers/monitor.hpp"

namespace lumen {

using detail::Monitor;
using detail::scalar;

template <class T>
SolverResult cg(const LinearOperator<T>& M, no_deduce_t<View<const T>> rhs, no_deduce_t<View<T>> x, const SolverOptions& options) {
    Monitor mon("cg", options);
    require(M.domain_shape().size() == M.range_shape().size(),
            "cg: the operator must be square (domain " + M.domain_shape().str() + ", range " +
                M.range_shape().str() + ")");
    detail::require_array("cg", "rhs", rhs, M.range_shape(), M.device());
    detail::require_array("cg", "x", x, M.domain_shape(), M.device());
    detail::CgWork<T> work(x);
    auto apply_m = [&](View<const T> p, View<T> q) { M.apply(p, q); };
    detail::cg_solve<T>(apply_m, rhs, x, work, mon.max_iterations(), &mon, 0.0);
    return mon.finish();
}

template <class T>
SolverResult cg_normal(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, double lambda,
                       const SolverOptions& options) {
    Monitor mon("cg_normal", options);
    require(std::isfinite(lambda) && lambda >= 0.0,
            "cg_normal: the Tikhonov weight lambda must be a finite number >= 0, got " + std::to_string(lambda));
    detail::require_array("cg_normal", "b", b, A.range_shape(), A.device());
    detail::require_array("cg_normal", "x", x, A.domain_shape(), A.device());
    Array<T> rhs = zeros_like<T>(x);
    A.apply_adjoint(b, rhs.view());
    detail::CgWork<T> work(x);
    const T lam = scalar<T>(lambda);
    auto apply_m = [&](View<const T> p, View<T> q) {
        A.apply_normal(p, q);
        if (lambda != 0.0) axpy(lam, p, q);
    };
    detail::cg_solve<T>(apply_m, rhs.view(), x, work, mon.max_iterations(), &mon, 0.5 * mon.data_sum(norm2_squared(b)));
    return mon.finish();
}

template <class T>
SolverResult cgls(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, double damp, const SolverOptions& options) {
    Monitor mon("cgls", options, b.size(), A.device());
    require(std::isfinite(damp) && damp >= 0.0,
            "cgls: damp must be a finite number >= 0, got " + std::to_string(damp));
    detail::require_array("cgls", "b", b, A.range_shape(), A.device());
    detail::require_array("cgls", "x", x, A.domain_shape(), A.device());
    const View<const T> xc = x;
    Array<T> r = zeros_like(b), q = zeros_like(b);
    Array<T> s = zeros_like(xc), p = zeros_like(xc);
    const T one = scalar<T>(1.0), d = scalar<T>(damp);
    // Checkpoint hook (issue #10): CGLS's state is x, the recursive residual r, the direction p
    // and gamma = ||s||^2; x is restored first, r, p and gamma after the set-up below.
    const int first = mon.first_iteration();
    const SolverState* state = mon.resume();
    if (state) state->get("x", x);

    // Normaliser ||A^H b||, then r = b - A x, s = A^H r - damp x.
    A.apply_adjoint(b, s.view());
    const double ahb = norm2<T>(s);
    A.apply(xc, q.view());
    lin_comb(one, b, scalar<T>(-1.0), q, r.view());
    A.apply_adjoint(r, s.view());
    if (damp != 0.0) axpy(scalar<T>(-damp), xc, s.view());
    double gamma = norm2_squared<T>(s);
    if (!std::isfinite(gamma)) mon.diverged(1, "the initial gradient A^H (b - A x) - damp x");
    if (gamma == 0.0) {
        mon.mark_converged();
        return mon.finish();
    }
    copy(s, p.view());
    if (state) {
        state->get("r", r.view());
        state->get("p", p.view());
        gamma = state->scalar("gamma");
    }
    for (int k = first; k <= mon.max_iterations(); ++k) {
        A.apply(p, q.view());
        const double delta = mon.data_sum(norm2_squared<T>(q)) + (damp != 0.0 ? damp * norm2_squared<T>(p) : 0.0);
        const double alpha = gamma / delta;
        if (!std::isfinite(alpha) || !(delta > 0.0)) mon.diverged(k, "the step length");
        axpy(scalar<T>(-alpha), q, r.view());
        A.apply_adjoint(r, s.view());
        // s = A^H r - damp (x + alpha p), without touching x yet.
        if (damp != 0.0) detail::comb3<T>(one, s, -d, xc, scalar<T>(-damp * alpha), p, s.view());
        const double gamma_new = norm2_squared<T>(s);
        const double rr = mon.data_sum(norm2_squared<T>(r));
        if (!std::isfinite(gamma_new) || !std::isfinite(rr)) mon.diverged(k, "the residual");
        axpy(scalar<T>(alpha), p, x);
        const double objective = rr + (damp != 0.0 ? damp * norm2_squared<T>(xc) : 0.0);
        axpby(one, s, scalar<T>(gamma_new / gamma), p.view());
        gamma = gamma_new;
        const double measure = ahb > 0.0 ? std::sqrt(gamma) / ahb : std::sqrt(gamma);
        // r = b - A x is CGLS's recursive residual: the misfit costs no operator call.
        const double misfit = mon.residual_misfit<T>(r.view(), {});
        const bool go_on = mon.record(k, objective, measure, alpha, misfit);
        const auto put_state = [&](SolverState& st) {  // issue #10
            st.put("x", xc);
            st.put("r", View<const T>(r.view()));
            st.put("p", View<const T>(p.view()));
            st.put("gamma", gamma);
        };
        if (!mon.checkpoint(k, go_on, put_state)) break;
    }
    return mon.finish();
}

#define LUMEN_CG_INSTANTIATE(T)                                                                            \
    template SolverResult cg<T>(const LinearOperator<T>&, View<const T>, View<T>, const SolverOptions&);   \
    template SolverResult cg_normal<T>(const LinearOperator<T>&, View<const T>, View<T>, double,           \
                                       const SolverOptions&);                                              \
    template SolverResult cgls<T>(const LinearOperator<T>&, View<const T>, View<T>, double, const SolverOptions&);
LUMEN_CG_INSTANTIATE(float)
LUMEN_CG_INSTANTIATE(complex64)

}  // namespace lumen
