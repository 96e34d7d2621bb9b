// The conjugate-gradient loop shared by cg, cg_normal and admm_tv's inner x-update.
#pragma once

#include <cmath>

#include "src/solvers/common.hpp"
#include "src/solvers/monitor.hpp"

namespace lumen::detail {

// Work arrays shaped like x, allocated once per solve.
template <class T>
struct CgWork {
    Array<T> r, p, q;
    explicit CgWork(View<const T> like) : r(zeros_like(like)), p(zeros_like(like)), q(zeros_like(like)) {}
};

// Solves M x = rhs starting from x, for at most max_iterations. With a monitor: records every
// iteration (objective f(x) = 0.5 x^H M x - Re <rhs, x> + f_const, measure ||r_k|| / ||r_0||,
// step alpha), stops on its decision, and throws through it on non-finite values with x left
// at the previous iterate. Without one (inner solves): stops when ||r|| <= 1e-12 ||r_0||, and
// throws Error(failure) "inner" on non-finite values, again with x unchanged.
// Returns the iterations done.
template <class T, class ApplyM>
int cg_solve(const ApplyM& apply_m, View<const T> rhs, View<T> x, CgWork<T>& w, int max_iterations, Monitor* mon,
             double f_const) {
    const View<const T> xc = x, rc = w.r.view(), pc = w.p.view(), qc = w.q.view();
    const T one = scalar<T>(1.0);
    auto fail = [&](int k, const char* what) {
        if (mon) mon->diverged(k, what);
        throw Error(ErrorCode::failure, std::string("inner conjugate gradients: ") + what + " is not finite");
    };
    apply_m(xc, w.q.view());
    lin_comb(one, rhs, scalar<T>(-1.0), qc, w.r.view());
    double rr = norm2_squared<T>(rc);
    const double rr0 = rr;
    if (!std::isfinite(rr)) fail(1, "the initial residual");
    if (rr == 0.0) {
        if (mon) mon->mark_converged();
        return 0;
    }
    copy(rc, w.p.view());
    int done = 0;
    for (int k = 1; k <= max_iterations; ++k) {
        apply_m(pc, w.q.view());
        const double pq = real(dot<T>(pc, qc));
        if (!std::isfinite(pq)) fail(k, "p^H M p");
        if (!(pq > 0.0)) {
            // M is not positive definite along p.
            if (mon) {
                throw Error(ErrorCode::failure, mon->name() + ": breakdown at iteration " + std::to_string(k) +
                                                    ": p^H M p = " + std::to_string(pq) +
                                                    " <= 0; the operator is not positive definite");
            }
            break;
        }
        const double alpha = rr / pq;
        if (!std::isfinite(alpha)) fail(k, "the step length");
        axpy(scalar<T>(-alpha), qc, w.r.view());
        const double rr_new = norm2_squared<T>(rc);
        if (!std::isfinite(rr_new)) fail(k, "the residual");
        axpy(scalar<T>(alpha), pc, x);
        axpby(one, rc, scalar<T>(rr_new / rr), w.p.view());
        rr = rr_new;
        done = k;
        if (mon) {
            const double objective =
                f_const - 0.5 * reduce<double>(x.device(), x.size(), kern::ReDotSumF<T>{x.data(), rhs.data(), w.r.data()});
            if (!mon->record(k, objective, std::sqrt(rr / rr0), alpha)) break;
            if (rr == 0.0) {  // exact solution: the next direction would be zero
                mon->mark_converged();
                break;
            }
        } else if (rr <= 1e-24 * rr0) {
            break;
        }
    }
    return done;
}

}  // namespace lumen::detail
