// Result files, previews and the scan reader for reconstruction (include/lumen/ptycho/io.hpp; the
// CXI files themselves are in cxi.cpp).
#include "lumen/ptycho/io.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/io/history.hpp"
#include "lumen/io/png.hpp"
#include "lumen/ptycho/conventions.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/version.hpp"

namespace lumen::ptycho {

FrameOrder parse_frame_order(const std::string& text) {
    if (text == "centred" || text == "centered" || text == "detector") return FrameOrder::centred;
    if (text == "fft") return FrameOrder::fft;
    if (text == "auto") return FrameOrder::automatic;
    invalid_option("RunOptions.frame_order", "unknown frame order '" + text + "' (expected centred, fft or auto)");
}

Scan read_scan_for_recon(const std::string& path, FrameOrder order, bool* reordered, Propagation propagation,
                         const Communicator& ranks) {
    Scan scan = read_cxi(path, propagation, ranks);
    // Distributed: one decision from every rank's frames (ranks must not disagree on the order).
    const bool fft = order == FrameOrder::fft ||
                     (order == FrameOrder::automatic && !scan.near_field &&
                                                   frame_stats(scan.intensities, scan.mask, ranks).fft_order());
    if (fft) frames_to_detector_order(scan);
    if (reordered) *reordered = fft;
    check_scan(scan, false, ranks);  // reconstruct() checks the overlap with its starting probe
    return scan;
}

void write_result(const std::string& path, const ReconResult& r, const ReconOptions& opt,
                  const std::vector<std::pair<std::string, double>>& extra) {
    io::OutputSet set;
    write_result(set, path, r, opt, extra);
    set.commit();
}

void write_result(io::OutputSet& set, const std::string& path, const ReconResult& r, const ReconOptions& opt,
                  const std::vector<std::pair<std::string, double>>& extra) {
    io::require_finite(r.object.view(), path + ": the reconstructed /object");
    io::require_finite(r.probe.view(), path + ": the reconstructed /probe");
    io::require_finite(r.illumination.view(), path + ": the /illumination");
    io::H5Writer w(set, path);
    w.write("/object", r.object.view());
    w.write("/probe", r.probe.view());
    w.write("/illumination", r.illumination.view());
    // Mixed-state probe: every mode (docs/formats.md); refined positions: where the windows ended.
    if (!r.probe_modes.empty()) w.write("/probe_modes", r.probe_modes.view());
    if (r.refined_positions) w.write("/positions", r.positions.view());
    // Multi-slice object: the slices (/object is their product, the projection) and their distance.
    if (!r.slices.empty()) {
        io::require_finite(r.slices.view(), path + ": the reconstructed /slices");
        w.write("/slices", r.slices.view());
        w.set_attr("/slices", "slice_distance_m", r.slice_distance);
        w.set_attr("/", "slices", std::int64_t(r.slices.dim(0)));
        w.set_attr("/", "slice_distance_m", r.slice_distance);
    }
    write_history(w, r.solver);
    w.set_attr("/", "method", method_name(opt.method));
    if (opt.method == Method::awf || opt.method == Method::wf) {
        w.set_attr("/", "loss", loss_name(opt.loss));
        w.set_attr("/", "step_object", r.steps.object);
        w.set_attr("/", "lipschitz_object", r.steps.lipschitz_object);
        w.set_attr("/", "curvature", r.steps.curvature);
        if (r.refined_probe) {
            w.set_attr("/", "step_probe", r.steps.probe);
            w.set_attr("/", "lipschitz_probe", r.steps.lipschitz_probe);
        }
        w.set_attr("/", "adaptive_restart", int(opt.restart));
    } else {
        w.set_attr("/", "alpha", opt.alpha > 0 ? opt.alpha : default_alpha(opt.method));
        w.set_attr("/", "beta", opt.beta > 0 ? opt.beta : 1.0);
    }
    w.set_attr("/", "refine_probe", int(r.refined_probe));
    w.set_attr("/", "orientation", opt.orientation);
    w.set_attr("/", "residual_ratio", r.residual.ratio());
    w.set_attr("/", "residual_per_pixel", r.residual.per_pixel());
    w.set_attr("/", "probe_from_data", int(r.probe_from_data));
    w.set_attr("/", "iterations", r.solver.iterations);
    // How the run stopped (docs/ptychography.md, "Stopping and defaults"); /history holds
    // stop_reason, discrepancy_tau and the misfit per iteration.
    w.set_attr("/", "stopping", r.stopping);
    if (!r.stopping_note.empty()) w.set_attr("/", "stopping_note", r.stopping_note);
    w.set_attr("/", "iteration_cap", opt.iterations > 0 ? opt.iterations : default_iterations(opt.method));
    if (r.kept_iteration > 0) w.set_attr("/", "kept_iteration", r.kept_iteration);
    w.set_attr("/", "lumen_version", LUMEN_VERSION);
    w.set_attr("/", "device", device_name(opt.device));
    for (const auto& [name, value] : extra) w.set_attr("/", name, value);
    w.commit();
}

void write_previews(const std::string& prefix, const ReconResult& r) {
    io::OutputSet set;
    write_previews(set, prefix, r);
    set.commit();
}

void write_previews(io::OutputSet& set, const std::string& prefix, const ReconResult& r) {
    // Remove the arbitrary global phase: mean phase 0 over the illuminated region.
    const Array<float> region = illuminated_region(r.illumination, 0.1);
    double re = 0, im = 0;
    for (index_t i = 0; i < r.object.size(); ++i) {
        re += region[i] * r.object[i].re;
        im += region[i] * r.object[i].im;
    }
    const double a = std::atan2(im, re);
    Array<complex64> obj = r.object.clone();
    const complex64 rot(float(std::cos(-a)), float(std::sin(-a)));
    for (index_t i = 0; i < obj.size(); ++i) obj[i] = obj[i] * rot;
    io::write_png_magnitude(set, prefix + "_object_amplitude.png", obj.view());
    // Object phases span much less than 2 pi: show them auto-scaled rather than on [-pi, pi].
    Array<float> phase(obj.shape());
    for (index_t i = 0; i < obj.size(); ++i) phase[i] = arg(obj[i]);
    io::write_png(set, prefix + "_object_phase.png", phase.view());
    io::write_png_magnitude(set, prefix + "_probe_amplitude.png", r.probe.view());
    io::write_png_phase(set, prefix + "_probe_phase.png", r.probe.view());
}

FileKind file_kind(const std::string& path) {
    const io::H5File f = io::H5File::open(path);
    if (f.exists(cxi::data)) return FileKind::scan;
    if (f.is_dataset("/object") && f.is_dataset("/probe")) return FileKind::result;
    return FileKind::unknown;
}

ResultInfo read_result_info(const std::string& path) {
    const io::H5File f = io::H5File::open(path);
    require(f.is_dataset("/object") && f.is_dataset("/probe"),
            path + ": /object and /probe are missing; not a ptychography result written by lumen");
    ResultInfo r;
    for (const char* name : {"/object", "/probe"}) {
        const io::DatasetInfo d = f.info(name);
        require(d.is_complex() && d.shape.rank() == 2,
                path + ": dataset " + name + " is " + d.dtype + " " + d.shape.str() + ", expected a complex image");
    }
    r.object_shape = f.info("/object").shape;
    r.probe_shape = f.info("/probe").shape;
    auto text = [&](const char* name) { return f.has_attr("/", name) ? f.attr_string("/", name) : std::string(); };
    auto number = [&](const char* name) { return f.has_attr("/", name) ? f.attr_double("/", name) : std::nan(""); };
    r.method = text("method");
    r.loss = text("loss");
    r.device = text("device");
    r.lumen_version = text("lumen_version");
    const double iterations = number("iterations");
    r.iterations = std::isfinite(iterations) ? int(iterations) : 0;
    r.refined_probe = number("refine_probe") == 1;
    r.probe_from_data = number("probe_from_data") == 1;
    r.residual_ratio = number("residual_ratio");
    r.quality.nrmse = number("nrmse_object");
    r.quality.nrmse_probe = number("nrmse_probe");
    if (f.is_dataset("/slices")) {
        const io::DatasetInfo d = f.info("/slices");
        require(d.is_complex() && d.shape.rank() == 3 && d.shape.drop_front() == r.object_shape,
                path + ": dataset /slices is " + d.dtype + " " + d.shape.str() + ", expected complex [N]" +
                    r.object_shape.str() + " (the object's slices)");
        r.slices = d.shape[0];
        r.slice_distance_m = number("slice_distance_m");
    }
    return r;
}

std::string describe_result(const std::string& path) {
    const ResultInfo r = read_result_info(path);
    std::ostringstream o;
    o << path << ": ptychography reconstruction written by lumen"
      << (r.lumen_version.empty() ? "" : " " + r.lumen_version) << "\n";
    o << "  object          " << r.object_shape[0] << " x " << r.object_shape[1] << " pixels (complex64, /object)\n";
    if (r.slices > 1)
        o << "  slices          " << r.slices << " of " << r.object_shape[0] << " x " << r.object_shape[1] << ", "
          << r.slice_distance_m * 1e6 << " um apart (complex64, /slices; /object is their product)\n";
    o << "  probe           " << r.probe_shape[0] << " x " << r.probe_shape[1] << " pixels (complex64, /probe), "
      << (r.probe_from_data ? "estimated from the data" : "from the scan") << ", "
      << (r.refined_probe ? "refined" : "held fixed") << "\n";
    o << "  method          " << (r.method.empty() ? "?" : r.method);
    if (!r.loss.empty()) o << ", " << r.loss << " loss";
    o << ", " << r.iterations << " iterations" << (r.device.empty() ? "" : " on " + r.device) << "\n";
    if (std::isfinite(r.residual_ratio))
        o << "  fit             residual " << r.residual_ratio << "x what Poisson noise gives\n";
    if (std::isfinite(r.quality.nrmse)) {
        o << "  quality         object NRMSE " << r.quality.nrmse;
        if (std::isfinite(r.quality.nrmse_probe)) o << ", probe NRMSE " << r.quality.nrmse_probe;
        o << " (against the scan's truth)\n";
    }
    return o.str();
}

}  // namespace lumen::ptycho
