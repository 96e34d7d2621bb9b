// lumen-mri: undersampled multi-coil Cartesian MRI. Subcommands simulate, recon, espirit, info
// (docs/mri.md). Thin: parsing, one library call, reporting.
#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>

#include "apps/common/app_common.hpp"
#include "lumen/core/error.hpp"
#include "lumen/io/png.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/run.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"

using namespace lumen;

namespace {

const char* kProg = "lumen-mri";

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The flag that sets each option field the library may name in an error.
void register_flags() {
    const std::pair<const char*, const char*> table[] = {
        {"ReconOptions.method", "--method"},
        {"ReconOptions.iterations", "--iters"},
        {"ReconOptions.lambda", "--lambda"},
        {"ReconOptions.tolerance", "--tolerance"},
        {"ReconOptions.pocs_iterations", "--pocs-iters"},
        {"ReconOptions.stop", "--stop"},
        {"ReconOptions.discrepancy_tau", "--tau"},
        {"ReconOptions.noise_variance", "--noise-variance"},
        {"RunOptions.maps", "--maps"},
        {"RunOptions.prewhiten", "--no-prewhiten"},
        {"RunOptions.pocs", "--partial-fourier"},
        {"PreprocessOptions.readout_crop", "--no-readout-crop"},
        {"PreprocessOptions.coil_energy", "--coil-energy"},
        {"PreprocessOptions.virtual_coils", "--virtual-coils"},
        {"MaskSpec.kind", "--mask"},
        {"MaskSpec.acceleration", "--accel"},
        {"MaskSpec.center_fraction", "--center-fraction"},
        {"MaskSpec.calibration", "--poisson-calibration"},
        {"EspiritOptions.kernel", "--espirit-kernel"},
        {"EspiritOptions.calibration", "--espirit-calibration"},
        {"EspiritOptions.threshold", "--espirit-threshold"},
        {"EspiritOptions.crop", "--espirit-crop"},
        {"SimulationOptions.height", "--size"},
        {"SimulationOptions.width", "--size"},
        {"SimulationOptions.recon_height", "--recon-size"},
        {"SimulationOptions.recon_width", "--recon-size"},
        {"SimulationOptions.coils", "--coils"},
        {"SimulationOptions.slices", "--slices"},
        {"SimulationOptions.noise", "--noise"},
        {"SimulationOptions.scale", "--scale"},
    };
    for (const auto& [field, flag] : table) app::flag_for_field(field, flag);
}

// "HxW" or "N" (square).
void parse_size(const std::string& text, const std::string& option, index_t& h, index_t& w) {
    const auto x = text.find('x');
    try {
        std::size_t used = 0;
        if (x == std::string::npos) {
            h = w = std::stol(text, &used);
            if (used != text.size()) throw std::invalid_argument(text);
        } else {
            h = std::stol(text.substr(0, x), &used);
            if (used != x) throw std::invalid_argument(text);
            w = std::stol(text.substr(x + 1), &used);
            if (used != text.size() - x - 1) throw std::invalid_argument(text);
        }
    } catch (const std::exception&) {
        throw Error(ErrorCode::usage, option + ": '" + text + "' is not a size; expected HxW (e.g. 192x144) or N");
    }
    if (h <= 0 || w <= 0) throw Error(ErrorCode::usage, option + ": sizes must be positive, got " + text);
}

struct MaskArgs {
    double accel = 0.0;  // 0: no undersampling requested
    double center_fraction = 0.0;
    std::string kind = "random";
    std::uint64_t seed = 0;
    index_t calibration = 24;

    void add(CLI::App& cmd) {
        cmd.add_option("--accel", accel, "undersample a fully sampled file by this factor (default: use the file's own sampling)");
        cmd.add_option("--center-fraction", center_fraction,
                       "fully sampled centre columns as a fraction of W (default: 0.08 at 4x, 0.04 at 8x, else 0.32/accel)");
        cmd.add_option("--mask", kind, "mask for --accel: random, equispaced, equispaced-fraction or poisson")->capture_default_str();
        cmd.add_option("--seed", seed, "mask seed (fastMRI-compatible for the 1-D masks)")->capture_default_str();
        cmd.add_option("--poisson-calibration", calibration, "side of the fully sampled box of Poisson masks")->capture_default_str();
    }
    bool active() const { return accel > 0.0; }
    mri::MaskSpec spec() const {
        mri::MaskSpec s;
        s.kind = mri::parse_mask_kind(kind);
        s.acceleration = accel;
        s.center_fraction = center_fraction;
        s.seed = seed;
        s.calibration = calibration;
        return s;
    }
};

void add_espirit_options(CLI::App& cmd, mri::EspiritOptions& e) {
    cmd.add_option("--espirit-kernel", e.kernel, "ESPIRiT kernel width")->capture_default_str();
    cmd.add_option("--espirit-calibration", e.calibration, "ESPIRiT calibration region side (max)")->capture_default_str();
    cmd.add_option("--espirit-threshold", e.threshold, "singular values kept: sigma >= threshold * sigma_max")->capture_default_str();
    cmd.add_option("--espirit-crop", e.crop, "maps zeroed where the eigenvalue is below this")->capture_default_str();
}

nlohmann::json header_json(const mri::ScanHeader& h) {
    return {{"path", h.path},
            {"format", h.format},
            {"slices", h.slices},
            {"coils", h.coils},
            {"single_coil", h.single_coil},
            {"kspace_size", {h.height, h.width}},
            {"recon_size", {h.recon_height, h.recon_width}},
            {"acquired_columns", {h.first_column, h.last_column}},
            {"acquired_rows", {h.first_row, h.last_row}},
            {"reversed_lines", h.reversed_lines},
            {"noise_scans", h.noise_scans},
            {"has_header_xml", h.has_xml_header},
            {"has_mask", h.has_mask},
            {"has_truth", h.has_truth},
            {"target", h.target},
            {"acquisition", h.acquisition}};
}

void setup(CLI::App& app) {
    register_flags();
    // ---- simulate
    auto* sim = app.add_subcommand("simulate", "write a simulated multi-coil scan in fastMRI layout with its truth");
    static std::string sim_out, sim_size = "192x144", sim_recon, sim_format = "fastmri";
    static mri::SimulationOptions so;
    static MaskArgs sim_mask;
    static app::CommonOptions sim_common;
    sim->add_option("output", sim_out, "output file (.h5)")->required();
    sim->add_option("--size", sim_size, "k-space size HxW (H: readout, 2x oversampled)")->capture_default_str();
    sim->add_option("--recon-size", sim_recon, "reconstruction size HxW (default: H/2 x H/2, at most W)");
    sim->add_option("--coils", so.coils, "receive coils (1: single-coil layout)")->capture_default_str();
    sim->add_option("--slices", so.slices, "slices")->capture_default_str();
    sim->add_option("--noise", so.noise, "complex noise level relative to the RMS coil image")->capture_default_str();
    sim->add_option("--scale", so.scale, "peak object magnitude (fastMRI data are ~1e-4)")->capture_default_str();
    sim->add_option("--noise-seed", so.seed, "noise seed")->capture_default_str();
    sim->add_option("--format", sim_format, "fastmri or ismrmrd")->capture_default_str();
    static double sim_pf = 1.0;
    static bool sim_reverse = false;
    sim->add_option("--partial-fourier", sim_pf,
                    "fraction of the phase encodes acquired (0.5 to 1): the first lines are left out, as the header says")
        ->capture_default_str();
    sim->add_flag("--reverse-lines", sim_reverse, "ismrmrd: store odd lines reversed and flagged ACQ_IS_REVERSE (bipolar readouts)");
    sim_mask.add(*sim);
    sim->add_flag("--quiet,-q", sim_common.quiet, "print nothing but errors");
    sim->add_flag("--json", sim_common.json, "print a machine-readable summary on stdout");
    sim->callback([] {
        const auto t0 = std::chrono::steady_clock::now();
        parse_size(sim_size, "--size", so.height, so.width);
        if (!sim_recon.empty()) parse_size(sim_recon, "--recon-size", so.recon_height, so.recon_width);
        if (sim_format != "fastmri" && sim_format != "ismrmrd")
            throw Error(ErrorCode::usage, "--format: unknown format '" + sim_format + "'; expected fastmri or ismrmrd");
        if (!(sim_pf > 0.5 && sim_pf <= 1.0))
            throw Error(ErrorCode::usage, "--partial-fourier must be above 0.5 and at most 1, got " + std::to_string(sim_pf));
        if (sim_reverse && sim_format != "ismrmrd")
            throw Error(ErrorCode::usage, "--reverse-lines needs --format ismrmrd (fastMRI files have no line flags)");
        app::Progress progress(kProg, "simulate", 1, sim_common.quiet);
        mri::SimulatedScan scan = mri::simulate(so);
        Array<float> mask;
        if (sim_mask.active()) mask = mri::make_mask(sim_mask.spec(), so.height, so.width);
        // Partial Fourier: the first W - round(f W) phase encodes were not acquired.
        const index_t first_column = so.width - index_t(std::lround(sim_pf * double(so.width)));
        if (first_column > 0) {
            if (mask.empty()) {
                mask = Array<float>(Shape{so.height, so.width});
                fill(mask.view(), 1.0f);
            }
            mri::restrict_columns(mask.view(), first_column, so.width);
        }
        if (!mask.empty()) mri::apply_mask(scan.kspace.view(), mask.view(), scan.kspace.view());
        if (sim_format == "ismrmrd") {
            mri::IsmrmrdWriteOptions wo;
            wo.mask = mask.view();
            wo.recon_height = scan.recon_height;
            wo.recon_width = scan.recon_width;
            wo.first_column = first_column;
            wo.reverse_odd_lines = sim_reverse;
            mri::write_ismrmrd(sim_out, scan.kspace.view(), wo);
        } else {
            mri::FastMriWriteOptions wo;
            wo.mask = mask.view();
            wo.truth_image = scan.image.view();
            wo.truth_sensitivities = scan.sensitivities.view();
            wo.reconstruction_rss = scan.rss.view();
            wo.recon_height = scan.recon_height;
            wo.recon_width = scan.recon_width;
            wo.first_column = first_column;
            mri::write_fastmri(sim_out, scan.kspace.view(), wo, so.coils == 1);
        }
        progress.finish(sim_out);
        if (sim_common.json) {
            nlohmann::json j = app::json_summary(kProg, "simulate", seconds_since(t0));
            j["output"] = sim_out;
            j["format"] = sim_format;
            j["kspace_shape"] = scan.kspace.shape().dims();
            j["recon_size"] = {scan.recon_height, scan.recon_width};
            j["undersampled"] = sim_mask.active();
            j["partial_fourier"] = sim_pf;
            j["acceleration"] = mask.empty() ? 1.0 : mri::achieved_acceleration(mask.view());
            app::print_json(j);
        }
    });

    // ---- recon
    auto* rec = app.add_subcommand("recon", "reconstruct a fastMRI or ISMRMRD file");
    static mri::RunOptions ro;
    static std::string method = "cg-sense";
    static MaskArgs rec_mask;
    static app::CommonOptions rec_common;
    static double lambda = 0.0;
    static std::string maps = "espirit";
    rec->add_option("input", ro.input, "input file (fastMRI or ISMRMRD HDF5)")->required();
    rec->add_option("-o,--output", ro.output, "output file (.h5)")->required();
    rec->add_option("--method", method, "zf, cg-sense, l1-wavelet or tv")->capture_default_str();
    static CLI::Option* lambda_option = rec->add_option(
        "--lambda", lambda, "regularisation weight relative to the data scale (default: cg-sense 1e-3, l1-wavelet 2e-3, tv 2e-3)");
    // --iters: with --stop discrepancy a cap (default cg-sense 30, l1-wavelet 200, tv 100).
    rec->add_option("--tolerance", ro.recon.tolerance, "solver relative stopping tolerance (0: all iterations)");
    static std::string stop = "discrepancy";
    rec->add_option("--stop", stop,
                    "iterative methods: discrepancy (stop where the misfit per measured sample reaches the noise "
                    "variance times --tau, or stops falling, or, for l1-wavelet with cycle spinning, where the "
                    "estimate stops drifting (stop reason stalled); --iters is then a cap) or iterations (run exactly "
                    "--iters)")
        ->capture_default_str();
    rec->add_option("--tau", ro.recon.discrepancy_tau,
                    "discrepancy stop: the mean of |M(A x - y)|^2 / noise variance to stop at (default: the "
                    "method's measured tau: cg-sense 0.9, l1-wavelet 0.7, tv 0.7; docs/mri.md)");
    rec->add_option("--noise-variance", ro.recon.noise_variance,
                    "noise variance E|n|^2 per k-space sample in the file's units (default: the noise pre-scan's, "
                    "else estimated from the readout margin of each slice)");
    static bool no_cycle_spinning = false;
    rec->add_option("--cycle-spinning-seed", ro.recon.cycle_spinning_seed,
                    "l1-wavelet: seed of the random wavelet shifts")->capture_default_str();
    rec->add_flag("--no-cycle-spinning", no_cycle_spinning,
                  "l1-wavelet: no random circular shift of the image before the wavelet transform per iteration");
    rec->add_option("--maps", maps, "coil maps: espirit or truth (a simulation's true sensitivities)")->capture_default_str();
    static std::string png;
    static bool no_png = false;
    rec->add_option("--png", png, "PNG previews PREFIX_sNNN.png and PREFIX_reference_sNNN.png (default: the output path "
                                  "without .h5)");
    rec->add_flag("--no-png", no_png, "do not write the PNG previews");
    static bool no_prewhiten = false;
    static std::string partial_fourier = "pocs";
    rec->add_flag("--no-prewhiten", no_prewhiten, "do not whiten the coils with the file's noise pre-scan (ISMRMRD)");
    rec->add_option("--partial-fourier", partial_fourier,
                    "partial-Fourier scans: pocs (fill the left-out part: POCS for zf, a phase-constrained model for the "
                    "iterative methods) or zero-fill")->capture_default_str();
    rec->add_option("--pocs-iters", ro.recon.pocs_iterations, "POCS iterations for partial Fourier")->capture_default_str();
    static bool no_readout_crop = false;
    rec->add_flag("--no-readout-crop", no_readout_crop,
                  "reconstruct on the full oversampled readout (default: when the mask is the same on every row, the "
                  "k-space of the centre recon-size rows is made first, and ESPIRiT and the iterations run on it)");
    rec->add_option("--coil-energy", ro.preprocess.coil_energy,
                    "iterative methods: compress the coils to the fewest virtual coils (SVD of the data) holding this "
                    "fraction of the data energy; 1: no compression (docs/mri.md)")
        ->capture_default_str();
    rec->add_option("--virtual-coils", ro.preprocess.virtual_coils,
                    "iterative methods: exactly this many virtual coils (overrides --coil-energy; 0: by energy)")
        ->capture_default_str();
    rec_mask.add(*rec);
    add_espirit_options(*rec, ro.espirit);
    app::add_common_options(*rec, rec_common, true);
    app::add_checkpoint_options(*rec, ro.checkpoint);
    rec->callback([] {
        ro.png_prefix = io::preview_prefix(ro.output, png, no_png);
        ro.prewhiten = !no_prewhiten;
        ro.preprocess.readout_crop = !no_readout_crop;
        if (partial_fourier != "pocs" && partial_fourier != "zero-fill")
            throw Error(ErrorCode::usage, "--partial-fourier: unknown value '" + partial_fourier + "'; expected pocs or zero-fill");
        ro.pocs = partial_fourier == "pocs";
        app::CheckReporter checks(kProg, rec_common);
        ro.recon.method = mri::parse_method(method);
        ro.maps = mri::parse_maps_source(maps);
        ro.recon.device = rec_common.resolved_device();
        ro.recon.iterations = rec_common.iters;
        ro.recon.stop = mri::parse_stop(stop);
        ro.recon.cycle_spinning = !no_cycle_spinning;
        // Unset: the method's default; whether the user gave --lambda decides, so that --lambda -1
        // is refused (by the library) like any other negative weight.
        if (lambda_option->count()) ro.recon.lambda = lambda;
        ro.undersample = rec_mask.active();
        if (ro.undersample) ro.mask = rec_mask.spec();
        const long iters = std::max(ro.recon.resolved_iterations(), 1);
        std::unique_ptr<app::Progress> progress;
        ro.recon.progress = [&](const ProgressInfo& p) {
            if (!progress)
                progress = std::make_unique<app::Progress>(kProg, std::string("recon ") + method, long(p.parts) * iters,
                                                           rec_common.quiet);
            if (p.iteration.iteration == 0) {
                progress->update(long(p.part) * iters);
            } else {
                std::ostringstream d;
                d << "(slice " << p.part + 1 << "/" << p.parts << ")";
                progress->update(long(p.part) * iters + p.iteration.iteration, d.str());
            }
            return true;
        };
        const mri::RunSummary s = mri::run_recon(ro);
        if (progress) progress->finish(ro.output);
        if (rec_common.json) {
            nlohmann::json j = app::json_summary(kProg, "recon", s.seconds);
            j["input"] = ro.input;
            j["output"] = ro.output;
            j["device"] = device_name(ro.recon.device);
            j["method"] = mri::method_name(ro.recon.method);
            j["iterations"] = s.iterations;
            j["stop_reason"] = s.stop_reason;
            j["stopping"] = ro.recon.method == mri::Method::zero_filled ? "none" : mri::stop_name(ro.recon.stop);
            if (s.discrepancy_tau > 0.0) j["discrepancy_tau"] = s.discrepancy_tau;
            if (s.communication.ranks > 1) j["communication"] = app::communication_json(s.communication);
            j["slice_iterations"] = s.slice_iterations;
            j["slice_stop_reasons"] = s.slice_stop_reasons;
            if (ro.recon.method == mri::Method::l1_wavelet) j["cycle_spinning"] = ro.recon.cycle_spinning;
            if (s.quality.measured()) j["quality"] = app::quality_json(s.quality);
            j["checks"] = checks.json();
            j["scan"] = header_json(s.header);
            j["mask_source"] = s.mask_source;
            j["acceleration"] = s.acceleration;
            j["maps"] = ro.recon.method == mri::Method::zero_filled ? "none" : mri::maps_source_name(ro.maps);
            j["previews"] = s.previews;
            j["prewhitened"] = s.whitened;
            j["noise_variance"] = s.noise_variance;
            j["noise_source"] = s.noise_source;
            j["partial_fourier"] = s.partial_fourier.any();
            j["readout_cropped"] = s.readout_cropped;
            j["coils"] = s.header.coils;
            j["virtual_coils"] = s.virtual_coils;
            j["coil_energy_kept"] = s.coil_energy_kept;
            j["warnings"] = checks.warning_count();
            j["noise_normalised_residual"] = s.residual >= 0.0 ? nlohmann::json(s.residual) : nlohmann::json(nullptr);
            app::print_json(j);
            return;
        }
        std::ostream& out = app::out(rec_common);
        // Against the simulation's truth, else the file's fastMRI target (/reconstruction_rss, ...).
        app::print_quality(kProg, s.quality, rec_common);
        if (ro.recon.method != mri::Method::zero_filled)
            out << kProg << ": " << s.iterations << " iterations (last slice; stopped: " << s.stop_reason << ")\n";
        if (s.residual >= 0.0)
            out << kProg << ": noise-normalised residual " << s.residual << " (1: the model explains the data "
                << "down to the noise; noise from the " << s.noise_source << ")\n";
        else
            out << kProg << ": noise-normalised residual: none ("
                << (ro.recon.method == mri::Method::zero_filled ? "zero-filled fits the samples exactly" : "no noise estimate")
                << ")\n";
        if (checks.warning_count() > 0)
            out << kProg << ": " << checks.warning_count() << " plausibility warning(s) above\n";
    });

    // ---- espirit
    auto* esp = app.add_subcommand("espirit", "estimate ESPIRiT coil sensitivities for every slice");
    static mri::EspiritRunOptions eo;
    static MaskArgs esp_mask;
    static app::CommonOptions esp_common;
    esp->add_option("input", eo.input, "input file")->required();
    esp->add_option("-o,--output", eo.output, "output file (.h5): /sensitivities, /eigenvalues")->required();
    add_espirit_options(*esp, eo.espirit);
    esp_mask.add(*esp);
    app::add_common_options(*esp, esp_common, false);
    esp->callback([] {
        eo.device = esp_common.resolved_device();
        eo.undersample = esp_mask.active();
        if (eo.undersample) eo.mask = esp_mask.spec();
        std::unique_ptr<app::Progress> progress;
        eo.progress = [&](const ProgressInfo& p) {
            if (!progress) progress = std::make_unique<app::Progress>(kProg, "espirit", long(p.parts), esp_common.quiet);
            progress->update(long(p.part));
            return true;
        };
        const mri::EspiritRunSummary s = mri::run_espirit(eo);
        if (progress) progress->finish(eo.output);
        if (esp_common.json) {
            nlohmann::json j = app::json_summary(kProg, "espirit", s.seconds);
            j["input"] = eo.input;
            j["output"] = eo.output;
            j["device"] = device_name(eo.device);
            j["scan"] = header_json(s.header);
            j["kernels_kept"] = s.kernels_kept;
            j["calibration_box"] = {s.box.rows, s.box.cols};
            app::print_json(j);
        }
    });

    // ---- info
    auto* inf = app.add_subcommand("info", "what an MRI file holds (a scan, or a reconstruction or maps lumen-mri "
                                           "wrote) and whether lumen can read it");
    static std::string info_in;
    static app::CommonOptions info_common;
    inf->add_option("input", info_in, "input file")->required();
    inf->add_flag("--json", info_common.json, "print a machine-readable summary on stdout");
    inf->add_flag("--quiet,-q", info_common.quiet, "print nothing but errors");
    inf->add_flag("--strict", info_common.strict, "treat a failed plausibility check (a warning) as an error, exit 2");
    inf->callback([] {
        const auto t0 = std::chrono::steady_clock::now();
        const bool info_json = info_common.json;
        std::ostream& out = app::out(info_common);
        // A file lumen-mri wrote: a reconstruction or coil maps.
        mri::OutputFileInfo written;
        try {
            written = mri::describe_output(info_in);
        } catch (const Error&) {
            // Not HDF5, or unreadable: the scan reader says what is wrong with it.
        }
        if (!written.kind.empty()) {
            if (info_json) {
                nlohmann::json j = app::json_summary(kProg, "info", seconds_since(t0));
                j["input"] = info_in;
                j["kind"] = written.kind;
                j["dataset"] = written.dataset;
                j["shape"] = written.shape.dims();
                nlohmann::json attrs = nlohmann::json::object();
                for (const auto& [k, v] : written.text) attrs[k] = v;
                for (const auto& [k, v] : written.numbers) attrs[k] = v;
                j["attributes"] = attrs;
                j["readable"] = true;
                app::print_json(j);
                return;
            }
            out << info_in << ": lumen-mri "
                << (written.kind == "maps" ? "coil maps (lumen-mri espirit)" : "reconstruction (lumen-mri recon)") << ", "
                << written.dataset << " " << written.shape.str() << "\n";
            for (const auto& [k, v] : written.text) out << "  " << k << ": " << v << "\n";
            for (const auto& [k, v] : written.numbers) out << "  " << k << ": " << v << "\n";
            return;
        }
        // A line per plausibility check on stderr, passed ones included.
        app::CheckReporter checks(kProg, info_common, true);
        const mri::ScanReader r = mri::ScanReader::open(info_in);
        const mri::ScanHeader& h = r.header();
        Array<float> m;
        double mask_acceleration = 0.0;
        if (h.has_mask) {
            m = r.file_mask();
            mask_acceleration = mri::achieved_acceleration(m.view());
        }
        const mri::ScanAssessment a = mri::assess_scan(r, m.view(), nullptr);
        if (info_json) {
            nlohmann::json j = app::json_summary(kProg, "info", seconds_since(t0));
            j["input"] = info_in;
            j["kind"] = "scan";
            j.update(header_json(h));
            j["readable"] = true;
            if (h.has_mask) j["mask_acceleration"] = mask_acceleration;
            j["kspace_peak"] = {a.peak_row, a.peak_column};
            j["partial_fourier"] = a.partial_fourier.any();
            j["checks"] = checks.json();
            j["warnings"] = checks.warning_count();
            app::print_json(j);
            return;
        }
        out << h.path << ": " << h.format << " " << (h.coils == 1 ? "single-coil" : "multi-coil") << " k-space, "
            << h.slices << " slice(s) x " << h.coils << " coil(s) x " << h.height << " x " << h.width << "\n"
            << "  reconstruction size " << h.recon_height << " x " << h.recon_width
            << (h.has_xml_header ? " (from the XML header)" : " (default)") << "\n"
            << "  acquired phase encodes [" << h.first_column << ", " << h.last_column << "), readout samples ["
            << h.first_row << ", " << h.last_row << ")\n";
        if (h.format == "ismrmrd")
            out << "  reversed readouts " << h.reversed_lines << ", noise pre-scan acquisitions " << h.noise_scans << "\n";
        out << "  mask: " << (h.has_mask ? h.mask_shape : std::string("none (fully sampled, or zeros mark missing samples)"))
            << "\n";
        if (h.has_mask) out << "  mask acceleration " << mask_acceleration << "\n";
        out << "  truth: " << (h.has_truth ? "yes (/lumen/truth)" : (h.target.empty() ? "none" : h.target)) << "\n"
            << "  readable by lumen: yes\n";
    });
}

}  // namespace

int main(int argc, char** argv) {
    return app::run_app(kProg, "lumen-mri: undersampled multi-coil Cartesian MRI reconstruction", argc, argv, setup);
}
