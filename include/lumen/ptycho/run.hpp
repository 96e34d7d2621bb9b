// File-to-file entry points behind lumen-ptycho (the app only parses options and reports).
#pragma once

#include <cmath>
#include <string>

#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"

namespace lumen::ptycho {

// The order of the frames in the file: centred (detector order, zero frequency at [ny/2][nx/2], as
// CXI stores them), fft (zero frequency at [0][0], as tike and numpy's fft2 store them), or auto
// (fft when the bright field is found in the corners: ptycho.frames_centred).
enum class FrameOrder { centred, fft, automatic };
FrameOrder parse_frame_order(const std::string& text, const std::string& option = "--frame-order");

struct RunOptions {
    std::string input;       // CXI
    FrameOrder frame_order = FrameOrder::centred;
    Propagation propagation = Propagation::from_file;
    std::string output;      // HDF5 result
    std::string png_prefix;  // PNG previews PREFIX_*.png (empty: none)
    ReconOptions recon;
    ReconMonitor monitor;    // optional progress
};

struct RunSummary {
    index_t positions = 0;
    Shape frame, object_shape;
    int iterations = 0;
    double seconds = 0;
    double objective = NAN;      // the last iteration's
    bool has_truth = false;
    double nrmse_object = NAN;   // against /lumen/truth/object over the illuminated region
    double nrmse_probe = NAN;    // against /lumen/truth/probe (complex scale removed)
    bool refined_probe = false, probe_from_data = false;
    StepSizes steps;
    std::string stop_reason;
    int orientation = 0;
    bool frames_reordered = false;  // the frames were taken as FFT order and reordered
    bool near_field = false;
    // The final fit: mean (sqrt y - |Psi|)^2 per measured pixel, and that sum over its Poisson
    // expectation (about 1 when the model fits photon counts to the noise).
    double residual_per_pixel = NAN, residual_ratio = NAN;
};

// Reads a CXI scan for reconstruction: read_cxi, then the frame order (`order`), then the checks
// that need only the file (check_scan). Sets `reordered` when the frames were reordered.
Scan read_scan_for_recon(const std::string& path, FrameOrder order, bool* reordered = nullptr,
                         Propagation propagation = Propagation::from_file);

// Reads IN (CXI), reconstructs, scores against the truth when the file has one (and the result
// lies on the truth's grid), writes OUT (and the PNG previews). Refuses OUT == IN. The checks
// report through lumen::report_check.
RunSummary run_recon(const RunOptions& options);

// Simulates a scan and writes it as CXI with its truth.
Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device);

}  // namespace lumen::ptycho
