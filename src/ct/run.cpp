// lumen-ct's subcommands as library calls (include/lumen/ct/run.hpp).
#include "lumen/ct/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <sstream>

#include "kernels/ct/elementwise.hpp"
#include "lumen/core/checks.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/ct/io.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/io/hdf5.hpp"
#include "src/executor.hpp"
#include "src/poisson.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

// Above this the model does not fit the counts: a wrong geometry, an axis off by a pixel or more,
// or data that are not photon counts. Measured (docs/ct.md): FDK of simulated scans 6.5 (the voxel
// model against exact line integrals at 1e5 counts), the TomoPy tooth 8.7 with the axis found and
// 64 with it in the middle; a simulated clockwise scan read as counter-clockwise 18.5 (which
// ct.opposing_views catches). Well fitting reconstructions stay above 1 when the counts are high.
constexpr double k_residual_warn = 25.0;

void report_residual(double residual, index_t rays) {
    const std::string text = "noise-normalised residual " + detail::num(residual) + " over " + std::to_string(rays) +
                             " rays (1: the reconstruction explains the counts to their Poisson noise)";
    if (rays == 0) report_check("ct.residual", true, "not measured: no ray has counts above the dark level");
    else if (residual <= k_residual_warn) report_check("ct.residual", true, text);
    else
        warn("ct.residual", text + "; the model does not fit the data: check the geometry, the rotation axis "
                                   "(ReadOptions.centre_column), theta's units and the rotation direction, or the data "
                                   "are not counts");
}

// Iterative methods hold a few volumes and projection stacks of float at once; a geometry this
// machine cannot hold is refused (by recon and info alike) before the first of them is allocated.
void require_recon_memory(const Scan& scan, const std::string& path) {
    const Geometry& g = scan.geometry;
    const double voxels = double(g.volume.nx) * double(g.volume.ny) * double(g.volume.nz);
    const double pixels = double(g.n_angles()) * double(g.nv) * double(g.nu);
    io::require_memory(4.0 * (4.0 * voxels + 3.0 * pixels),
                       path + ": the volume of /lumen/geometry or the geometry options (nx " + std::to_string(g.volume.nx) + ", ny " +
                           std::to_string(g.volume.ny) + ", nz " + std::to_string(g.volume.nz) +
                           ") with /exchange/data " + scan.data.shape().str());
}

// The residual with the scan's normalised intensities on the host already computed, over the rays
// of detector rows `own` (count < 0: every row the scan holds) of every view. In a distributed run
// each rank takes its block of views (own: all rows) or its own rows (a distributed FDK that read
// only some rows: the ranks' own rows partition the detector), and the two sums are summed over the
// ranks.
double residual_of(const Scan& scan, const Array<float>& t, View<const float> volume, Device device, index_t* rays,
                   const Communicator& ranks = single_rank(), CommunicationStats* stats = nullptr,
                   DetectorRows own = {0, -1}) {
    const Geometry& g = scan.geometry;
    const bool by_rows = own.count >= 0;
    if (!by_rows) own = {scan.row_first, scan.rows()};
    require(own.count == 0 || (own.first >= scan.row_first && own.end() <= scan.row_first + scan.rows()),
            "CT residual: rows [" + std::to_string(own.first) + ", " + std::to_string(own.end()) + ") were not read");
    const auto mine = by_rows ? RankBlock{0, g.n_angles()} : block_of(g.n_angles(), ranks.rank(), ranks.size());
    const index_t held = scan.rows(), rows = own.count, n_rays = mine.size() * rows * g.nu;
    double sums[2] = {0.0, 0.0};  // sum of (A x + log t)^2 / var, rays counted
    if (n_rays > 0) {
        const Array<float> var_held = line_integral_variance(scan);
        // This rank's rays, [views][rows][nu], out of the held [n_angles][held][nu].
        Array<float> b(Shape{mine.size(), rows, g.nu}), var(b.shape()), tt(b.shape());
        for (index_t v = 0; v < mine.size(); ++v)
            for (index_t r = 0; r < rows; ++r)
                for (index_t j = 0; j < g.nu; ++j) {
                    const index_t from = ((mine.begin + v) * held + own.first - scan.row_first + r) * g.nu + j;
                    const index_t to = (v * rows + r) * g.nu + j;
                    tt[to] = t[from];
                    var[to] = var_held[from];
                    b[to] = t[from] > 0.0f ? -std::log(t[from]) : 0.0f;
                }
        // The rays of these views and rows: the same detector with only these rows (their centres
        // where the whole detector has them).
        Geometry part = g;
        part.angles.assign(g.angles.begin() + mine.begin, g.angles.begin() + mine.end);
        part.nv = rows;
        part.offset_v = g.offset_v + (double(own.first) + 0.5 * double(rows - 1) - 0.5 * double(g.nv - 1)) * g.dv;
        Array<float> x = Array<float>::copy_of(volume, device);
        Array<float> ax(part.projection_shape(), device);
        Projector(part, device).apply(x, ax);
        const Array<float> ax_host = ax.to(Device::cpu);
        sums[0] = detail::reduce<double>(Device::cpu, n_rays,
                                         kern::ct::NoiseWeightedResidualF{ax_host.data(), b.data(), var.data()});
        for (index_t i = 0; i < n_rays; ++i) sums[1] += (var[i] > 0.0f && std::isfinite(var[i]) && tt[i] > 0.0f) ? 1.0 : 0.0;
    }
    if (ranks.distributed()) {
        const auto t0 = std::chrono::steady_clock::now();
        ranks.sum(sums, 2);
        if (stats) {
            stats->communication_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            stats->bytes += sizeof(sums);
        }
    }
    const index_t n = index_t(sums[1]);
    if (rays) *rays = n;
    return n > 0 ? sums[0] / double(n) : 0.0;
}

// What a distributed FDK of a cone beam reads: this rank's rows (`read`), of which `own` are its
// share of the residual's rays. Slab rows S_r = fdk_slab_rows; the own rows partition the detector:
// rank r (with a slab) owns [S_r.first, the next rank's S.first), rank 0 from row 0, the last rank
// with a slab to the last row, ranks without a slab none; read = the hull of S_r and own (a rank
// without either: rows [0, 2)).
// Inactive (every rank reads every row) on one rank, for the other methods, and for a parallel
// beam (its axis check compares 16 rows spread over the detector).
struct FdkRowsPlan {
    bool active = false;
    DetectorRows read, own;
};

FdkRowsPlan fdk_rows_plan(const RunOptions& o, const Communicator& ranks) {
    FdkRowsPlan plan;
    if (!ranks.distributed() || o.recon.method != Method::fdk) return plan;
    Geometry g;
    {
        const ScopedCheckSink quiet([](const CheckResult&) {});  // read_scan reports them
        g = read_scan_geometry(o.input, o.read);
    }
    if (g.type != BeamType::cone) return plan;
    const int n = ranks.size(), me = ranks.rank();
    std::vector<index_t> start(std::size_t(n) + 1, g.nv);  // own rows of rank r: [start[r], start[r + 1])
    std::vector<DetectorRows> slab(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
        slab[std::size_t(r)] = fdk_slab_rows(g, r, n);
        const auto z = fdk_slab(g.volume.nz, r, n);
        start[std::size_t(r)] = z.first < z.second ? (r == 0 ? 0 : slab[std::size_t(r)].first) : g.nv;
    }
    for (int r = 1; r <= n; ++r) start[std::size_t(r)] = std::max(start[std::size_t(r)], start[std::size_t(r - 1)]);
    plan.own = {start[std::size_t(me)], start[std::size_t(me) + 1] - start[std::size_t(me)]};
    const DetectorRows& mine = slab[std::size_t(me)];
    index_t lo = plan.own.count > 0 ? plan.own.first : g.nv, hi = plan.own.count > 0 ? plan.own.end() : 0;
    if (mine.count > 0) {
        lo = std::min(lo, mine.first);
        hi = std::max(hi, mine.end());
    }
    // A rank without a slab (more ranks than groups of 8 slices) reads the first row pair only:
    // enough for the flat and dark fields to say what they are; it owns no residual rows.
    if (hi <= lo) {
        lo = 0;
        hi = std::min<index_t>(2, g.nv);
    }
    plan.read = {lo, hi - lo};
    plan.active = true;
    return plan;
}

}  // namespace

double noise_normalised_residual(const Scan& scan, View<const float> volume, Device device, index_t* rays) {
    return residual_of(scan, transmission(scan, Device::cpu), volume, device, rays);
}

RunSummary run_recon(const RunOptions& o) {
    require_option(!o.input.empty(), "RunOptions.input", "no input file given");
    require_option(!o.output.empty(), "RunOptions.output", "no output file given");
    o.recon.validate();
    io::require_distinct_paths(o.input, o.output);
    // Distributed runs (docs/scaling.md): every rank reads the scan and finds the axis alike, the
    // reconstruction is shared (ReconOptions::ranks), rank 0 writes. Checkpoints hold one process's
    // state.
    const Communicator& ranks = world();
    require_option(!ranks.distributed() || !o.checkpoint.enabled(), "CheckpointOptions.path",
                   "a distributed run (" + std::to_string(ranks.size()) +
                       " MPI ranks) does not checkpoint; run without checkpoints, or on one rank");
    // Checkpoints (issue #10): checked against the input and options before any work.
    io::RunCheckpoint checkpoint(o.checkpoint, "lumen-ct recon", o.input, o.output, checkpoint_options(o));
    RunSummary s;
    // A distributed FDK of a cone beam reads only rows: those its slab projects to and its share of
    // the residual's (fdk_rows_plan), and, apart, those the axis check compares (axis_rows).
    const FdkRowsPlan plan = fdk_rows_plan(o, ranks);
    ReadOptions read = o.read;
    if (plan.active) {
        read.row_first = plan.read.first;
        read.rows = plan.read.count;
    }
    Scan scan = read_scan(o.input, read);
    require_recon_memory(scan, o.input);
    // The normalised intensities on the host serve the axis search, the reconstruction (in place
    // on the CPU) and the residual.
    const Array<float> t_host = transmission(scan, Device::cpu);
    double bytes_read = 4.0 * double(scan.data.size() + scan.white.size() + scan.dark.size());
    if (plan.active) {
        // The axis rows, read again apart (a few rows; their checks were reported by the read above).
        ReadOptions axis_read = o.read;
        const DetectorRows axis = axis_rows(scan.geometry);
        axis_read.row_first = axis.first;
        axis_read.rows = axis.count;
        axis_read.truth = false;
        Scan axis_scan;
        {
            const ScopedCheckSink quiet([](const CheckResult&) {});
            axis_scan = read_scan(o.input, axis_read);
        }
        bytes_read += 4.0 * double(axis_scan.data.size() + axis_scan.white.size() + axis_scan.dark.size());
        s.axis = resolve_axis(axis_scan, transmission(axis_scan, Device::cpu));
        scan.geometry.offset_u = axis_scan.geometry.offset_u;
    } else {
        s.axis = resolve_axis(scan, t_host);
    }
    ReconOptions recon = o.recon;
    recon.checkpoint = checkpoint.hook();
    recon.row_first = scan.row_first;
    s.ranks = ranks.size();
    if (ranks.distributed()) {
        recon.ranks = &ranks;
        recon.communication = &s.communication;
    }
    ReconResult r = recon.device == Device::cpu ? reconstruct(scan, t_host.view(), recon) : reconstruct(scan, recon);
    checkpoint.after(r.solver.stop_reason, "recon " + o.input + " -o " + o.output + " --resume " + checkpoint.path() +
                                               " and the same options");
    s.residual = residual_of(scan, t_host, r.volume, o.recon.device, &s.residual_rays, ranks, &s.communication,
                             plan.active ? plan.own : DetectorRows{0, -1});
    // What every rank read (one small gather; the JSON summary reports it).
    {
        const DetectorRows mine{scan.row_first, scan.rows()};
        const std::string text = std::to_string(bytes_read) + " " + std::to_string(mine.first) + " " + std::to_string(mine.count);
        for (const std::string& one : ranks.all_gather(text)) {
            std::istringstream in(one);
            double bytes = 0.0;
            DetectorRows rows;
            in >> bytes >> rows.first >> rows.count;
            s.bytes_read.push_back(bytes);
            s.rows_read.push_back(rows);
        }
        const Geometry& g = scan.geometry;
        const double frames = double(g.n_angles()) + (scan.white.empty() ? 0.0 : double(scan.white.dim(0))) +
                              (scan.dark.empty() ? 0.0 : double(scan.dark.dim(0)));
        s.scan_bytes = 4.0 * frames * double(g.nv) * double(g.nu);
    }
    report_residual(s.residual, s.residual_rays);
    r.parameters.emplace_back("rotation_centre_column", detail::num(s.axis.column));
    r.parameters.emplace_back("rotation_centre_source", s.axis.source);
    for (const auto& c : scan.conventions) r.parameters.push_back(c);
    r.parameters.emplace_back("noise_normalised_residual", detail::num(s.residual));
    s.geometry = scan.geometry;
    s.solver = r.solver;
    s.seconds = r.elapsed_s;
    s.parameters = r.parameters;
    s.has_truth = !scan.truth.empty();
    if (s.has_truth) s.quality = compare_with_truth(scan.truth, r.volume);
    if (!ranks.root()) return s;
    // The input is named so that no output (the .h5 or a PNG) can be it.
    io::OutputSet outputs(o.input);
    s.previews = write_reconstruction(outputs, o.output, scan.geometry, r, device_name(o.recon.device),
                                      s.has_truth ? &s.quality : nullptr, o.png_prefix, ranks.size());
    outputs.commit();
    checkpoint.finished();
    return s;
}

std::vector<std::pair<std::string, std::string>> checkpoint_options(const RunOptions& o) {
    const ReconOptions& r = o.recon;
    const FdkOptions& f = r.fdk;
    using detail::num;
    std::string geometry;
    for (const auto& [k, v] : o.read.geometry) geometry += (geometry.empty() ? "" : ", ") + k + " = " + v;
    // Every field that changes the iterates; the device too (GPU and CPU sums differ in rounding).
    return {{"ReconOptions.method", method_name(r.method)},
            {"ReconOptions.device", device_name(r.device)},
            {"ReconOptions.iterations", std::to_string(r.iterations)},
            {"ReconOptions.stop", stop_name(r.stop)},
            {"ReconOptions.discrepancy_tau", num(r.discrepancy_tau)},
            {"ReconOptions.model_error", num(r.model_error)},
            {"ReconOptions.min_transmission", num(r.min_transmission)},
            {"ReconOptions.sirt_relaxation", num(r.sirt_relaxation)},
            {"ReconOptions.cgls_restart", std::to_string(r.cgls_restart)},
            {"ReconOptions.objective", objective_name(r.objective)},
            {"ReconOptions.tv_lambda", num(r.tv_lambda)},
            {"ReconOptions.tv_weight", num(r.tv_weight)},
            {"ReconOptions.tv_inner", std::to_string(r.tv_inner)},
            {"ReconOptions.init", init_name(r.init)},
            {"ReconOptions.nonlinear_tv", num(r.nonlinear_tv)},
            {"ReconOptions.nonlinear_tv_eps", num(r.nonlinear_tv_eps)},
            {"ReconOptions.power_iterations", std::to_string(r.power_iterations)},
            {"ReconOptions.fdk.cutoff", num(f.cutoff)},
            {"ReconOptions.fdk.window", filter_window_name(f.window)},
            {"ReadOptions.centre_column", num(o.read.centre_column)},
            {"ReadOptions.estimate_centre", o.read.estimate_centre ? "yes" : "no"},
            {"ReadOptions.clockwise", o.read.clockwise ? "yes" : "no"},
            {"ReadOptions.flip_u", o.read.flip_u ? "yes" : "no"},
            {"ReadOptions.flip_v", o.read.flip_v ? "yes" : "no"},
            {"ReadOptions.theta_units", std::to_string(int(o.read.theta_units))},
            {"ReadOptions.geometry_file", o.read.geometry_file},
            {"ReadOptions.geometry", geometry}};
}

Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device) {
    require(!output.empty(), "simulate: no output file given");
    options.validate();
    Scan s = simulate(options, device);
    write_scan(output, s, simulation_attributes(options));
    s.path = output;
    return s;
}

void ProjectOptions::validate() const {
    require_option(!input.empty(), "ProjectOptions.input", "no input volume file given");
    require_option(!output.empty(), "ProjectOptions.output", "no output file given");
    require_option(std::isfinite(i0) && i0 > 0, "ProjectOptions.i0", "must be positive, got " + detail::num(i0));
}

Scan run_project(const ProjectOptions& o) {
    o.validate();
    io::require_distinct_paths(o.input, o.output);
    const io::H5File in = io::H5File::open(o.input);
    std::string dataset = o.dataset;
    if (dataset.empty()) {
        if (in.exists("/volume")) dataset = "/volume";
        else if (in.exists("/lumen/truth/volume")) dataset = "/lumen/truth/volume";
        else
            throw Error(ErrorCode::bad_input, o.input + ": no /volume or /lumen/truth/volume to project; name the dataset "
                                                        "(ProjectOptions.dataset)");
    }
    require(in.exists(dataset), o.input + ": dataset " + dataset + " does not exist");
    Array<float> volume = in.read_float(dataset, 3);
    const std::string gpath = o.geometry_file.empty() ? o.input : o.geometry_file;
    auto geometry_of = [](const io::H5File& f) {
        const Shape ps = f.exists("/exchange/data") ? f.info("/exchange/data").shape : Shape();
        return read_geometry(f, ps);
    };
    const Geometry g = gpath == o.input ? geometry_of(in) : geometry_of(io::H5File::open(gpath));
    require(volume.shape() == g.volume_shape(), o.input + ": " + dataset + " has shape " + volume.shape().str() +
                                                    " but the geometry (" + gpath + ") describes a volume of " +
                                                    g.volume_shape().str() + " (nz, ny, nx)");
    for (float v : volume)
        require(std::isfinite(v), o.input + ": " + dataset + " holds non-finite values");

    Array<float> vd = volume.to(o.device);
    Array<float> p(g.projection_shape(), o.device);
    Projector(g, o.device).apply(vd, p);
    Scan s;
    s.geometry = g;
    s.data = p.to(Device::cpu);
    const index_t per = g.nu * g.nv;
#pragma omp parallel for schedule(dynamic, 1)
    for (index_t v = 0; v < g.n_angles(); ++v) {
        std::mt19937_64 rng(o.seed * 1000003ULL + std::uint64_t(v));
        for (index_t i = v * per; i < (v + 1) * per; ++i) {
            const double mean = o.i0 * std::exp(-double(s.data[i]));
            s.data[i] = o.poisson ? detail::poisson_count(rng, mean) : float(mean);
        }
    }
    s.i0 = o.i0;
    s.truth = std::move(volume);
    write_scan(o.output, s,
               {{"projected", "lumen-ct project"},
                {"source", o.input + ":" + dataset},
                {"noise", o.poisson ? "poisson" : "none"}});
    s.path = o.output;
    return s;
}

ScanInfo describe_scan(const std::string& path, const ReadOptions& options) {
    Scan s = read_scan(path, options);
    require_recon_memory(s, path);
    ScanInfo info;
    info.conventions = s.conventions;
    info.geometry = s.geometry;
    info.white_frames = s.white.empty() ? 0 : s.white.dim(0);
    info.dark_frames = s.dark.empty() ? 0 : s.dark.dim(0);
    info.has_truth = !s.truth.empty();
    const auto [lo, hi] = std::minmax_element(s.data.begin(), s.data.end());
    info.data_min = *lo;
    info.data_max = *hi;
    const Array<float> t = transmission(s, Device::cpu);
    info.axis = resolve_axis(s, t);
    info.geometry = s.geometry;
    const auto [tlo, thi] = std::minmax_element(t.begin(), t.end());
    info.transmission_min = *tlo;
    info.transmission_max = *thi;
    for (float v : t) info.non_positive += !(v > 0.0f);
    std::ostringstream o;
    const Geometry& g = s.geometry;
    o << path << ": CT scan (DXchange), readable by lumen\n";
    o << "  projections  " << g.n_angles() << " x " << g.nv << " x " << g.nu << " (n_angles, nv, nu), raw range ["
      << info.data_min << ", " << info.data_max << "]\n";
    o << "  flat field   " << (info.white_frames ? std::to_string(info.white_frames) + " frame(s)" : "none (i0 = " + std::to_string(s.i0) + ")")
      << ", dark field " << (info.dark_frames ? std::to_string(info.dark_frames) + " frame(s)" : "none") << "\n";
    o << "  geometry     " << g.describe() << "\n";
    o << "  normalised   transmission in [" << info.transmission_min << ", " << info.transmission_max << "]";
    if (info.non_positive)
        o << "; " << info.non_positive << " pixel(s) <= 0: fdk/sirt/cgls/tv need a clamp (ReconOptions.min_transmission), nonlinear does not";
    o << "\n";
    o << "  axis         detector column " << info.axis.column << " (" << info.axis.source << "; middle "
      << 0.5 * double(g.nu - 1) << ")\n";
    for (const auto& [k, v] : s.conventions) o << "  " << k << std::string(k.size() < 13 ? 13 - k.size() : 1, ' ') << v << "\n";
    o << "  truth        " << (info.has_truth ? "/lumen/truth/volume (recon reports PSNR against it)" : "none") << "\n";
    info.text = o.str();
    return info;
}

VolumeInfo describe_volume(const std::string& path) {
    const io::H5File f = io::H5File::open(path);
    require(f.exists("/volume"), path + ": /volume is missing; expected a reconstruction written by lumen-ct recon");
    const Array<float> volume = f.read_float("/volume", 3);
    VolumeInfo info;
    info.geometry = read_geometry(f, Shape());
    require(volume.shape() == info.geometry.volume_shape(),
            path + ": /volume has shape " + volume.shape().str() + " but /lumen/geometry describes " +
                info.geometry.volume_shape().str() + " (nz, ny, nx)");
    if (volume.size() > 0) {
        const auto [lo, hi] = std::minmax_element(volume.begin(), volume.end());
        info.min = *lo;
        info.max = *hi;
    }
    if (f.exists("/history/objective")) info.history_length = f.info("/history/objective").shape.size();
    for (const char* name : {"method", "iterations", "stopping", "device", "lumen_version"})
        if (f.has_attr("/", name)) info.attributes.emplace_back(name, f.attr_string("/", name));
    auto number = [&](const char* name) { return f.has_attr("/", name) ? f.attr_double("/", name) : std::nan(""); };
    info.quality.psnr_db = number("psnr_db");
    info.quality.peak = number("psnr_peak");
    info.quality.nrmse = number("nrmse");
    info.quality.ssim = number("ssim");
    std::ostringstream o;
    const Geometry& g = info.geometry;
    o << path << ": CT reconstruction (lumen), readable by lumen\n";
    o << "  volume       " << g.volume.nz << " x " << g.volume.ny << " x " << g.volume.nx
      << " (nz, ny, nx), attenuation per mm in [" << info.min << ", " << info.max << "]\n";
    o << "  geometry     " << g.describe() << "\n";
    for (const auto& [k, v] : info.attributes) o << "  " << k << std::string(k.size() < 13 ? 13 - k.size() : 1, ' ') << v << "\n";
    o << "  history      " << (info.history_length ? std::to_string(info.history_length) + " iteration(s)" : "none") << "\n";
    if (std::isfinite(info.quality.psnr_db))
        o << "  truth        PSNR " << info.quality.psnr_db << " dB, NRMSE " << info.quality.nrmse << ", SSIM "
          << info.quality.ssim << "\n";
    o << "  project      lumen-ct project reads it back into a scan (its geometry and angles)\n";
    info.text = o.str();
    return info;
}

FileInfo describe_file(const std::string& path, const ReadOptions& options) {
    FileInfo info;
    bool reconstruction = false;
    {
        const io::H5File f = io::H5File::open(path);
        reconstruction = !f.exists("/exchange/data") && f.exists("/volume");
    }
    if (reconstruction) {
        info.kind = FileKind::reconstruction;
        info.volume = describe_volume(path);
    } else {
        info.kind = FileKind::scan;
        info.scan = describe_scan(path, options);
    }
    return info;
}

}  // namespace lumen::ct
