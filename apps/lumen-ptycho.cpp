// lumen-ptycho: far-field ptychography. Subcommands simulate, recon, info (docs/ptychography.md).
// Thin: parsing, one library call, reporting.
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/common/app_common.hpp"
#include "lumen/core/error.hpp"
#include "lumen/io/png.hpp"
#include "lumen/ptycho/conventions.hpp"
#include "lumen/ptycho/run.hpp"

using namespace lumen;

namespace {

const char* kProg = "lumen-ptycho";

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// Seconds since `start` (the subcommand's wall time for the JSON summary).
double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The flags that set the library's option fields: an invalid_option error names the flag.
void register_flags() {
    for (const auto& [field, flag] : std::initializer_list<std::pair<const char*, const char*>>{
             {"SimulationOptions.frame", "--frame"},
             {"SimulationOptions.positions", "--positions"},
             {"SimulationOptions.scan", "--scan"},
             {"SimulationOptions.overlap", "--overlap"},
             {"SimulationOptions.beam_diameter", "--beam-diameter"},
             {"SimulationOptions.photons", "--photons"},
             {"SimulationOptions.position_error", "--position-error"},
             {"SimulationOptions.min_amplitude", "--min-amplitude"},
             {"SimulationOptions.energy_kev", "--energy-kev"},
             {"SimulationOptions.distance_m", "--distance"},
             {"SimulationOptions.detector_pixel_m", "--detector-pixel"},
             {"ReconOptions.method", "--method"},
             {"ReconOptions.loss", "--loss"},
             {"ReconOptions.iterations", "--iters"},
             {"ReconOptions.stop", "--stop"},
             {"ReconOptions.discrepancy_tau", "--tau"},
             {"ReconOptions.orientation", "--orientation"},
             {"ReconOptions.alpha", "--alpha"},
             {"ReconOptions.beta", "--beta"},
             {"ReconOptions.batch", "--batch"},
             {"ReconOptions.modes", "--modes"},
             {"ReconOptions.refine_positions", "--refine-positions"},
             {"ReconOptions.position_delay", "--position-delay"},
             {"SimulationOptions.probe_modes", "--probe-modes"},
             {"SimulationOptions.source_blur", "--source-blur"},
             {"SimulationOptions.slices", "--slices"},
             {"SimulationOptions.slice_distance_m", "--slice-distance"},
             {"ReconOptions.slices", "--slices"},
             {"ReconOptions.slice_distance", "--slice-distance"},
             {"RunOptions.frame_order", "--frame-order"},
             {"RunOptions.propagation", "--propagation"},
         })
        app::flag_for_field(field, flag);
}

void setup(CLI::App& app) {
    register_flags();
    // ---- simulate
    auto* sim = app.add_subcommand("simulate", "write a simulated far-field scan (CXI) with its ground truth");
    static std::string sim_out, scan_kind = "raster";
    static ptycho::SimulationOptions so;
    static app::CommonOptions sim_common;
    static bool noiseless = false, no_probe = false;
    sim->add_option("output", sim_out, "output file (.cxi)")->required();
    sim->add_option("--frame", so.frame, "detector frame (probe window) side in pixels")->capture_default_str();
    sim->add_option("--positions", so.positions, "scan positions (raster: rounded to a square grid)")->capture_default_str();
    sim->add_option("--scan", scan_kind, "raster (with jitter) or spiral (Fermat)")->capture_default_str();
    sim->add_option("--overlap", so.overlap, "linear overlap 1 - step / beam diameter")->capture_default_str();
    sim->add_option("--beam-diameter", so.beam_diameter, "beam diameter in pixels (default: frame / 2)");
    sim->add_option("--jitter", so.jitter, "raster jitter +-pixels (default: 10 % of the step)");
    sim->add_option("--photons", so.photons, "mean photons per frame")->capture_default_str();
    sim->add_flag("--noiseless", noiseless, "expected intensities, no Poisson noise");
    sim->add_option("--position-error", so.position_error, "rms error of the recorded positions (pixels)")->capture_default_str();
    sim->add_flag("--integer-positions", so.integer_positions, "true positions on whole pixels");
    sim->add_flag("--no-probe", no_probe, "do not store the probe (recon then estimates and refines it)");
    sim->add_flag("--near-field", so.near_field,
                  "near-field (Fresnel) frames: images at --distance with --detector-pixel as the object pixel");
    sim->add_option("--phase-range", so.phase_range, "object phase span in radians")->capture_default_str();
    sim->add_option("--min-amplitude", so.min_amplitude, "smallest object amplitude (transmission)")->capture_default_str();
    sim->add_option("--energy-kev", so.energy_kev, "photon energy (keV)")->capture_default_str();
    sim->add_option("--distance", so.distance_m, "sample-detector distance (m)")->capture_default_str();
    sim->add_option("--detector-pixel", so.detector_pixel_m, "detector pixel size (m)")->capture_default_str();
    sim->add_option("--seed", so.seed, "seed of the object, scan and noise")->capture_default_str();
    sim->add_option("--probe-modes", so.probe_modes,
                    "partially coherent probe: the strongest modes of a finite source that make the data")->capture_default_str();
    sim->add_option("--source-blur", so.source_blur,
                    "rms beam displacement across the source, pixels per axis (default: frame / 32)");
    sim->add_option("--slices", so.slices,
                    "thick object: this many slices, each its own pattern (the truth stores them)")->capture_default_str();
    sim->add_option("--slice-distance", so.slice_distance_m,
                    "distance between the slices (m; needed with --slices above 1, stored in the file)");
    app::add_common_options(*sim, sim_common, false);
    sim->callback([] {
        const auto start = std::chrono::steady_clock::now();
        so.scan = ptycho::parse_scan_pattern(scan_kind);
        so.poisson = !noiseless;
        so.store_probe = !no_probe;
        so.validate();
        const Device device = sim_common.resolved_device();
        app::Progress progress(kProg, "simulate", 1, sim_common.quiet);
        const ptycho::Scan s = ptycho::run_simulate(sim_out, so, device);
        progress.finish(sim_out);
        const double object_pixel_m = s.near_field ? s.geometry.pixel_x_m : s.geometry.object_pixel_x_m(so.frame);
        if (sim_common.json) {
            nlohmann::json j = app::json_summary(kProg, "simulate", since(start));
            j.update({{"output", sim_out},
                      {"device", device_name(device)},
                      {"positions", s.n_positions()},
                      {"frame", s.probe_shape().dims()},
                      {"object_shape", s.object_shape.dims()},
                      {"photons_per_frame", so.photons},
                      {"poisson", so.poisson},
                      {"position_error_px", so.position_error},
                      {"probe_stored", so.store_probe},
                      {"near_field", s.near_field},
                      {"slices", so.slices},
                      {"slice_distance_m", so.slice_distance_m},
                      {"object_pixel_m", object_pixel_m}});
            app::print_json(j);
        } else {
            app::out(sim_common) << kProg << ": wrote " << sim_out << ": " << s.n_positions() << " positions of "
                                 << s.probe_shape()[0] << "x" << s.probe_shape()[1] << ", object "
                                 << s.object_shape[0] << "x" << s.object_shape[1] << " pixels of "
                                 << object_pixel_m * 1e9 << " nm\n";
        }
    });

    // ---- recon
    auto* rec = app.add_subcommand("recon", "reconstruct a CXI scan (object and, when asked or needed, probe)");
    static ptycho::RunOptions ro;
    static std::string method = "awf", loss = "amplitude";
    static app::CommonOptions rec_common;
    static bool no_restart = false, no_subpixel = false, no_position_search = false;
    rec->add_option("input", ro.input, "input scan (.cxi)")->required();
    rec->add_option("-o,--output", ro.output, "output file (.h5)")->required();
    rec->add_option("--method", method, "awf, wf, epie or rpie")->capture_default_str();
    rec->add_option("--loss", loss, "awf/wf loss: amplitude, intensity or poisson")->capture_default_str();
    static std::string stop = "discrepancy";
    rec->add_option("--stop", stop,
                    "discrepancy (stop where the fit reaches what the photon counts' noise explains, or where it "
                    "diverges, keeping the best iterate; --iters is then a cap; data that are not photon counts "
                    "run to the cap) or iterations (run exactly --iters)")
        ->capture_default_str();
    rec->add_option("--tau", ro.recon.discrepancy_tau,
                    "discrepancy rule: stop once sum (sqrt y - |Psi|)^2 over its Poisson expectation is at most "
                    "this (default: 1 - unknowns / measurements of the scan, docs/ptychography.md)");
    static bool fixed_probe = false, refine_probe_flag = false, no_orientation_check = false;
    static std::string frame_order = "centred", propagation = "file";
    rec->add_option("--propagation", propagation,
                    "far (Fraunhofer), near (Fresnel: frames are images, the pixel size is the object pixel) or file "
                    "(lumen's /lumen/propagation, else far)")
        ->capture_default_str();
    rec->add_flag("--refine-probe", refine_probe_flag, "refine the probe too (the default; kept for old scripts)");
    rec->add_flag("--fixed-probe", fixed_probe, "hold the file's probe fixed (default: refine it; a probe estimated from the data is always refined)");
    rec->add_option("--orientation", ro.recon.orientation,
                    "orientation of the file's translations, 0-7: 4 swaps x and y, then +1 negates x, +2 negates y (as PtyPy's)")
        ->capture_default_str();
    rec->add_flag("--no-orientation-check", no_orientation_check, "skip the check that tries the 8 orientations on a subset");
    rec->add_option("--frame-order", frame_order,
                    "centred (CXI: zero frequency at the frame centre), fft (zero frequency at [0][0], as tike stores them) or auto")
        ->capture_default_str();
    rec->add_option("--probe-delay", ro.recon.probe_delay, "iterations before the probe is refined (default: 0, or 5 for a probe estimated from the data)");
    rec->add_flag("--no-restart", no_restart, "awf: no adaptive momentum restart");
    rec->add_option("--alpha", ro.recon.alpha, "epie/rpie object update strength (default: epie 1, rpie 0.5)");
    rec->add_option("--beta", ro.recon.beta, "epie/rpie probe update strength (default: 1)");
    rec->add_flag("--no-subpixel", no_subpixel, "round positions to whole pixels");
    rec->add_option("--modes", ro.recon.modes,
                    "awf/wf: incoherent probe modes (mixed-state probe; written as /probe_modes)")->capture_default_str();
    rec->add_flag("--refine-positions", ro.recon.refine_positions,
                  "awf/wf: refine the scan positions (written as /positions)");
    rec->add_option("--position-delay", ro.recon.position_delay,
                    "iterations before the positions move (with --refine-positions)")->capture_default_str();
    rec->add_flag("--no-position-search", no_position_search,
                  "with --refine-positions: the gradient steps alone, without the coarse whole-pixel search of each "
                  "position over +-(scan step + 1) pixels");
    rec->add_option("--slices", ro.recon.slices,
                    "awf/wf: multi-slice object of this many slices (written as /slices; /object is their product)")
        ->capture_default_str();
    rec->add_option("--slice-distance", ro.recon.slice_distance,
                    "distance between the slices (m; default: the file's /lumen/slice_distance, needed with --slices "
                    "above 1 when the file has none)");
    rec->add_option("--batch", ro.recon.batch, "frames per batched FFT (default: automatic)");
    rec->add_option("--seed", ro.recon.seed, "epie/rpie position order seed")->capture_default_str();
    static std::string png;
    static bool no_png = false;
    rec->add_option("--png", png, "PNG previews PREFIX_object_amplitude.png, ... (default: the output path without .h5)");
    rec->add_flag("--no-png", no_png, "do not write the PNG previews");
    app::add_common_options(*rec, rec_common, true);
    app::add_checkpoint_options(*rec, ro.checkpoint);
    rec->callback([] {
        const auto start = std::chrono::steady_clock::now();
        if (fixed_probe && refine_probe_flag) throw Error(ErrorCode::usage, "--fixed-probe and --refine-probe contradict each other");
        ro.png_prefix = io::preview_prefix(ro.output, png, no_png);
        ro.recon.method = ptycho::parse_method(method);
        ro.recon.loss = ptycho::parse_loss(loss);
        ro.recon.device = rec_common.resolved_device();
        ro.recon.refine_probe = !fixed_probe;
        ro.recon.check_orientation = !no_orientation_check;
        ro.frame_order = ptycho::parse_frame_order(frame_order);
        ro.propagation = ptycho::parse_propagation(propagation);
        ro.recon.iterations = rec_common.iters;
        ro.recon.stop = ptycho::parse_stop(stop);
        ro.recon.restart = !no_restart;
        ro.recon.subpixel = !no_subpixel;
        ro.recon.position_search = !no_position_search;
        ro.recon.validate();  // before the input is read: an option error needs no file
        const int iters = rec_common.iters > 0 ? rec_common.iters : ptycho::default_iterations(ro.recon.method);
        app::CheckReporter checks(kProg, rec_common);
        app::Progress progress(kProg, std::string("recon ") + method, iters, rec_common.quiet);
        ro.recon.progress = [&](const ProgressInfo& info) {
            std::ostringstream d;
            d << "(objective " << info.iteration.objective << ")";
            progress.update(info.iteration.iteration, d.str());
            return true;
        };
        const ptycho::RunSummary s = ptycho::run_recon(ro);
        std::ostringstream fin;
        fin << s.iterations << " iterations (" << s.stop_reason << ")";
        if (std::isfinite(s.quality.nrmse)) fin << ", object NRMSE " << s.quality.nrmse;
        progress.finish(fin.str());
        if (rec_common.json) {
            nlohmann::json j = app::json_summary(kProg, "recon", since(start));
            j.update({{"input", ro.input},
                      {"output", ro.output},
                      {"device", device_name(ro.recon.device)},
                      {"method", method},
                      {"iterations", s.iterations},
                      {"stop_reason", s.stop_reason},
                      {"stopping", s.stopping},
                      {"iteration_cap", iters}});
            if (s.ranks > 1) {
                j["communication"] = app::communication_json(s.communication);
                j["communication"]["compute_s"] = s.compute_s;
                j["communication"]["per_iteration_bytes"] = s.iterations > 0 ? s.communication.bytes / s.iterations : 0.0;
            }
            if (!s.stopping_note.empty()) j["stopping_note"] = s.stopping_note;
            if (s.discrepancy_tau > 0) j["discrepancy_tau"] = s.discrepancy_tau;
            if (s.kept_iteration > 0) j["kept_iteration"] = s.kept_iteration;
            if (s.quality.measured()) j["quality"] = app::quality_json(s.quality);
            j["checks"] = checks.json();
            j.update({{"loss", loss},
                      {"positions", s.positions},
                      {"frame", s.frame.dims()},
                      {"object_shape", s.object_shape.dims()},
                      {"seconds", s.seconds},
                      {"objective", number_or_null(s.objective)},
                      {"refined_probe", s.refined_probe},
                      {"probe_from_data", s.probe_from_data},
                      {"step_object", s.steps.object},
                      {"step_probe", s.steps.probe},
                      {"orientation", s.orientation},
                      {"frames_reordered", s.frames_reordered},
                      {"propagation", s.near_field ? "near" : "far"},
                      {"residual_per_pixel", number_or_null(s.residual_per_pixel)},
                      {"residual_ratio", number_or_null(s.residual_ratio)},
                      {"modes", ro.recon.modes},
                      {"slices", ro.recon.slices},
                      {"slice_distance_m", s.slice_distance},
                      {"mode_fractions", s.mode_fractions},
                      {"refined_positions", s.refined_positions},
                      {"position_error", number_or_null(s.position_error)},
                      {"recorded_position_error", number_or_null(s.recorded_position_error)},
                      {"warnings", checks.warning_count()}});
            app::print_json(j);
        } else {
            std::ostream& out = app::out(rec_common);
            out << kProg << ": " << method << " on " << s.positions << " positions of " << s.frame[0] << "x"
                << s.frame[1] << ": " << s.iterations << " iterations in " << s.seconds << " s, final objective "
                << s.objective << "\n";
            out << kProg << ": stopped: " << s.stop_reason;
            if (s.stop_reason == "discrepancy") out << " (misfit at most tau = " << s.discrepancy_tau << ")";
            if (s.kept_iteration > 0) out << " (the fit got worse; kept iteration " << s.kept_iteration << ")";
            if (s.stop_reason == "max_iterations") out << " (the cap, --iters " << iters << ")";
            out << "\n";
            if (!s.stopping_note.empty()) out << kProg << ": note: " << s.stopping_note << "\n";
            out << kProg << ": residual (sqrt y - |Psi|)^2 per measured pixel " << s.residual_per_pixel << ", "
                << s.residual_ratio << "x what Poisson noise on photon counts gives (about 1: the model "
                << "fits to the noise; far above 1: it does not fit)\n";
            if (!s.mode_fractions.empty()) {
                out << kProg << ": " << s.mode_fractions.size() << " probe modes, power fractions";
                for (double f : s.mode_fractions) out << " " << f;
                out << "\n";
            }
            if (ro.recon.slices > 1)
                out << kProg << ": " << ro.recon.slices << " slices " << s.slice_distance * 1e6
                    << " um apart (/slices; /object is their product)\n";
            if (s.refined_positions && std::isfinite(s.position_error))
                out << kProg << ": positions refined: rms error " << s.recorded_position_error << " px as recorded, "
                    << s.position_error << " px refined (against the file's true positions, mean offset removed)\n";
            if (checks.warning_count() > 0)
                out << kProg << ": " << checks.warning_count() << " plausibility warning(s), see above\n";
            if (s.quality.measured())
                out << kProg << ": the object NRMSE is over the illuminated region, "
                    << (s.refined_probe ? "phase, scale, ramp and shift removed" : "global phase removed") << "\n";
            app::print_quality(kProg, s.quality, rec_common);
            out << kProg << ": wrote " << ro.output;
            if (!ro.png_prefix.empty()) out << " and " << ro.png_prefix << "_*.png";
            out << "\n";
        }
    });

    // ---- info
    auto* inf = app.add_subcommand("info", "say what a CXI scan or a lumen result holds and whether lumen can read it");
    static std::string info_in;
    static app::CommonOptions info_common;
    inf->add_option("input", info_in, "scan (.cxi) or result (.h5)")->required();
    inf->add_flag("--json", info_common.json, "print a machine-readable summary on stdout");
    inf->add_flag("--strict", info_common.strict, "treat a failed plausibility check (a warning) as an error, exit 2");
    static std::string info_propagation = "file";
    inf->add_option("--propagation", info_propagation, "far, near or file (as for recon)")->capture_default_str();
    inf->callback([] {
        const auto start = std::chrono::steady_clock::now();
        const ptycho::Propagation propagation = ptycho::parse_propagation(info_propagation);
        if (ptycho::file_kind(info_in) == ptycho::FileKind::result) {
            const std::string text = ptycho::describe_result(info_in);
            if (info_common.json) {
                const ptycho::ResultInfo r = ptycho::read_result_info(info_in);
                nlohmann::json j = app::json_summary(kProg, "info", since(start));
                j.update({{"input", info_in},
                          {"kind", "result"},
                          {"readable", true},
                          {"object_shape", r.object_shape.dims()},
                          {"probe_shape", r.probe_shape.dims()},
                          {"method", r.method},
                          {"iterations", r.iterations},
                          {"slices", r.slices}});
                if (r.slices > 1) j["slice_distance_m"] = r.slice_distance_m;
                if (r.quality.measured()) j["quality"] = app::quality_json(r.quality);
                app::print_json(j);
            } else {
                std::cout << text;
            }
            return;
        }
        const std::string text = ptycho::describe_cxi(info_in);
        // A line per plausibility check (frames centred, far-field patterns, mask, overlap).
        app::CheckReporter checks(kProg, info_common, true);
        const ptycho::Scan s = ptycho::read_cxi(info_in, propagation);
        ptycho::check_scan(s);
        if (info_common.json) {
            nlohmann::json j = app::json_summary(kProg, "info", since(start));
            j.update({{"input", info_in},
                      {"kind", "scan"},
                      {"readable", true},
                      {"checks", checks.json()},
                      {"positions", s.n_positions()},
                      {"frame", s.probe_shape().dims()},
                      {"object_shape", s.object_shape.dims()},
                      {"energy_j", s.geometry.energy_j},
                      {"distance_m", s.geometry.distance_m},
                      {"pixel_m", {s.geometry.pixel_y_m, s.geometry.pixel_x_m}},
                      {"has_mask", !s.mask.empty()},
                      {"has_probe", !s.probe.empty()},
                      {"has_truth", s.has_truth()},
                      {"truth_slices", s.true_slices.empty() ? index_t(1) : s.true_slices.dim(0)},
                      {"slice_distance_m", number_or_null(s.slice_distance_m > 0 ? s.slice_distance_m : NAN)},
                      {"warnings", checks.warning_count()}});
            app::print_json(j);
        } else {
            std::cout << text;
        }
    });
}

}  // namespace

int main(int argc, char** argv) {
    return app::run_app(kProg, "lumen-ptycho: far-field ptychography (AWF, WF, ePIE, rPIE)", argc, argv, setup);
}
