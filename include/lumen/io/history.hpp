// A solver's per-iteration history in an output file. Here, not in lumen/solvers/, so that the
// solvers (lumen::core) know nothing of files; callers find it by argument-dependent lookup on
// the io::H5Writer, so `write_history(out, result)` reads the same from any namespace.
#pragma once

#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::io {

// Writes a result's history as /history/{iteration, objective, residual, step, elapsed_s, misfit}
// (float64 vectors; misfit NaN where not measured) under `group` (default "/history") with
// attributes iterations, stop_reason, converged (0/1), elapsed_s and, with a discrepancy rule,
// discrepancy_tau. Call it before out.commit().
void write_history(H5Writer& out, const SolverResult& result, const std::string& group = "/history");

}  // namespace lumen::io
