// MRI reconstruction in memory (docs/mri.md, "Reconstruction"): zero-filled RSS, CG-SENSE
// (Tikhonov), L1-wavelet compressed sensing (FISTA) and total variation (ADMM), through the shared
// solvers, slice by slice, on views on either device; and the fastMRI quality metrics. Files are
// in lumen/mri/io.hpp, the file-to-file pipeline behind `lumen-mri recon` in lumen/mri/run.hpp.
//
// Regularisation weights are relative to the data: each slice's problem is solved for x / s with
// s = the 99th percentile of |A^H y| (the coil-combined zero-filled image), so
//   CS:   min_x 1/2 ||A x - y||^2 + (lambda * s) ||Psi x||_1     (likewise TV)
//   SENSE: (A^H A + lambda I) x = A^H y                           (A^H A has norm <= 1 already)
// and one default lambda serves scans whose raw values differ by orders of magnitude (fastMRI's
// are ~1e-5).
//
// Stopping (docs/mri.md, "Stopping and defaults"): cg-sense, l1-wavelet and tv stop by default at
// the first iterate whose noise-normalised misfit, the mean over measured samples (times coils) of
// |M (A x - y)|^2 / sigma^2, is at most tau (stop_reason "discrepancy"), or where that misfit
// has stopped falling (stop_reason "misfit_plateau": a regulariser's bias can hold it above tau),
// or, for l1-wavelet with cycle spinning, where the estimate has stopped drifting (stop_reason
// "stalled", DriftTest below);
// the iteration count is then a cap. sigma^2 is ReconOptions::noise_variance when given (the
// noise pre-scan's, or the user's), else readout_noise_variance() of the slice (lumen/mri/noise.hpp),
// scaled like the data (sigma^2 / s^2).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/progress.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/mri/partial_fourier.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::mri {

enum class Method { zero_filled, cg_sense, l1_wavelet, tv };
// "zf", "cg-sense", "l1-wavelet", "tv" (and "zero-filled", "sense", "l1"); an unknown name is
// Error(invalid_option) naming ReconOptions.method.
Method parse_method(const std::string& text);
const char* method_name(Method m) noexcept;
int default_iterations(Method m) noexcept;
double default_lambda(Method m) noexcept;

enum class Stop {
    discrepancy,  // at the discrepancy principle's tau, or where the misfit stops falling; the count is a cap
    iterations,   // run exactly the iteration count
};
// "discrepancy", "iterations"; Error(invalid_option) naming ReconOptions.stop otherwise.
Stop parse_stop(const std::string& text);
const char* stop_name(Stop s) noexcept;
// The default tau per method, measured (docs/mri.md "Stopping and defaults"); 0 for zero-filled.
double default_discrepancy_tau(Method m) noexcept;
// The plateau test of the discrepancy stop (docs/mri.md, "Stopping and defaults"): where the
// misfit stays above tau (a regulariser's bias, a model error such as ESPIRiT maps), the run also
// stops once the misfit fell by less than k_misfit_plateau (relative) over the last
// k_misfit_plateau_window iterations AND the solver's own change measure (IterationInfo::residual:
// ||x_k - x_k-1|| / ||x_k|| for fista and admm_tv, ||r_k|| / ||r_0|| for cg_normal) is below
// k_plateau_change: the data can say no more and the estimate has stopped moving. (The misfit
// alone is not enough: L1 and TV keep improving the image for a hundred iterations in the null
// space of A while the misfit stays flat.)
constexpr double k_misfit_plateau = 0.01;
constexpr int k_misfit_plateau_window = 5;
constexpr double k_plateau_change = 1e-3;
// misfits: every iterate's misfit so far; change: the last iterate's change measure.
bool misfit_plateau_reached(const std::vector<double>& misfits, double change);

// The drift test of the discrepancy stop, L1-wavelet with cycle spinning (docs/mri.md, "Stopping
// and defaults"): each iteration's random wavelet shift moves the estimate by a step that does not
// shrink (||x_k - x_k-1|| / ||x_k|| stays near 3e-3 on the fastMRI knee size long after the image
// has stopped improving), so the change test of the plateau never fires. What does change is the
// direction: while the image improves, consecutive steps point the same way and the estimate
// travels about as far as the steps' summed length; once it has converged they are random and it
// only travels as far as a random walk, sqrt(sum of squared steps). Over windows of
// k_drift_window iterations (the first from iteration k_drift_window to 2 k_drift_window: the
// start is far from a walk),
//   R = ||x_k - x_k-w||^2 / sum_{j in (k-w, k]} ||x_j - x_j-1||^2     (relative to ||x_k||)
// is near w (16) for a straight path and near 1 for a random walk; the run stops (stop_reason
// "stalled") at the end of the first window with R < k_drift_ratio. Measured: R 7.7 to 14.3 while
// the PSNR rose (the pipelines, the stop sweep), 0.85 to 2.8 once it had stopped rising (knee size
// and 8-coil 256^2 pipelines), but 3 to 6 on converged small scans and 3.0 to 7 on a measured
// single-coil scan still improving slowly: 3, not 4, keeps the latter running.
constexpr int k_drift_window = 16;
constexpr double k_drift_ratio = 3.0;

class DriftTest {
public:
    // After iteration k (1-based) with the solver's change measure c_k = ||x_k - x_k-1|| / ||x_k||
    // (IterationInfo::residual of fista) and the estimate x_k (any scale; read only at the ends of
    // the windows, every k_drift_window iterations, so it may be a view made for that call only):
    // true where the window just completed has R < k_drift_ratio.
    bool update(int k, double change, View<const complex64> x);
    // Whether update(k, ...) reads x (the ends of the windows).
    static bool reads_estimate(int k) { return k % k_drift_window == 0; }
    // The last complete window's R (NaN before the first).
    double ratio() const { return ratio_; }

private:
    Array<complex64> anchor_, diff_;
    int anchor_iteration_ = 0;
    double steps_ = 0.0;
    double ratio_ = std::nan("");
};

struct ReconOptions {
    Method method = Method::cg_sense;
    int iterations = 0;            // 0: default_iterations(method)
    std::optional<double> lambda;  // none: default_lambda(method); relative, see above
    double tolerance = 0.0;        // the solver's relative stopping tolerance (0: run all iterations)
    int wavelet_levels = 4;        // Daubechies-4 levels; the grid is zero-padded to a multiple of 2^levels
    // A partial-Fourier extent whose left-out part is filled (none: nothing filled): zero-filled
    // runs POCS first; the iterative methods solve for a real image times the phase of the
    // symmetric centre (phase_constrained in lumen/mri/partial_fourier.hpp).
    PartialFourier partial_fourier;
    int pocs_iterations = 20;
    // Where the iterative methods stop (see above): discrepancy (default) or iterations.
    Stop stop = Stop::discrepancy;
    double discrepancy_tau = 0.0;  // > 0: the rule's tau; 0: default_discrepancy_tau(method)
    // E|n|^2 per k-space sample in the data's units (after whitening, when the data were): > 0
    // given (the noise pre-scan's, or the user's); 0: estimated from each slice
    // (readout_noise_variance in lumen/mri/noise.hpp).
    double noise_variance = 0.0;
    // L1-wavelet: a random circular shift of the image (0 to 2^levels - 1 pixels on each axis)
    // before the wavelet transform at every FISTA iteration, drawn from cycle_spinning_seed (the
    // same shifts for every slice), which removes the blocky artefacts of a transform that is not
    // shift invariant.
    bool cycle_spinning = true;
    std::uint64_t cycle_spinning_seed = 0;
    Device device = Device::cpu;
    // Called before each slice (iteration.iteration == 0; its return value is not used) and after
    // every iteration of the iterative methods (false stops that slice's solver: stop_reason
    // "callback"). part = the slice, parts = the slices (as the caller passes them to
    // SliceReconstructor::reconstruct; 0 of 1 for reconstruct_slice).
    ProgressCallback progress;
    // Called after every iteration of the iterative methods with the current SENSE image estimate
    // x [H][W] in the data's units (on `device`; e.g. to score it against a truth, as the stopping
    // tests and the sweep do); false stops that slice's solver (stop_reason "callback").
    std::function<bool(const IterationInfo&, View<const complex64> x)> inspect;
    // A slice's coils split over processes (docs/scaling.md: MRI with fewer slices than ranks):
    // process `part` of `parts` holds block_of(C, part, parts) of each slice's C coils (parts 1:
    // every coil, the default; per slice, as coil compression may keep a different count). The
    // caller still passes every coil's k-space and maps (every process reads, whitens, compresses
    // and maps the whole slice alike); the SENSE operator holds only this block's, its adjoint's coil sum is
    // completed by `sum_image` (in place, the sum over the processes, identically on all of them),
    // and every reduction over the data (norms, the discrepancy rule's misfit, the residual) goes
    // through `data` (the solvers' DataSplit). cg-sense, l1-wavelet and tv, without a
    // partial-Fourier constraint (Error(invalid_option) naming ReconOptions.coil_split otherwise).
    struct CoilSplit {
        int part = 0, parts = 1;
        std::function<void(View<complex64> image)> sum_image;
        DataSplit data;
        bool enabled() const { return parts > 1; }
    };
    CoilSplit coil_split;

    // Every field in range: Error(invalid_option) naming "ReconOptions.member".
    void validate() const;
    int resolved_iterations() const { return iterations > 0 ? iterations : default_iterations(method); }
    double resolved_lambda() const { return lambda ? *lambda : default_lambda(method); }
    // The tau the run stops at (0: none, stop iterations or zero-filled).
    double resolved_tau() const {
        if (stop != Stop::discrepancy || method == Method::zero_filled) return 0.0;
        return discrepancy_tau > 0.0 ? discrepancy_tau : default_discrepancy_tau(method);
    }
};

// What one slice's reconstruction did, without the images (SliceReconstructor::reconstruct writes
// those into the caller's views).
struct SliceInfo {
    SolverResult solver;        // iterations, stop_reason, history (empty for zero-filled)
    double data_scale = 1.0;    // s
    double lambda = 0.0;        // the relative weight used
    // ||M (A x - y)||^2 over the measured samples (in the data's units) and their number (samples
    // times coils), for the noise-normalised residual; residual_sq < 0 for zero-filled (which
    // inverts the samples exactly, so has no residual to speak of).
    double residual_sq = -1.0;
    index_t measured = 0;
    // sigma^2 per k-space sample (data units) the discrepancy stop used: ReconOptions::noise_variance,
    // or this slice's estimate (0: none, zero-filled or stop iterations without a given variance).
    double noise_variance = 0.0;
};

struct SliceRecon : SliceInfo {
    Array<float> magnitude;     // [H][W] on the host: RSS of the estimated coil images
    Array<complex64> image;     // [H][W] on the host: the SENSE image x (empty for zero-filled)
};

// Reconstructs slice after slice with what one slice's set-up makes kept for the next: one
// SenseOperator (its batched FFT plan and scratch buffer) that takes each slice's maps and mask
// through set_maps / set_mask, the zero-filled FFT plan, the wavelet transform and the device
// buffers. Shapes may change between calls (the kept objects are then made anew). Not for use by
// several threads at once.
class SliceReconstructor {
public:
    // Validates the options (Error(invalid_option) naming the field).
    explicit SliceReconstructor(ReconOptions options);
    SliceReconstructor(SliceReconstructor&&) noexcept;
    SliceReconstructor& operator=(SliceReconstructor&&) noexcept;
    ~SliceReconstructor();

    // kspace [coils][H][W] (any device; entries the mask marks 0 are ignored), mask [H][W] (0/1),
    // maps [coils][H][W] (any device; unused by zero-filled). Runs on options().device; the mask
    // is applied to the data once, on that device, and the maps are copied there once.
    // part / parts: the slice, for options().progress.
    SliceRecon reconstruct(View<const complex64> kspace, View<const float> mask, View<const complex64> maps,
                           index_t part = 0, index_t parts = 1);
    // The same into the caller's views, on either device: magnitude [H][W] and image [H][W] (the
    // SENSE image; may be empty, and must be for zero-filled, which has none). When the inputs
    // and outputs are on options().device nothing goes through the host but the scale s (the
    // 99th percentile of one coil-combined image, sorted on the host) and, when the discrepancy
    // stop must estimate the noise (no ReconOptions::noise_variance), the slice's k-space for
    // readout_noise_variance. A view of the wrong shape
    // is Error(bad_input) whose field() names it ("kspace", "mask", "maps", "magnitude", "image").
    SliceInfo reconstruct(View<const complex64> kspace, View<const float> mask, View<const complex64> maps,
                          View<float> magnitude, View<complex64> image, index_t part = 0, index_t parts = 1);
    const ReconOptions& options() const;
    // sigma^2 per sample for the next slices' discrepancy stop (ReconOptions::noise_variance; 0:
    // each slice's own estimate). For data whose noise was measured before they were reduced (a
    // cropped readout has no air margin left to estimate it from: lumen/mri/preprocess.hpp).
    void set_noise_variance(double variance);
    // The next slices are the centre rows of a readout of `full_rows` rows (its oversampling
    // removed: lumen/mri/preprocess.hpp; 0: not cropped). Their data scale s is then the 99th
    // percentile of |A^H y| over the full grid's pixels (the cropped-away rows are air, below
    // it), and the discrepancy stop tests the full grid's misfit, the removed rows' samples
    // counted at their noise level (misfit 1: air is noise only), (M + r - 1) / r with
    // r = full_rows / H, so that lambda and tau mean what they mean on the full grid.
    void set_readout_crop(index_t full_rows);

    struct State;

private:
    std::unique_ptr<State> state_;
};

// One slice with a SliceReconstructor of its own.
SliceRecon reconstruct_slice(View<const complex64> kspace, View<const float> mask, View<const complex64> maps,
                             const ReconOptions& options);

// fastMRI's metrics on magnitude volumes [slices][h][w]: NMSE over the volume, PSNR and SSIM
// (7x7 uniform window, mean over slices) with the reference volume's maximum as the data range.
// Sets Quality::nmse, psnr_db and ssim.
Quality fastmri_quality(View<const float> reference, View<const float> reconstruction);

}  // namespace lumen::mri
