// File-to-file entry points (include/lumen/ptycho/run.hpp).
#include "lumen/ptycho/run.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include "lumen/io/hdf5.hpp"
#include "lumen/metrics.hpp"
#include "lumen/ptycho/conventions.hpp"
#include "lumen/ptycho/metrics.hpp"

namespace lumen::ptycho {

FrameOrder parse_frame_order(const std::string& text, const std::string& option) {
    if (text == "centred" || text == "centered" || text == "detector") return FrameOrder::centred;
    if (text == "fft") return FrameOrder::fft;
    if (text == "auto") return FrameOrder::automatic;
    throw Error(ErrorCode::usage, option + ": unknown frame order '" + text + "' (expected centred, fft or auto)");
}

Scan read_scan_for_recon(const std::string& path, FrameOrder order, bool* reordered, Propagation propagation) {
    Scan scan = read_cxi(path, propagation);
    const bool fft = order == FrameOrder::fft ||
                     (order == FrameOrder::automatic && !scan.near_field &&
                                                   frame_stats(scan.intensities, scan.mask).fft_order());
    if (fft) frames_to_detector_order(scan);
    if (reordered) *reordered = fft;
    check_scan(scan, false);  // reconstruct() checks the overlap with its starting probe
    return scan;
}

RunSummary run_recon(const RunOptions& o) {
    io::require_distinct_paths(o.input, o.output);
    bool reordered = false;
    const Scan scan = read_scan_for_recon(o.input, o.frame_order, &reordered, o.propagation);
    const ReconResult r = reconstruct(scan, o.recon, o.monitor);

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
    s.orientation = o.recon.orientation;
    s.frames_reordered = reordered;
    s.near_field = scan.near_field;
    s.residual_per_pixel = r.residual.per_pixel();
    s.residual_ratio = r.residual.ratio();
    std::vector<std::pair<std::string, double>> extra;
    // A truth is only comparable on its own grid (another orientation may transpose the object).
    if (scan.has_truth() && r.object.shape() == scan.true_object.shape()) {
        s.has_truth = true;
        // The region the scan illuminates, from the true probe when the file has it.
        Model m(scan.object_shape, scan.probe_shape(), r.positions, Device::cpu, scan.model_options(64, o.recon.subpixel));
        m.set_probe(scan.true_probe.empty() ? r.probe.view() : scan.true_probe.view());
        const Array<float> region = illuminated_region(m.illumination(), 0.1);
        s.nrmse_object = object_nrmse(scan.true_object, r.object, region, r.refined_probe);
        extra.push_back({"nrmse_object", s.nrmse_object});
        if (!scan.true_probe.empty() && r.refined_probe) {
            s.nrmse_probe = nrmse_complex(scan.true_probe.view(), r.probe.view(), true, true);
            extra.push_back({"nrmse_probe", s.nrmse_probe});
        }
    }
    // One set for the .h5 and its PNGs: both land, or neither (and never over the input).
    io::OutputSet outputs(o.input);
    write_result(outputs, o.output, r, o.recon, extra);
    if (!o.png_prefix.empty()) write_previews(outputs, o.png_prefix, r);
    outputs.commit();
    return s;
}

Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device) {
    Scan scan = simulate(options, device);
    write_cxi(output, scan);
    return scan;
}

}  // namespace lumen::ptycho
