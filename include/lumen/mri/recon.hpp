// MRI reconstruction (docs/mri.md, "Reconstruction"): zero-filled RSS, CG-SENSE (Tikhonov),
// L1-wavelet compressed sensing (FISTA) and total variation (ADMM), through the shared solvers,
// slice by slice; and the fastMRI quality metrics.
//
// Regularisation weights are relative to the data: each slice's problem is solved for x / s with
// s = the 99th percentile of |A^H y| (the coil-combined zero-filled image), so
//   CS:   min_x 1/2 ||A x - y||^2 + (lambda * s) ||Psi x||_1     (likewise TV)
//   SENSE: (A^H A + lambda I) x = A^H y                           (A^H A has norm <= 1 already)
// and one default lambda serves scans whose raw values differ by orders of magnitude (fastMRI's
// are ~1e-5).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::mri {

enum class Method { zero_filled, cg_sense, l1_wavelet, tv };
// "zf", "cg-sense", "l1-wavelet", "tv"; Error(usage) naming `option` otherwise.
Method parse_method(const std::string& text, const std::string& option = "--method");
const char* method_name(Method m) noexcept;
int default_iterations(Method m) noexcept;
double default_lambda(Method m) noexcept;

struct ReconOptions {
    Method method = Method::cg_sense;
    int iterations = 0;        // 0: default_iterations(method)
    double lambda = -1.0;      // < 0: default_lambda(method); relative, see above
    double tolerance = 0.0;    // the solver's relative stopping tolerance (0: run all iterations)
    int wavelet_levels = 4;    // Daubechies-4 levels; the grid is zero-padded to a multiple of 2^levels
    Device device = Device::cpu;
    IterationCallback callback;  // called once per iteration (progress, custom stopping)
};

struct SliceRecon {
    Array<float> magnitude;     // [H][W] on the host: RSS of the estimated coil images
    Array<complex64> image;     // [H][W] on the host: the SENSE image x (empty for zero-filled)
    SolverResult solver;
    double data_scale = 1.0;    // s
    double lambda = 0.0;        // the relative weight used
};

// kspace [coils][H][W] (any device; entries the mask marks 0 are ignored), mask [H][W] (0/1),
// maps [coils][H][W] (unused by zero-filled). Runs on options.device.
SliceRecon reconstruct_slice(View<const complex64> kspace, View<const float> mask, View<const complex64> maps,
                             const ReconOptions& options);

// fastMRI's metrics on magnitude volumes [slices][h][w]: NMSE over the volume, PSNR and SSIM
// (7x7 uniform window, mean over slices) with the reference volume's maximum as the data range.
struct Quality {
    double nmse = 0.0, psnr = 0.0, ssim = 0.0;
};
Quality fastmri_quality(View<const float> reference, View<const float> reconstruction);

// The whole-file pipeline behind `lumen-mri recon`.
struct RunOptions {
    std::string input, output;
    ReconOptions recon;
    bool undersample = false;     // apply `mask` to a fully sampled file (else the file's own mask,
    MaskSpec mask;                //  or the non-zero samples)
    std::string maps = "espirit"; // "espirit" or "truth" (a simulation's /lumen/truth/sensitivities)
    EspiritOptions espirit;
    std::string png_prefix;       // previews PREFIX_sNNN.png (and PREFIX_reference_sNNN.png); empty: none
    std::function<void(index_t slice, index_t slices)> on_slice;  // before each slice
};

struct RunSummary {
    ScanHeader header;
    std::string mask_source;      // "generated", "file", "data"
    double acceleration = 1.0;    // achieved, over the acquired columns
    int iterations = 0;           // per slice (the last slice's)
    double seconds = 0.0;
    bool has_quality = false;
    Quality quality;
    std::vector<std::string> previews;
};

RunSummary run_recon(const RunOptions& options);

// `lumen-mri espirit`: maps for every slice -> /sensitivities (slices, coils, H, W) complex64 and
// /eigenvalues (slices, H, W).
struct EspiritRunOptions {
    std::string input, output;
    EspiritOptions espirit;
    bool undersample = false;
    MaskSpec mask;
    Device device = Device::cpu;
    std::function<void(index_t slice, index_t slices)> on_slice;
};
struct EspiritRunSummary {
    ScanHeader header;
    std::vector<index_t> kernels_kept;
    CalibrationBox box;
    double seconds = 0.0;
};
EspiritRunSummary run_espirit(const EspiritRunOptions& options);

}  // namespace lumen::mri
