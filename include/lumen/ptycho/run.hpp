// File-to-file entry points behind lumen-ptycho (the app only parses options and reports).
#pragma once

#include <cmath>
#include <string>

#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"

namespace lumen::ptycho {

struct RunOptions {
    std::string input;       // CXI
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
};

// Reads IN (CXI), reconstructs, scores against the truth when the file has one, writes OUT (and
// the PNG previews). Refuses OUT == IN.
RunSummary run_recon(const RunOptions& options);

// Simulates a scan and writes it as CXI with its truth.
Scan run_simulate(const std::string& output, const SimulationOptions& options, Device device);

}  // namespace lumen::ptycho
