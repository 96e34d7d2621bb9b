// File-to-file entry points (include/lumen/ptycho/run.hpp).
#include "lumen/ptycho/run.hpp"

#include <chrono>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

#include "lumen/core/comm.hpp"
#include "lumen/io/hdf5.hpp"

namespace lumen::ptycho {

std::vector<std::pair<std::string, std::string>> checkpoint_options(const RunOptions& o) {
    const ReconOptions& r = o.recon;
    auto num = [](double v) {
        std::ostringstream s;
        s.precision(17);
        s << v;
        return s.str();
    };
    return {{"ReconOptions.method", method_name(r.method)},
            {"ReconOptions.loss", loss_name(r.loss)},
            {"ReconOptions.device", device_name(r.device)},
            {"ReconOptions.iterations", std::to_string(r.iterations)},
            {"ReconOptions.stop", stop_name(r.stop)},
            {"ReconOptions.discrepancy_tau", num(r.discrepancy_tau)},
            {"ReconOptions.refine_probe", r.refine_probe ? "yes" : "no"},
            {"ReconOptions.orientation", std::to_string(r.orientation)},
            {"ReconOptions.probe_delay", std::to_string(r.probe_delay)},
            {"ReconOptions.restart", r.restart ? "yes" : "no"},
            {"ReconOptions.alpha", num(r.alpha)},
            {"ReconOptions.beta", num(r.beta)},
            {"ReconOptions.subpixel", r.subpixel ? "yes" : "no"},
            {"ReconOptions.batch", std::to_string(r.batch)},
            {"ReconOptions.seed", std::to_string(r.seed)},
            {"ReconOptions.slices", std::to_string(r.slices)},
            {"ReconOptions.slice_distance", num(r.slice_distance)},
            {"RunOptions.frame_order", std::to_string(int(o.frame_order))},
            {"RunOptions.propagation", std::to_string(int(o.propagation))}};
}

RunSummary run_recon(const RunOptions& o) {
    io::require_distinct_paths(o.input, o.output);
    // Checkpoints (issue #10): checked against the input and options before any work.
    io::RunCheckpoint checkpoint(o.checkpoint, "lumen-ptycho recon", o.input, o.output, checkpoint_options(o));
    bool reordered = false;
    // Distributed runs (docs/scaling.md): under an MPI launcher the frames are split over the
    // ranks, each reading only its own; every rank ends with the whole result and rank 0 writes it.
    const Communicator& ranks = world();
    const Scan scan = read_scan_for_recon(o.input, o.frame_order, &reordered, o.propagation, ranks);
    ReconOptions recon = o.recon;
    recon.checkpoint = checkpoint.hook();
    if (ranks.distributed()) recon.ranks = &ranks;
    const auto compute_start = std::chrono::steady_clock::now();
    const ReconResult r = reconstruct(scan, recon);
    const double compute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - compute_start).count();
    checkpoint.after(r.solver.stop_reason, "recon " + o.input + " -o " + o.output + " --resume " + checkpoint.path() +
                                               " and the same options");

    RunSummary s;
    s.positions = scan.n_positions();
    s.frame = scan.probe_shape();
    s.object_shape = scan.object_shape;
    s.iterations = r.solver.iterations;
    s.seconds = r.solver.elapsed_s;
    if (!r.solver.history.empty()) s.objective = r.solver.history.back().objective;
    s.refined_probe = r.refined_probe;
    s.probe_from_data = r.probe_from_data;
    s.steps = r.steps;
    s.stop_reason = r.solver.stop_reason;
    s.stopping = r.stopping;
    s.stopping_note = r.stopping_note;
    s.kept_iteration = r.kept_iteration;
    s.discrepancy_tau = r.solver.discrepancy_tau;
    s.orientation = o.recon.orientation;
    s.frames_reordered = reordered;
    s.near_field = scan.near_field;
    s.residual_per_pixel = r.residual.per_pixel();
    s.residual_ratio = r.residual.ratio();
    s.quality = r.quality;
    s.mode_fractions = r.mode_fractions;
    s.refined_positions = r.refined_positions;
    s.position_error = r.position_error;
    s.recorded_position_error = r.recorded_position_error;
    s.slice_distance = r.slice_distance;
    s.ranks = ranks.size();
    if (ranks.distributed()) {
        // What the collectives cost, measured on this rank (Communicator counts every call).
        s.communication = ranks.statistics();
        s.communication.ranks = ranks.size();
        s.communication.wait_s = 0.0;
        s.compute_s = compute_s - s.communication.communication_s;
    }
    if (!ranks.root()) return s;
    std::vector<std::pair<std::string, double>> extra;
    extra.push_back({"ranks", double(ranks.size())});
    if (std::isfinite(s.quality.nrmse)) extra.push_back({"nrmse_object", s.quality.nrmse});
    if (std::isfinite(s.quality.nrmse_probe)) extra.push_back({"nrmse_probe", s.quality.nrmse_probe});
    // One set for the .h5 and its PNGs: both land, or neither (and never over the input).
    io::OutputSet outputs(o.input);
    write_result(outputs, o.output, r, o.recon, extra);
    if (!o.png_prefix.empty()) write_previews(outputs, o.png_prefix, r);
    outputs.commit();
    checkpoint.finished();
    return s;
}

Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device) {
    Scan scan = simulate(options, device);
    write_cxi(output, scan);
    return scan;
}

}  // namespace lumen::ptycho
