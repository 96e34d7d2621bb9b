// SIRT (simultaneous iterative reconstruction technique). See include/lumen/solvers/solvers.hpp
// and docs/solvers.md.
//
// Divergence guard: the candidate update is written into a work array, forward-projected and
// measured; x takes it only when all of that is finite.
#include <cmath>
#include <string>

#include "lumen/solvers/solvers.hpp"
#include "src/solvers/common.hpp"
#include "src/solvers/monitor.hpp"

namespace lumen {

namespace {

// x <- 1 / x where x > 1e-6 max(x), else 0; `top` completes the maximum (the data's over processes).
template <class Top>
void invert_weights(View<float> w, const Top& top_of) {
    const double top = top_of(max_abs<float>(w));
    const float floor = float(1e-6 * top);
    detail::for_each(w.device(), w.size(), kern::InvOrZeroF{floor, w.data()});
}

}  // namespace

SolverResult sirt(const LinearOperator<float>& A, View<const float> b, View<float> x, const SirtOptions& sirt,
                  const SolverOptions& options) {
    detail::Monitor mon("sirt", options, b.size(), A.device());
    detail::require_array("sirt", "b", b, A.range_shape(), A.device());
    detail::require_array("sirt", "x", x, A.domain_shape(), A.device());
    require(std::isfinite(sirt.relaxation) && sirt.relaxation > 0.0 && sirt.relaxation < 2.0,
            "sirt: relaxation must be in (0, 2), got " + std::to_string(sirt.relaxation));
    require(!(sirt.lower > sirt.upper), "sirt: lower bound " + std::to_string(sirt.lower) + " exceeds upper bound " +
                                            std::to_string(sirt.upper));
    const View<const float> xc = x;
    Array<float> row = zeros_like(b), col = zeros_like(xc);
    Array<float> res = zeros_like(b), cand = zeros_like(xc), ones_d = zeros_like(xc);

    // Weights: R = 1 / (A 1), C = 1 / (A^T 1). With the data split over processes
    // (SolverOptions::data_split) each holds its rows of R, and A^T 1 is already the sum over them.
    fill(ones_d.view(), 1.0f);
    A.apply(ones_d.view(), row.view());
    invert_weights(row.view(), [&](double m) { return mon.data_max(m); });
    Array<float> ones_r = zeros_like(b);
    fill(ones_r.view(), 1.0f);
    A.apply_adjoint(ones_r.view(), col.view());
    invert_weights(col.view(), [](double m) { return m; });
    ones_d = Array<float>();
    ones_r = Array<float>();

    // Checkpoint hook (issue #10): x alone is SIRT's state; the weights and the residual below
    // are recomputed from it exactly as the loop computes them.
    const int first = mon.first_iteration();
    if (const SolverState* state = mon.resume()) state->get("x", x);

    // res = b - A x
    A.apply(xc, res.view());
    lin_comb(1.0f, b, -1.0f, res, res.view());
    if (!std::isfinite(mon.data_sum(norm2_squared<float>(res)))) mon.diverged(1, "the initial residual b - A x");
    const float relax = float(sirt.relaxation);
    for (int k = first; k <= mon.max_iterations(); ++k) {
        mul(row, res, res.view());
        A.apply_adjoint(res, cand.view());
        // cand = P(x + relax C A^T R (b - A x)), measured against x.
        const kern::Sum3 m = detail::reduce<kern::Sum3>(
            x.device(), x.size(),
            kern::SirtUpdateF{x.data(), col.data(), cand.data(), cand.data(), relax, sirt.lower, sirt.upper});
        if (!std::isfinite(m.a) || !std::isfinite(m.b)) mon.diverged(k, "the update");
        A.apply(cand, res.view());
        lin_comb(1.0f, b, -1.0f, res, res.view());
        const double rr = mon.data_sum(norm2_squared<float>(res));
        if (!std::isfinite(rr)) mon.diverged(k, "the residual b - A x");
        copy(cand, x);
        const double misfit = mon.residual_misfit<float>(res.view(), {});
        const bool go_on = mon.record(k, 0.5 * rr, detail::relative(m.a, m.b), sirt.relaxation, misfit);
        if (!mon.checkpoint(k, go_on, [&](SolverState& s) { s.put("x", xc); })) break;  // issue #10
    }
    return mon.finish();
}

}  // namespace lumen
