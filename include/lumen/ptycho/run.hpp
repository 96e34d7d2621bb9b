// File-to-file entry points behind lumen-ptycho (the app only parses options and reports).
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/quality.hpp"
#include "lumen/io/checkpoint.hpp"
#include "lumen/ptycho/io.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"

namespace lumen::ptycho {

struct RunOptions {
    std::string input;       // CXI
    FrameOrder frame_order = FrameOrder::centred;
    Propagation propagation = Propagation::from_file;
    std::string output;      // HDF5 result
    std::string png_prefix;  // PNG previews PREFIX_*.png (empty: none)
    ReconOptions recon;      // progress through recon.progress
    // Checkpoints and resuming (lumen/io/checkpoint.hpp); a run stopped by SIGINT/SIGTERM
    // throws Error(interrupted) after saving.
    io::CheckpointOptions checkpoint;
};
// The options a ptychography checkpoint records (those that change the result) as (field, text).
std::vector<std::pair<std::string, std::string>> checkpoint_options(const RunOptions& options);

struct RunSummary {
    index_t positions = 0;
    // Distributed runs (docs/scaling.md): the ranks, this rank's time in collectives and bytes put
    // into them (Communicator::statistics), and the reconstruction's time outside them.
    int ranks = 1;
    CommunicationStats communication;
    double compute_s = 0;
    Shape frame, object_shape;
    int iterations = 0;
    double seconds = 0;
    double objective = NAN;      // the last iteration's
    // Against /lumen/truth when the file has one (ReconResult::quality): nrmse (the object over
    // the illuminated region) and nrmse_probe; NaN otherwise.
    Quality quality;
    bool refined_probe = false, probe_from_data = false;
    StepSizes steps;
    std::string stop_reason;
    // ReconInfo::stopping, stopping_note, kept_iteration; the rule's tau (0: off).
    std::string stopping, stopping_note;
    int kept_iteration = 0;
    double discrepancy_tau = 0;
    int orientation = 0;
    bool frames_reordered = false;  // the frames were taken as FFT order and reordered
    bool near_field = false;
    // The final fit: mean (sqrt y - |Psi|)^2 per measured pixel, and that sum over its Poisson
    // expectation (about 1 when the model fits photon counts to the noise).
    double residual_per_pixel = NAN, residual_ratio = NAN;
    // Probe modes (ReconResult::mode_fractions: each mode's share of the power; empty for one mode)
    // and position refinement (ReconResult::position_error and recorded_position_error: rms
    // pixels against the file's true positions, NaN without them).
    std::vector<double> mode_fractions;
    bool refined_positions = false;
    double position_error = NAN, recorded_position_error = NAN;
    double slice_distance = 0;  // multi-slice: the distance used (m; the option's or the file's)
};

// Reads IN (CXI), reconstructs, scores against the truth when the file has one (and the result
// lies on the truth's grid), writes OUT (and the PNG previews). Refuses OUT == IN. The checks
// report through lumen::report_check.
RunSummary run_recon(const RunOptions& options);

// Simulates a scan and writes it as CXI with its truth.
Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device);

}  // namespace lumen::ptycho
