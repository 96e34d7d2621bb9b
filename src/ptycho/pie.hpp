// ePIE and rPIE: sequential per-position updates (Maiden & Rodenburg 2009; Maiden, Johnson & Li
// 2017), one sweep over the positions in random order per iteration. Internal to src/ptycho.
#pragma once

#include <cstdint>
#include <functional>

#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/recon.hpp"
#include "src/ptycho/stopping.hpp"

namespace lumen::ptycho {

// What the method loops call after every iteration with the current estimates (on the model's
// device); false stops the run. reconstruct() builds it from ReconOptions::progress and estimates.
using IterationHook =
    std::function<bool(const IterationInfo& info, View<const complex64> object, View<const complex64> probe)>;

struct PieOptions {
    bool regularized = false;  // rPIE (true) or ePIE
    double alpha = 1.0, beta = 1.0;
    bool refine_probe = false;
    int probe_delay = 0;       // sweeps with the probe fixed first
    int iterations = 50;       // sweeps
    std::uint64_t seed = 1;
    // Checkpoints (issue #10): the state is the object, the probe and the sweep count; the
    // position order is replayed from the seed.
    const Checkpointing* checkpoint = nullptr;
    // The stopping rule (src/ptycho/stopping.hpp; null: run `iterations` sweeps): after every
    // sweep the misfit is measured, the run stops at discrepancy_tau (> 0: on) or when the guard
    // says the fit diverges (stop_reason "diverged"; the caller restores the best iterate).
    StopGuard* guard = nullptr;
    double discrepancy_tau = 0;
};

// Updates object and probe (on the model's device) in place; the model's data and probe must be
// set. The objective is the amplitude loss summed over one sweep (each frame measured just before
// its update).
SolverResult run_pie(Model& model, Array<complex64>& object, Array<complex64>& probe, const PieOptions& options,
                     const IterationHook& monitor);

}  // namespace lumen::ptycho
