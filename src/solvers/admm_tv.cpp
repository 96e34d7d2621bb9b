// ADMM for TV-regularised least squares. See include/lumen/solvers/solvers.hpp and
// docs/solvers.md.
//
// Scaled-form ADMM on min 0.5 ||A x - b||^2 + lambda TV(z) subject to z = D x:
//   x <- argmin 0.5 ||A x - b||^2 + rho/2 ||D x - z + u||^2   (CG on A^H A + rho D^H D, warm start)
//   z <- shrink(D x + u, lambda / rho)                          (kern::TvShrinkF)
//   u <- u + D x - z
// Divergence guard: the x-update runs on a work copy that x takes only after the objective and
// the step are known to be finite.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/solvers/finite_diff.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "src/solvers/cg_core.hpp"
#include "src/solvers/common.hpp"
#include "src/solvers/monitor.hpp"
#include "src/solvers/regularizers_internal.hpp"

namespace lumen {

namespace {
// Residual balancing (Boyd et al. 2011, sec. 3.4.1; normalised as in Wohlberg 2017): rho is
// multiplied or divided by k_admm_rho_step when one normalised residual exceeds the other by
// k_admm_balance, during the first k_admm_adapt_iterations iterations only, so that the
// iteration is plain fixed-rho ADMM (and converges as such) afterwards.
constexpr double k_admm_balance = 10.0;
constexpr double k_admm_rho_step = 2.0;
constexpr int k_admm_adapt_iterations = 50;
}  // namespace

namespace detail {
// rho when the caller gives none: ||A||^2, which carries the units of rho (those of A^H A) so that
// the iterates do not depend on how A, x and b are scaled; a rough estimate is enough because
// residual balancing corrects rho by orders of magnitude within a few iterations (docs/solvers.md).
template <class T>
double admm_default_rho(const LinearOperator<T>& A) {
    const double L = operator_norm(A, 8);
    require(L > 0.0, "admm_tv: the operator is zero; no rho can be derived from it (set AdmmTvOptions::rho)");
    return L * L;
}
}  // namespace detail

template <class T>
SolverResult admm_tv(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, const AdmmTvOptions& admm,
                     const SolverOptions& options) {
    detail::Monitor mon("admm_tv", options, b.size(), A.device());
    detail::require_array("admm_tv", "b", b, A.range_shape(), A.device());
    detail::require_array("admm_tv", "x", x, A.domain_shape(), A.device());
    require(std::isfinite(admm.lambda) && admm.lambda >= 0.0,
            "admm_tv: lambda must be a finite number >= 0, got " + std::to_string(admm.lambda));
    require(std::isfinite(admm.rho), "admm_tv: rho must be finite, got " + std::to_string(admm.rho));
    require(admm.inner_cg_iterations >= 1,
            "admm_tv: inner_cg_iterations must be >= 1, got " + std::to_string(admm.inner_cg_iterations));
    require(!(admm.nonnegative && is_complex_v<T>), "admm_tv: nonnegative applies to real images only");
    const kern::GradAxes ax = detail::grad_axes(x.shape(), admm.dims, "admm_tv");
    const Shape gshape = detail::gradient_shape(x.shape(), admm.dims);
    const Device dev = x.device();
    double rho = admm.rho > 0.0 ? admm.rho : detail::admm_default_rho(A);
    const T one = detail::scalar<T>(1.0);
    T rho_t = detail::scalar<T>(rho);

    const View<const T> xc = x;
    Array<T> xw = Array<T>::copy_of(xc, dev), rhs0 = zeros_like(xc), rhs = zeros_like(xc), dtmp = zeros_like(xc);
    Array<T> g(gshape, dev), z(gshape, dev), u(gshape, dev), gtmp(gshape, dev), axb = zeros_like(b);
    detail::CgWork<T> work(xc);
    auto grad = [&](View<const T> in, View<T> out) { detail::for_each(dev, ax.n, kern::GradF<T>{in.data(), out.data(), ax}); };
    auto grad_adj = [&](View<const T> in, View<T> out) {
        detail::for_each(dev, ax.n, kern::GradAdjointF<T>{in.data(), out.data(), ax});
    };
    auto apply_m = [&](View<const T> p, View<T> q) {
        A.apply_normal(p, q);
        grad(p, gtmp.view());
        grad_adj(gtmp.view(), dtmp.view());
        axpy(rho_t, dtmp, q);
    };

    A.apply_adjoint(b, rhs0.view());
    grad(xc, z.view());  // z = D x, u = 0
    // Checkpoint hook (issue #10): the state is x (the inner CG's warm start too), z, the scaled
    // dual u and the penalty rho (adapted in the first iterations).
    const int first = mon.first_iteration();
    if (const SolverState* state = mon.resume()) {
        state->get("x", x);
        copy(xc, xw.view());
        state->get("z", z.view());
        state->get("u", u.view());
        rho = state->scalar("rho");
        rho_t = detail::scalar<T>(rho);
    }
    for (int k = first; k <= mon.max_iterations(); ++k) {
        // rhs = A^H b + rho D^H (z - u)
        lin_comb(one, z, detail::scalar<T>(-1.0), u, gtmp.view());
        grad_adj(gtmp.view(), dtmp.view());
        lin_comb(one, rhs0, rho_t, dtmp, rhs.view());
        try {
            detail::cg_solve<T>(apply_m, rhs.view(), xw.view(), work, admm.inner_cg_iterations, nullptr, 0.0);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::failure) throw;
            mon.diverged(k, "the x-update (inner conjugate gradients)");
        }
        if constexpr (!is_complex_v<T>) {
            if (admm.nonnegative) project_nonnegative(xw.view());
        }
        grad(xw.view(), g.view());
        // z, u updated in place; gtmp <- z_new - z_old
        const kern::Sum3 zs = detail::reduce<kern::Sum3>(
            dev, ax.n,
            kern::TvShrinkF<T>{g.data(), z.data(), u.data(), gtmp.data(), ax.n, admm.dims, float(admm.lambda / rho),
                               admm.isotropic});
        A.apply(xw.view(), axb.view());
        const double f = 0.5 * mon.data_sum(detail::diff_norm_sq<T>(axb.view(), b)) + admm.lambda * zs.a;
        const kern::Sum3 m = detail::step_measure<T>(xw.view(), xc, {});
        if (!std::isfinite(f) || !std::isfinite(m.a) || !std::isfinite(m.b)) mon.diverged(k, "the objective");
        copy(xw, x);
        const double used_rho = rho;
        if (admm.adaptive_rho && k <= k_admm_adapt_iterations) {
            // Residual balancing on the normalised residuals (scale-invariant):
            //   primal ||D x - z|| / max(||D x||, ||z||),  dual rho ||D^H (z - z_old)|| / ||rho D^H u||.
            grad_adj(gtmp.view(), dtmp.view());
            grad_adj(u.view(), rhs.view());
            const double primal = detail::relative(zs.b, std::max(norm2_squared<T>(g), zs.c));
            const double dual = detail::relative(norm2_squared<T>(dtmp), norm2_squared<T>(rhs));
            double factor = 1.0;
            if (primal > k_admm_balance * dual) factor = k_admm_rho_step;
            else if (dual > k_admm_balance * primal) factor = 1.0 / k_admm_rho_step;
            if (factor != 1.0 && std::isfinite(primal) && std::isfinite(dual)) {
                rho *= factor;
                rho_t = detail::scalar<T>(rho);
                scale(detail::scalar<T>(1.0 / factor), u.view());  // the scaled dual u = y / rho
            }
        }
        const double misfit = mon.residual_misfit<T>(axb.view(), b);
        const bool go_on = mon.record(k, f, detail::relative(m.a, m.b), used_rho, misfit);
        const auto put_state = [&](SolverState& s) {  // issue #10
            s.put("x", xc);
            s.put("z", View<const T>(z.view()));
            s.put("u", View<const T>(u.view()));
            s.put("rho", rho);
        };
        if (!mon.checkpoint(k, go_on, put_state)) break;
    }
    return mon.finish();
}

#define LUMEN_ADMM_INSTANTIATE(T)                                                                       \
    template SolverResult admm_tv<T>(const LinearOperator<T>&, View<const T>, View<T>, const AdmmTvOptions&, \
                                     const SolverOptions&);
LUMEN_ADMM_INSTANTIATE(float)
LUMEN_ADMM_INSTANTIATE(complex64)

}  // namespace lumen
