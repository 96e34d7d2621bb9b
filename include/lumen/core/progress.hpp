// One progress channel for every iterative computation: solvers and the modality
// reconstructions call a ProgressCallback after every iteration. Returning false stops the run
// (stop_reason "callback").
#pragma once

#include <cmath>
#include <functional>

#include "lumen/core/array.hpp"

namespace lumen {

struct IterationInfo {
    int iteration = 0;         // 1-based
    double objective = 0.0;    // the quantity the solver minimises (or NaN if it does not compute it)
    double residual = 0.0;     // the solver's convergence measure (relative)
    double step = 0.0;         // the step size used
    double elapsed_s = 0.0;    // since the solver started
    double misfit = std::nan("");  // noise-normalised data misfit (DiscrepancyRule); NaN when not measured
};

// Return false to stop after this iteration (the solvers' own callback).
using IterationCallback = std::function<bool(const IterationInfo&)>;

// Where a reconstruction is: the iteration just done, within a part of the whole run (an MRI
// slice; CT and ptychography have one part).
struct ProgressInfo {
    IterationInfo iteration;
    index_t part = 0, parts = 1;  // 0-based part index, number of parts
};

// The modality reconstructions' callback (ReconOptions::progress in ct, mri and ptycho).
using ProgressCallback = std::function<bool(const ProgressInfo&)>;

}  // namespace lumen
