// write_history: a solver's per-iteration history as float64 vectors in an output file.
#include <string>
#include <vector>

#include "lumen/core/error.hpp"
#include "lumen/io/history.hpp"

namespace lumen::io {

void write_history(H5Writer& out, const SolverResult& result, const std::string& group) {
    require(!group.empty() && group[0] == '/', out.path() + ": history group must be an absolute path, got '" +
                                                   group + "'");
    const std::size_t n = result.history.size();
    std::vector<double> iteration(n), objective(n), residual(n), step(n), elapsed(n), misfit(n);
    for (std::size_t i = 0; i < n; ++i) {
        const IterationInfo& h = result.history[i];
        iteration[i] = h.iteration;
        objective[i] = h.objective;
        residual[i] = h.residual;
        step[i] = h.step;
        elapsed[i] = h.elapsed_s;
        misfit[i] = h.misfit;
    }
    out.create_group(group);
    const std::string base = group == "/" ? "/" : group + "/";
    out.write(base + "iteration", iteration);
    out.write(base + "objective", objective);
    out.write(base + "residual", residual);
    out.write(base + "step", step);
    out.write(base + "elapsed_s", elapsed);
    out.write(base + "misfit", misfit);
    out.set_attr(group, "iterations", std::int64_t(result.iterations));
    out.set_attr(group, "stop_reason", result.stop_reason);
    out.set_attr(group, "converged", std::int64_t(result.converged ? 1 : 0));
    out.set_attr(group, "elapsed_s", result.elapsed_s);
    if (result.discrepancy_tau > 0.0) out.set_attr(group, "discrepancy_tau", result.discrepancy_tau);
}

}  // namespace lumen::io
