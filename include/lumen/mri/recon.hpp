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
#include "lumen/mri/noise.hpp"
#include "lumen/mri/partial_fourier.hpp"
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
    // A partial-Fourier extent whose left-out part is filled (none: nothing filled): zero-filled
    // runs POCS first; the iterative methods solve for a real image times the phase of the
    // symmetric centre (phase_constrained in lumen/mri/partial_fourier.hpp).
    PartialFourier partial_fourier;
    int pocs_iterations = 20;
    Device device = Device::cpu;
    IterationCallback callback;  // called once per iteration (progress, custom stopping)
};

struct SliceRecon {
    Array<float> magnitude;     // [H][W] on the host: RSS of the estimated coil images
    Array<complex64> image;     // [H][W] on the host: the SENSE image x (empty for zero-filled)
    SolverResult solver;
    double data_scale = 1.0;    // s
    double lambda = 0.0;        // the relative weight used
    // ||M (A x - y)||^2 over the measured samples (in the data's units) and their number (samples
    // times coils), for the noise-normalised residual; residual_sq < 0 for zero-filled (which
    // inverts the samples exactly, so has no residual to speak of).
    double residual_sq = -1.0;
    index_t measured = 0;
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
    bool prewhiten = true;        // whiten the coils with the file's noise pre-scan, when it has one
    bool pocs = true;             // fill a partial-Fourier scan's left-out part (zf: POCS; others: phase-constrained)
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
    bool whitened = false;        // the coils were pre-whitened with the noise pre-scan
    NoiseWhitening noise;         // the pre-scan's statistics (samples == 0: the file has none)
    // The noise-normalised residual: ||M (A x - y)||^2 / (measured samples * sigma^2), sigma^2 the
    // noise variance per sample (from the noise pre-scan, else the image background). About 1 when the
    // model explains the data down to the noise (a little below for CG-SENSE, whose image has
    // degrees of freedom of its own; above when the regulariser or the model leaves signal out).
    // < 0: not available (zero-filled, or no noise estimate).
    double residual = -1.0;
    double noise_variance = 0.0;  // sigma^2 used (mean over slices)
    std::string noise_source;     // "noise pre-scan", "image background" or ""
    PartialFourier partial_fourier;
};

// The plausibility checks of a scan (docs/mri.md, "Checks"), reported through lumen/core/checks.hpp
// with ids mri.kspace_centre, mri.reversed_lines (ISMRMRD), mri.noise_prewhitening,
// mri.partial_fourier, mri.readout_oversampling: what `info` prints, and what `recon` reports
// before it reconstructs. `method` null: as `info` (says what recon would do).
struct ScanAssessment {
    PartialFourier partial_fourier;  // of the middle slice's sampling
    NoiseWhitening noise;            // samples == 0: no noise pre-scan
    index_t peak_row = 0, peak_column = 0;  // k-space energy peak of the middle slice
};
ScanAssessment assess_scan(const ScanReader& reader, View<const float> run_mask, const Method* method,
                           bool prewhiten = true, bool pocs = true);

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
