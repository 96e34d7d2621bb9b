// CT file to file: what lumen-ct's subcommands do, as library calls (the app only parses and
// reports). In memory: lumen/ct/recon.hpp; files: lumen/ct/io.hpp.
#pragma once

#include <string>
#include <vector>

#include "lumen/core/comm.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/ct/axis.hpp"
#include "lumen/ct/io.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/io/checkpoint.hpp"

namespace lumen::ct {

// recon: read a scan (with `read`'s conventions), place the rotation axis and run the checks
// (lumen/ct/axis.hpp), reconstruct, score against /lumen/truth/volume when present, measure the
// noise-normalised residual, write the output (atomically) and PNG previews. Started by an MPI
// launcher (docs/scaling.md), the ranks share the reconstruction (ReconOptions::ranks) and rank 0
// writes the one output; checkpoints are refused there (Error(invalid_option) naming
// CheckpointOptions.path).
struct RunOptions {
    std::string input, output;
    ReadOptions read;
    ReconOptions recon;
    std::string png_prefix;  // previews PREFIX_{axial,coronal,sagittal}.png; empty: none
    // Checkpoints of the iterative methods and resuming from one (lumen/io/checkpoint.hpp); a
    // run stopped by SIGINT/SIGTERM throws Error(interrupted) after saving.
    io::CheckpointOptions checkpoint;
};
// The options a CT checkpoint records: those that change the result (ReconOptions fields), as
// (field, value text). A resume with any of them different is refused naming the field.
std::vector<std::pair<std::string, std::string>> checkpoint_options(const RunOptions& options);
struct RunSummary {
    Geometry geometry;
    SolverResult solver;
    double seconds = 0.0;     // the reconstruction's wall time
    bool has_truth = false;   // the scan holds /lumen/truth/volume: `quality` is measured
    Quality quality;          // against the truth: psnr_db, peak, nrmse, ssim (NaN without a truth)
    std::vector<std::string> previews;
    std::vector<std::pair<std::string, std::string>> parameters;
    AxisReport axis;
    // mean over rays of (A x + log t)^2 / var, var the Poisson variance from the counts
    // (line_integral_variance): about 1 when the model fits to the noise (check "ct.residual").
    double residual = 0.0;
    index_t residual_rays = 0;
    int ranks = 1;                     // MPI ranks that shared the run (docs/scaling.md)
    CommunicationStats communication;  // what this rank spent in collectives (ranks > 1)
    // What each rank read of the projections and flat and dark fields (float32 bytes), in rank
    // order, and the detector rows [first, first + count) it read: a distributed FDK of a cone beam
    // reads only the rows its slab projects to and those the axis check compares (docs/scaling.md);
    // every other run reads every row. scan_bytes: all rows of them, as one process reads.
    std::vector<double> bytes_read;
    std::vector<DetectorRows> rows_read;
    double scan_bytes = 0.0;
};
RunSummary run_recon(const RunOptions& options);

// The noise-normalised residual of a volume against a scan: mean over rays with signal of
// (A x + log t)^2 / var (lumen/ct/scan.hpp line_integral_variance). Returns the mean; `rays`
// receives how many rays counted.
double noise_normalised_residual(const Scan& scan, View<const float> volume, Device device, index_t* rays = nullptr);

// simulate: write a simulated scan with its truth. Returns the scan written.
Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device);

// project: forward-project a volume and write a scan (DXchange + geometry) of noiseless (or
// Poisson) intensities i0 exp(-A x), with the volume as its truth. The volume is `dataset` of
// `input` (default: /volume, else /lumen/truth/volume); the geometry comes from `geometry_file`
// (default: `input`), read from its /lumen/geometry group and /exchange/theta.
struct ProjectOptions {
    std::string input, output, geometry_file, dataset;
    double i0 = 1.0e5;
    bool poisson = false;
    std::uint64_t seed = 1;
    Device device = Device::cpu;

    // Throws Error(invalid_option) naming the field ("ProjectOptions.i0") when one is out of range.
    void validate() const;
};
Scan run_project(const ProjectOptions& options);

// info: a description of a CT file (datasets, geometry, flat/dark fields, truth, transmission
// range). Throws Error(bad_input) with the reason when lumen cannot read it as a scan.
struct ScanInfo {
    Geometry geometry;
    index_t white_frames = 0, dark_frames = 0;
    bool has_truth = false;
    double data_min = 0, data_max = 0;
    double transmission_min = 0, transmission_max = 0;
    index_t non_positive = 0;  // pixels whose normalised intensity is <= 0 (log methods need a clamp)
    AxisReport axis;           // the rotation axis used (estimated when the file gives none)
    std::vector<std::pair<std::string, std::string>> conventions;  // how the file was read
    std::string text;          // human-readable summary
};
ScanInfo describe_scan(const std::string& path, const ReadOptions& options = {});

// info on a reconstruction lumen wrote (recon): /volume with its /lumen/geometry and attributes.
struct VolumeInfo {
    Geometry geometry;
    double min = 0, max = 0;        // the volume's range, attenuation per mm
    index_t history_length = 0;     // iterations recorded in /history (0: none, fdk)
    Quality quality;                // the root attributes psnr_db, psnr_peak, nrmse, ssim when written
    std::vector<std::pair<std::string, std::string>> attributes;  // method, device, lumen_version, ... as text
    std::string text;               // human-readable summary
};
VolumeInfo describe_volume(const std::string& path);

// info on any CT file lumen writes or reads: a scan (/exchange/data: simulate and project outputs,
// DXchange files) or a reconstruction (/volume). Anything else is Error(bad_input) saying what is
// missing.
enum class FileKind { scan, reconstruction };
struct FileInfo {
    FileKind kind = FileKind::scan;
    ScanInfo scan;      // kind scan
    VolumeInfo volume;  // kind reconstruction
    const std::string& text() const { return kind == FileKind::scan ? scan.text : volume.text; }
};
FileInfo describe_file(const std::string& path, const ReadOptions& options = {});

}  // namespace lumen::ct
