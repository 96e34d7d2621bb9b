// lumen-ct: cone-beam (and parallel-beam) CT. Subcommands simulate, recon, project, info
// (docs/ct.md). Thin: parsing, one library call, reporting.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>
#include <utility>
#include <vector>

#include "apps/common/app_common.hpp"
#include "lumen/core/error.hpp"
#include "lumen/ct/run.hpp"
#include "lumen/io/png.hpp"

using namespace lumen;

namespace {

const char* kProg = "lumen-ct";

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// For things that exist only on the command line (the text of --volume, --centre, --rotation).
void require_usage(bool cond, const std::string& message) {
    if (!cond) throw Error(ErrorCode::usage, message);
}

// The option field each flag sets (docs/errors.md): run_app reports an invalid option by its flag.
const std::vector<std::pair<std::string, std::string>>& field_flags() {
    static const std::vector<std::pair<std::string, std::string>> table = {
        {"ReconOptions.method", "--method"},
        {"ReconOptions.iterations", "--iters"},
        {"FdkOptions.window", "--filter"},
        {"FdkOptions.cutoff", "--cutoff"},
        {"FdkOptions.short_scan", "--short-scan"},
        {"ReconOptions.min_transmission", "--clamp-transmission"},
        {"ReconOptions.sirt_relaxation", "--relaxation"},
        {"ReconOptions.cgls_restart", "--restart"},
        {"ReconOptions.tv_weight", "--tv-weight"},
        {"ReconOptions.tv_lambda", "--lambda"},
        {"ReconOptions.tv_inner", "--inner"},
        {"ReconOptions.init", "--init"},
        {"ReconOptions.stop", "--stop"},
        {"ReconOptions.discrepancy_tau", "--tau"},
        {"ReconOptions.model_error", "--model-error"},
        {"ReconOptions.objective", "--objective"},
        {"ReconOptions.nonlinear_tv", "--nonlinear-tv"},
        {"ReadOptions.geometry_file", "--geometry"},
        {"ReadOptions.geometry.type", "--beam"},
        {"ReadOptions.geometry.du_mm", "--du-mm (or --pixel-mm)"},
        {"ReadOptions.geometry.dv_mm", "--dv-mm (or --pixel-mm)"},
        {"ReadOptions.geometry.dso_mm", "--dso-mm"},
        {"ReadOptions.geometry.dsd_mm", "--dsd-mm"},
        {"ReadOptions.geometry.voxel_mm", "--voxel-mm"},
        {"ReadOptions.geometry.i0", "--i0"},
        {"ReadOptions.geometry.nx", "--volume"},
        {"ReadOptions.geometry.ny", "--volume"},
        {"ReadOptions.geometry.nz", "--volume"},
        {"ReadOptions.geometry", "the geometry options (--beam, --pixel-mm, --dso-mm, --dsd-mm, --volume, --voxel-mm)"},
        {"ReadOptions.theta_units", "--theta-units"},
        {"ReadOptions.clockwise", "--rotation cw"},
        {"ReadOptions.flip_u", "--flip-u"},
        {"ReadOptions.centre_column", "--centre"},
        {"ReadOptions.estimate_centre", "--centre auto"},
        {"SimulationOptions.size", "--size"},
        {"SimulationOptions.voxel_mm", "--voxel"},
        {"SimulationOptions.views", "--views"},
        {"SimulationOptions.arc_deg", "--arc"},
        {"SimulationOptions.dso_mm", "--dso"},
        {"SimulationOptions.dsd_mm", "--dsd"},
        {"SimulationOptions.du_mm", "--du"},
        {"SimulationOptions.nu", "--nu"},
        {"SimulationOptions.nv", "--nv"},
        {"SimulationOptions.phantom", "--phantom"},
        {"SimulationOptions.mu_scale", "--mu-scale"},
        {"SimulationOptions.metal_mu", "--metal-mu"},
        {"SimulationOptions.i0", "--i0"},
        {"SimulationOptions.dark", "--dark"},
        {"SimulationOptions.flat_frames", "--flat-frames"},
        {"SimulationOptions.dark_frames", "--dark-frames"},
        {"SimulationOptions.subsample", "--subsample"},
        {"SimulationOptions.supersample", "--supersample"},
        {"ProjectOptions.i0", "--i0"},
        {"ProjectOptions.dataset", "--dataset"},
        {"RunOptions.output", "-o"},
        {"ProjectOptions.output", "-o"},
    };
    return table;
}

// Library messages also mention fields in passing (a hint: "clamp them
// (ReconOptions.min_transmission)"); on the command line they read as the flags. The leading
// "FIELD: " of an invalid option is left to run_app.
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json geometry_json(const ct::Geometry& g) {
    return {{"type", ct::beam_type_name(g.type)},
            {"dso_mm", g.dso},
            {"dsd_mm", g.dsd},
            {"detector", {g.nv, g.nu}},
            {"pixel_mm", {g.dv, g.du}},
            {"offset_mm", {g.offset_v, g.offset_u}},
            {"views", g.n_angles()},
            {"coverage_deg", ct::angular_coverage(g.angles) * 180.0 / kPi},
            {"volume", {g.volume.nz, g.volume.ny, g.volume.nx}},
            {"voxel_mm", {g.volume.voxel_z, g.volume.voxel_y, g.volume.voxel_x}}};
}

// What a scan from another tool may need: its geometry, theta's units, the rotation direction,
// mirrored detector axes and the rotation axis (docs/ct.md, "Scans from other tools").
struct ScanCli {
    std::string geometry_file, beam, theta_units, rotation = "ccw", centre = "file", volume;
    double pixel_mm = 0, du_mm = 0, dv_mm = 0, dso_mm = 0, dsd_mm = 0, voxel_mm = 0, i0 = 0;
    bool flip_u = false, flip_v = false;

    ct::ReadOptions read_options() const {
        ct::ReadOptions r;
        r.geometry_file = geometry_file;
        // 0: not given. The values are checked where they are read (the geometry's validation).
        auto set = [&](const char* name, double v) {
            if (v == 0) return;
            std::ostringstream t;
            t.precision(17);
            t << v;
            r.geometry[name] = t.str();
        };
        if (!beam.empty()) r.geometry["type"] = ct::beam_type_name(ct::parse_beam_type(beam, "--beam"));
        set("du_mm", pixel_mm);
        set("dv_mm", pixel_mm);
        set("du_mm", du_mm);
        set("dv_mm", dv_mm);
        set("dso_mm", dso_mm);
        set("dsd_mm", dsd_mm);
        set("voxel_mm", voxel_mm);
        set("i0", i0);
        if (!volume.empty()) {
            std::vector<std::string> parts;
            std::stringstream in(volume);
            for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
            require_usage(parts.size() == 1 || parts.size() == 3,
                          "--volume is '" + volume + "', expected N (N x N x N) or NX,NY,NZ");
            const char* names[] = {"nx", "ny", "nz"};
            for (int k = 0; k < 3; ++k) r.geometry[names[k]] = parts[parts.size() == 1 ? 0 : std::size_t(k)];
        }
        r.theta_units = ct::parse_theta_units(theta_units);
        require_usage(rotation == "ccw" || rotation == "cw", "--rotation is '" + rotation + "', expected ccw or cw");
        r.clockwise = rotation == "cw";
        r.flip_u = flip_u;
        r.flip_v = flip_v;
        if (centre == "auto") {
            r.estimate_centre = true;
        } else if (centre != "file") {
            char* end = nullptr;
            r.centre_column = std::strtod(centre.c_str(), &end);
            require_usage(!centre.empty() && end && *end == '\0' && std::isfinite(r.centre_column),
                          "--centre is '" + centre + "', expected a detector column, auto or file");
        }
        return r;
    }
};

void add_scan_options(CLI::App& cmd, ScanCli& s) {
    cmd.add_option("--geometry", s.geometry_file,
                   "the geometry for a file without /lumen/geometry: an HDF5 file with /lumen/geometry, or text with "
                   "'name = value' lines of the same names (type, du_mm, dv_mm, dso_mm, dsd_mm, nx, ny, nz, voxel_mm, "
                   "offset_u_mm, ...)");
    cmd.add_option("--beam", s.beam, "geometry: cone or parallel (overrides the file's)");
    cmd.add_option("--pixel-mm", s.pixel_mm, "geometry: detector pixel pitch in mm (du and dv)");
    cmd.add_option("--du-mm", s.du_mm, "geometry: detector column pitch in mm");
    cmd.add_option("--dv-mm", s.dv_mm, "geometry: detector row pitch in mm");
    cmd.add_option("--dso-mm", s.dso_mm, "geometry (cone): source to rotation axis in mm");
    cmd.add_option("--dsd-mm", s.dsd_mm, "geometry (cone): source to detector in mm");
    cmd.add_option("--volume", s.volume, "geometry: volume size N or NX,NY,NZ (default without /lumen/geometry: the "
                                         "detector's field of view, nu x nu x nv)");
    cmd.add_option("--voxel-mm", s.voxel_mm, "geometry: voxel size in mm (default without /lumen/geometry: the "
                                             "pixel pitch at the axis)");
    cmd.add_option("--i0", s.i0, "flat level when the file has no /exchange/data_white");
    cmd.add_option("--theta-units", s.theta_units, "deg or rad: overrides /exchange/theta@units (default: the "
                                                   "attribute; without it degrees, or radians when the angles span "
                                                   "about pi or 2 pi, with a warning)");
    cmd.add_option("--rotation", s.rotation, "ccw (lumen's: counter-clockwise seen from +z) or cw (the file's angles "
                                             "turn the other way)")
        ->capture_default_str();
    cmd.add_flag("--flip-u", s.flip_u, "the file's detector columns run against lumen's u: mirror them");
    cmd.add_flag("--flip-v", s.flip_v, "the file's detector rows run against lumen's v (upside down): mirror them");
    cmd.add_option("--centre,--center", s.centre,
                   "rotation axis: file (the geometry's offset_u_mm, estimated from opposing views when absent), auto "
                   "(always estimate) or the detector column where the axis projects (0-based in the file's "
                   "columns, as TomoPy's center)")
        ->capture_default_str();
}

nlohmann::json axis_json(const ct::AxisReport& a) {
    nlohmann::json j = {{"column", a.column},
                        {"offset_u_mm", a.offset_u},
                        {"source", a.source},
                        {"mismatch", a.used.mismatch},
                        {"chi2", a.used.chi2},
                        {"rays", a.used.pairs}};
    if (a.best.pairs > 0) j["best_column"] = a.best.column;
    if (a.alternative_mismatch >= 0) j["reversed_rotation_mismatch"] = a.alternative_mismatch;
    return j;
}

void setup(CLI::App& app) {
    for (const auto& [field, flag] : field_flags()) app::flag_for_field(field, flag);

    // ---- simulate
    auto* sim = app.add_subcommand("simulate", "write a simulated scan (DXchange + geometry) with its ground truth");
    static std::string sim_out, sim_type = "cone", sim_phantom = "shepp-logan";
    static ct::SimulationOptions so;
    static app::CommonOptions sim_common;
    static bool noiseless = false, voxel_model = false;
    sim->add_option("output", sim_out, "output file (.h5)")->required();
    sim->add_option("--size", so.size, "volume n x n x n voxels (detector n x n unless --nu/--nv)")->capture_default_str();
    sim->add_option("--voxel", so.voxel_mm, "voxel size in mm")->capture_default_str();
    sim->add_option("--views", so.views, "number of projections")->capture_default_str();
    sim->add_option("--arc", so.arc_deg, "angular range in degrees (360: full circle; less: short scan)")->capture_default_str();
    sim->add_option("--beam", sim_type, "cone or parallel")->capture_default_str();
    sim->add_option("--dso", so.dso_mm, "source to rotation axis, mm (default 4 n voxel)");
    sim->add_option("--dsd", so.dsd_mm, "source to detector, mm (default 2 dso)");
    sim->add_option("--nu", so.nu, "detector columns (default n)");
    sim->add_option("--nv", so.nv, "detector rows (default n)");
    sim->add_option("--du", so.du_mm, "detector pitch in mm (default: covers the inscribed cylinder)");
    sim->add_option("--phantom", sim_phantom, "shepp-logan or metal (Shepp-Logan with two dense inserts)")->capture_default_str();
    sim->add_option("--mu-scale", so.mu_scale, "attenuation per mm of the phantom's table value 1")->capture_default_str();
    sim->add_option("--metal-mu", so.metal_mu, "attenuation per mm of the metal inserts")->capture_default_str();
    sim->add_option("--i0", so.i0, "unattenuated counts per detector pixel")->capture_default_str();
    sim->add_option("--dark", so.dark, "dark-field counts per pixel")->capture_default_str();
    sim->add_option("--flat-frames", so.flat_frames, "flat-field frames")->capture_default_str();
    sim->add_option("--dark-frames", so.dark_frames, "dark-field frames")->capture_default_str();
    sim->add_flag("--noiseless", noiseless, "expected counts, no Poisson noise");
    sim->add_option("--subsample", so.subsample, "sub-rays per detector pixel side")->capture_default_str();
    sim->add_option("--supersample", so.supersample, "truth sub-samples per voxel side")->capture_default_str();
    sim->add_flag("--voxel-model", voxel_model, "project the voxelised truth with lumen's projector (inverse crime) "
                                                "instead of exact line integrals");
    sim->add_option("--seed", so.seed, "noise seed")->capture_default_str();
    app::add_common_options(*sim, sim_common, false);
    sim->callback([] {
        const auto t0 = std::chrono::steady_clock::now();
        so.type = ct::parse_beam_type(sim_type, "--beam");
        so.phantom = ct::parse_phantom(sim_phantom);
        so.noise = !noiseless;
        so.analytic = !voxel_model;
        const Device device = sim_common.resolved_device();
        app::Progress progress(kProg, "simulate", 1, sim_common.quiet);
        const ct::Scan s = ct::run_simulate(sim_out, so, device);
        progress.finish(sim_out);
        if (sim_common.json) {
            nlohmann::json j = app::json_summary(kProg, "simulate", seconds_since(t0));
            j["output"] = sim_out;
            j["device"] = device_name(device);
            j["phantom"] = ct::phantom_name(so.phantom);
            j["i0"] = so.i0;
            j["noise"] = so.noise ? "poisson" : "none";
            j["geometry"] = geometry_json(s.geometry);
            app::print_json(j);
        } else {
            app::out(sim_common) << kProg << ": wrote " << sim_out << " (" << s.geometry.describe() << ")\n";
        }
    });

    // ---- recon
    auto* rec = app.add_subcommand("recon", "reconstruct a scan: fdk, sirt, cgls, tv or nonlinear");
    static ct::RunOptions ro;
    static std::string method = "fdk", filter = "ram-lak", short_scan = "auto", init = "fdk";
    static app::CommonOptions rec_common;
    static bool no_png = false;
    static ScanCli rec_scan;
    rec->add_option("input", ro.input, "input scan (.h5: DXchange + /lumen/geometry)")->required();
    rec->add_option("-o,--output", ro.output, "output file (.h5)")->required();
    rec->add_option("--method", method, "fdk, sirt, cgls, tv or nonlinear")->capture_default_str();
    rec->add_option("--filter", filter, "fdk: ram-lak, shepp-logan, cosine, hamming or hann")->capture_default_str();
    rec->add_option("--cutoff", ro.recon.fdk.cutoff, "fdk: filter cutoff as a fraction of Nyquist")->capture_default_str();
    rec->add_option("--short-scan", short_scan, "fdk: auto (Parker weights unless a full circle), parker or off")
        ->capture_default_str();
    rec->add_option("--clamp-transmission", ro.recon.min_transmission,
                    "clamp normalised intensities to at least this before the log (default: non-positive values are "
                    "an error)");
    rec->add_option("--relaxation", ro.recon.sirt_relaxation, "sirt: relaxation in (0, 2)")->capture_default_str();
    rec->add_option("--restart", ro.recon.cgls_restart, "cgls: iterations between projections onto x >= 0 (0: none)")
        ->capture_default_str();
    rec->add_option("--tv-weight", ro.recon.tv_weight, "tv: weight relative to max |A^T b|")->capture_default_str();
    rec->add_option("--lambda", ro.recon.tv_lambda, "tv: absolute weight (overrides --tv-weight)");
    rec->add_option("--inner", ro.recon.tv_inner, "tv: CG iterations per ADMM step")->capture_default_str();
    rec->add_option("--init", init, "nonlinear: start from fdk or zero")->capture_default_str();
    static std::string stop = "discrepancy", objective = "least-squares";
    rec->add_option("--stop", stop,
                    "iterative methods: discrepancy (stop where the misfit reaches what the counts' noise explains; "
                    "--iters is then a cap) or iterations (run exactly --iters)")
        ->capture_default_str();
    rec->add_option("--tau", ro.recon.discrepancy_tau,
                    "discrepancy rule: stop once the mean of (A x + log t)^2 / Var(-log t) is at most this (default: "
                    "0.9, tv 1.0)");
    rec->add_option("--model-error", ro.recon.model_error,
                    "discrepancy rule: the model's error per ray in line-integral units, added to the counts' noise")
        ->capture_default_str();
    rec->add_option("--objective", objective,
                    "nonlinear: least-squares (0.5 ||exp(-Ax) - t||^2) or poisson (the counts' log-likelihood)")
        ->capture_default_str();
    rec->add_option("--nonlinear-tv", ro.recon.nonlinear_tv, "nonlinear: smoothed-TV weight (0: none)")->capture_default_str();
    static std::string png;
    rec->add_option("--png", png, "PNG previews of the central slices: PREFIX_{axial,coronal,sagittal}.png "
                                  "(default: the output path without .h5)");
    rec->add_flag("--no-png", no_png, "do not write the PNG previews");
    app::add_common_options(*rec, rec_common, true);
    app::add_checkpoint_options(*rec, ro.checkpoint);
    add_scan_options(*rec, rec_scan);
    rec->callback([] {
        const auto t0 = std::chrono::steady_clock::now();
        ro.read = rec_scan.read_options();
        ro.recon.method = ct::parse_method(method);
        ro.recon.fdk.window = ct::parse_filter_window(filter);
        ro.recon.fdk.short_scan = ct::parse_short_scan(short_scan);
        ro.recon.stop = ct::parse_stop(stop);
        ro.recon.objective = ct::parse_objective(objective);
        ro.recon.init = ct::parse_init(init);
        ro.recon.device = rec_common.resolved_device();
        ro.recon.iterations = rec_common.iters;
        ro.recon.validate();  // before the file is read: a typo costs nothing
        ro.png_prefix = io::preview_prefix(ro.output, png, no_png);
        const int iters = rec_common.iters > 0 ? rec_common.iters : ct::default_iterations(ro.recon.method, ro.recon.objective);
        app::Progress progress(kProg, "recon " + method, std::max(iters, 1), rec_common.quiet);
        ro.recon.progress = [&](const ProgressInfo& p) {
            std::ostringstream d;
            d << "(objective " << p.iteration.objective;
            if (std::isfinite(p.iteration.misfit)) d << ", misfit " << p.iteration.misfit;
            d << ")";
            progress.update(p.iteration.iteration, d.str());
            return true;
        };
        app::CheckReporter checks(kProg, rec_common);
        const ct::RunSummary s = ct::run_recon(ro);
        std::ostringstream fin;
        if (ro.recon.method != ct::Method::fdk) fin << s.solver.iterations << " iterations (" << s.solver.stop_reason << ")";
        if (s.has_truth) fin << (fin.str().empty() ? "" : ", ") << "PSNR " << s.quality.psnr_db << " dB";
        progress.finish(fin.str());
        if (rec_common.json) {
            nlohmann::json params = nlohmann::json::object();
            for (const auto& [k, v] : s.parameters) params[k] = v;
            nlohmann::json j = app::json_summary(kProg, "recon", seconds_since(t0));
            j["input"] = ro.input;
            j["output"] = ro.output;
            j["device"] = device_name(ro.recon.device);
            j["method"] = ct::method_name(ro.recon.method);
            j["iterations"] = s.solver.iterations;
            j["stop_reason"] = s.solver.stop_reason;
            j["checks"] = checks.json();
            if (s.has_truth) j["quality"] = app::quality_json(s.quality);
            j["has_truth"] = s.has_truth;
            j["reconstruction_s"] = s.seconds;
            j["volume"] = {s.geometry.volume.nz, s.geometry.volume.ny, s.geometry.volume.nx};
            j["previews"] = s.previews;
            j["parameters"] = params;
            j["rotation_centre"] = axis_json(s.axis);
            j["noise_normalised_residual"] = number_or_null(s.residual);
            j["residual_rays"] = s.residual_rays;
            if (!s.solver.history.empty()) {
                j["objective"] = number_or_null(s.solver.history.back().objective);
                j["misfit"] = number_or_null(s.solver.history.back().misfit);
            }
            if (s.solver.discrepancy_tau > 0) j["discrepancy_tau"] = s.solver.discrepancy_tau;
            {
                // What each rank read of the scan (a distributed FDK reads only its slab's rows).
                nlohmann::json rows = nlohmann::json::array();
                for (const auto& r : s.rows_read) rows.push_back({r.first, r.count});
                j["read"] = {{"bytes_per_rank", s.bytes_read}, {"rows_per_rank", rows}, {"scan_bytes", s.scan_bytes}};
            }
            if (s.communication.ranks > 1) {
                j["communication"] = app::communication_json(s.communication);
                // This rank's reconstruction time outside the collectives (as lumen-ptycho reports it).
                j["communication"]["compute_s"] =
                    s.seconds - s.communication.communication_s - s.communication.wait_s;
            }
            app::print_json(j);
        } else {
            std::ostream& out = app::out(rec_common);
            out << kProg << ": " << method << " of " << s.geometry.n_angles() << " views into " << s.geometry.volume.nx
                << "x" << s.geometry.volume.ny << "x" << s.geometry.volume.nz << " in " << s.seconds << " s";
            if (ro.recon.method != ct::Method::fdk)
                out << " (" << s.solver.iterations << " iterations, stopped: " << s.solver.stop_reason << ")";
            out << "\n";
            out << kProg << ": rotation axis at detector column " << s.axis.column << " (" << s.axis.source
                << "); noise-normalised residual " << s.residual << " (1: fits the counts to their noise)\n";
            app::print_quality(kProg, s.quality, rec_common);
            out << kProg << ": wrote " << ro.output;
            for (const std::string& p : s.previews) out << ", " << p;
            out << "\n";
        }
    });

    // ---- project
    auto* prj = app.add_subcommand("project", "forward-project a volume into a scan (intensities i0 exp(-A x))");
    static ct::ProjectOptions po;
    static app::CommonOptions prj_common;
    prj->add_option("input", po.input, "file holding the volume (a recon output or a simulated scan)")->required();
    prj->add_option("-o,--output", po.output, "output scan (.h5)")->required();
    prj->add_option("--geometry", po.geometry_file, "file whose /lumen/geometry and /exchange/theta to use (default: input)");
    prj->add_option("--dataset", po.dataset, "the volume dataset (default: /volume, else /lumen/truth/volume)");
    prj->add_option("--i0", po.i0, "unattenuated counts")->capture_default_str();
    prj->add_flag("--poisson", po.poisson, "Poisson noise on the counts");
    prj->add_option("--seed", po.seed, "noise seed")->capture_default_str();
    app::add_common_options(*prj, prj_common, false);
    prj->callback([] {
        const auto t0 = std::chrono::steady_clock::now();
        po.device = prj_common.resolved_device();
        app::Progress progress(kProg, "project", 1, prj_common.quiet);
        const ct::Scan s = ct::run_project(po);
        progress.finish(po.output);
        if (prj_common.json) {
            nlohmann::json j = app::json_summary(kProg, "project", seconds_since(t0));
            j["input"] = po.input;
            j["output"] = po.output;
            j["device"] = device_name(po.device);
            j["noise"] = po.poisson ? "poisson" : "none";
            j["geometry"] = geometry_json(s.geometry);
            app::print_json(j);
        } else {
            app::out(prj_common) << kProg << ": wrote " << po.output << " (" << s.geometry.describe() << ")\n";
        }
    });

    // ---- info
    auto* inf = app.add_subcommand("info", "say what a CT file holds and whether lumen can read it");
    static std::string info_in;
    static app::CommonOptions info_common;
    static ScanCli info_scan;
    inf->add_option("input", info_in, "a scan or a reconstruction (.h5)")->required();
    inf->add_flag("--json", info_common.json, "print a machine-readable summary on stdout");
    inf->add_flag("--quiet,-q", info_common.quiet, "print nothing but errors (and --json)");
    inf->add_flag("--strict", info_common.strict, "treat a failed plausibility check (a warning) as an error, exit 2");
    add_scan_options(*inf, info_scan);
    inf->callback([] {
        const auto t0 = std::chrono::steady_clock::now();
        // A line per plausibility check on stderr, passed or not.
        app::CheckReporter checks(kProg, info_common, true);
        const ct::FileInfo f = ct::describe_file(info_in, info_scan.read_options());
        if (!info_common.json) {
            app::out(info_common) << app::with_flags(f.text());
            return;
        }
        nlohmann::json j = app::json_summary(kProg, "info", seconds_since(t0));
        j["input"] = info_in;
        j["readable"] = true;
        if (f.kind == ct::FileKind::reconstruction) {
            const ct::VolumeInfo& v = f.volume;
            nlohmann::json attributes = nlohmann::json::object();
            for (const auto& [k, val] : v.attributes) attributes[k] = val;
            j["kind"] = "reconstruction";
            j["geometry"] = geometry_json(v.geometry);
            j["volume_range"] = {v.min, v.max};
            j["history_iterations"] = v.history_length;
            j["attributes"] = attributes;
            if (v.quality.measured()) j["quality"] = app::quality_json(v.quality);
        } else {
            const ct::ScanInfo& i = f.scan;
            nlohmann::json conventions = nlohmann::json::object();
            for (const auto& [k, val] : i.conventions) conventions[k] = val;
            j["kind"] = "scan";
            j["checks"] = checks.json();
            j["geometry"] = geometry_json(i.geometry);
            j["white_frames"] = i.white_frames;
            j["dark_frames"] = i.dark_frames;
            j["has_truth"] = i.has_truth;
            j["data_range"] = {i.data_min, i.data_max};
            j["transmission_range"] = {i.transmission_min, i.transmission_max};
            j["non_positive_transmission"] = i.non_positive;
            j["rotation_centre"] = axis_json(i.axis);
            j["conventions"] = conventions;
        }
        app::print_json(j);
    });
}

}  // namespace

int main(int argc, char** argv) {
    return app::run_app(kProg, "lumen-ct: cone-beam CT (FDK, SIRT, CGLS, TV, nonlinear Beer-Lambert)", argc, argv,
                        setup);
}
