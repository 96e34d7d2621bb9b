// CT reconstruction methods on top of the projector pair and the shared solvers:
//
//   fdk        filtered back projection (lumen/ct/fdk.hpp) of -log t
//   sirt       SIRT with non-negativity (lumen::sirt) on -log t
//   cgls       CGLS (lumen::cgls) on -log t, restarted every `cgls_restart` iterations with the
//              estimate projected onto x >= 0 (projected restarted CGLS)
//   tv         min 0.5 ||A x + log t||^2 + lambda TV(x), x >= 0, by ADMM (lumen::admm_tv)
//   nonlinear  min 0.5 ||exp(-A x) - t||^2 (+ lambda smoothed TV), x >= 0, on the normalised
//              intensities t themselves (no log), by accelerated projected gradient descent
//              (lumen::nesterov) with gradient -A^T[(exp(-A x) - t) exp(-A x)] and step 1 / L,
//              L = (2 - min t) ||A||^2 (+ the TV term's), the loss's smoothness bound on x >= 0
//              (Fridovich-Keil et al., "Gradient descent provably solves nonlinear tomographic
//              reconstruction"); or (objective poisson) the Poisson negative log-likelihood of the
//              counts under gain exp(-A x) + dark, step 1 / (max(gain + I/4) ||A||^2).
//
// Stopping (docs/solvers.md, "Stopping where the noise says"): every iterative method stops by
// default at the first iterate whose noise-normalised misfit, the mean over rays of
// (A x + log t)^2 / Var(-log t) with the variance from the counts (line_integral_variance), is at
// most tau (stop_reason "discrepancy"), the variance including the model's own error
// (ReconOptions::model_error); the iteration count is then a cap. It needs the counts:
// reconstruct(Scan) has them; reconstruct(Geometry, t, ...) takes them as a CountNoise.
//
// t = (I - dark) / (white - dark) are the normalised intensities (lumen/ct/scan.hpp). Volumes are
// attenuation per mm.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/ct/fdk.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/ct/scan.hpp"
#include "lumen/io/output.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::ct {

enum class Method { fdk, sirt, cgls, tv, nonlinear };
// "fdk", "sirt", "cgls", "tv", "nonlinear"; Error(bad_input) naming `option` otherwise.
Method parse_method(const std::string& text, const std::string& option = "--method");
const char* method_name(Method m) noexcept;

enum class Stop {
    discrepancy,  // at the discrepancy principle's tau (when the counts are known), else at the cap
    iterations,   // run exactly the iteration count
};
// "discrepancy", "iterations"; Error(bad_input) naming `option` otherwise.
Stop parse_stop(const std::string& text, const std::string& option = "--stop");
const char* stop_name(Stop s) noexcept;

// The nonlinear method's data term.
enum class Objective {
    least_squares,  // 0.5 ||exp(-A x) - t||^2 (Fridovich-Keil et al.)
    poisson,        // the Poisson negative log-likelihood of the counts (needs the counts)
};
Objective parse_objective(const std::string& text, const std::string& option = "--objective");
const char* objective_name(Objective o) noexcept;

// The iteration cap a method (with its objective) uses when none is given (0 for fdk).
int default_iterations(Method m);
int default_iterations(Method m, Objective o);

// The default tau of the discrepancy rule per method (docs/ct.md "Stopping and defaults" says why
// these values): 0.9 for the unregularised iterations (sirt, cgls, nonlinear), 1.0 for tv; 0 for fdk.
double default_discrepancy_tau(Method m);
// The model error per ray, in line-integral units, that the rule adds to the counts' variance:
// lumen's voxel model against exact pixel-integrated line integrals of lumen's simulations
// (measured 0.0091 at 1e5, 1e4 and 2e3 counts alike; docs/ct.md "Stopping and defaults").
constexpr double k_default_model_error = 0.009;

// What the counts say about each ray: [n_angles][nv][nu] Var(-log t) (line_integral_variance),
// and per detector pixel [nv][nu] the counts of an unattenuated ray above the dark level
// (white - dark, or i0) and the dark level. Host arrays.
struct CountNoise {
    Array<float> variance;
    Array<float> gain;
    Array<float> dark;
};
CountNoise count_noise(const Scan& scan);

struct ReconOptions {
    Method method = Method::fdk;
    Device device = Device::cpu;
    int iterations = 0;               // 0: default_iterations(method)
    FdkOptions fdk;                   // fdk, and the start of nonlinear with init "fdk"
    double min_transmission = 0.0;    // > 0: clamp t before the log; else non-positive t is an error
    double sirt_relaxation = 1.0;
    int cgls_restart = 10;            // cgls: iterations between projections onto x >= 0 (0: none)
    Stop stop = Stop::discrepancy;    // iterative methods: where to stop (iterations is then a cap)
    double discrepancy_tau = 0.0;     // > 0: the rule's tau; 0: default_discrepancy_tau(method)
    double model_error = k_default_model_error;  // >= 0: added to each ray's standard deviation in quadrature
    Objective objective = Objective::least_squares;  // nonlinear: the data term
    double tv_lambda = 0.0;           // tv: absolute weight; <= 0: tv_weight x automatic scale
    double tv_weight = 0.003;         // tv: lambda = tv_weight * max|A^T b| (docs/ct.md)
    int tv_inner = 4;                 // tv: CG iterations per ADMM x-update
    std::string init = "fdk";         // nonlinear: "fdk" or "zero"
    double nonlinear_tv = 0.0;        // nonlinear: relative smoothed-TV weight w (0: none); lambda = w ||A||^2 eps
    double nonlinear_tv_eps = 0.0;    // nonlinear: TV smoothing eps (<= 0: 1% of the start's maximum)
    int power_iterations = 15;        // ||A|| estimate for steps
    IterationCallback progress;       // called after every iteration (may stop the run)
    // Called after every iteration with the current estimate (on options.device; e.g. to score it
    // against a truth); returning false stops the run (stop_reason "callback").
    std::function<bool(const IterationInfo&, View<const float> x)> inspect;
};

struct ReconResult {
    Array<float> volume;              // [nz][ny][nx] on the host, attenuation per mm
    SolverResult solver;              // iterations, history (empty for fdk)
    double elapsed_s = 0.0;
    // What was used, for the output's attributes and the summary (name, value as text).
    std::vector<std::pair<std::string, std::string>> parameters;
};

// Reconstructs from normalised intensities t [n_angles][nv][nu] (any device; moved to
// options.device). `noise` (may be null) gives the counts' noise: without it there is no
// discrepancy rule (the run stops at the cap) and no Poisson objective.
ReconResult reconstruct(const Geometry& geometry, View<const float> transmission, const CountNoise* noise,
                        const ReconOptions& options);
ReconResult reconstruct(const Geometry& geometry, View<const float> transmission, const ReconOptions& options);
// Normalises the scan's raw data (flat and dark fields) and reconstructs, with the noise of its
// counts (count_noise).
ReconResult reconstruct(const Scan& scan, const ReconOptions& options);

// The two data terms of the comparison, usable with any solver: value and gradient of
//   linearised:  0.5 ||A x - b||^2,          b = -log t
//   nonlinear:   0.5 ||exp(-A x) - t||^2
// `work` is a projection-shaped scratch array on the projector's device; grad is overwritten.
double linearised_loss(const Projector& A, View<const float> b, View<const float> x, View<float> grad, View<float> work);
double beer_lambert_loss(const Projector& A, View<const float> t, View<const float> x, View<float> grad,
                         View<float> work);
// The Poisson deviance sum_i lambda_i - I_i + I_i log(I_i / lambda_i), lambda = gain e^{-A x} + dark,
// I = gain t + dark (gain, dark: [nv][nu] on the projector's device; dark may be empty), and its
// gradient.
double poisson_loss(const Projector& A, View<const float> t, View<const float> gain, View<const float> dark,
                    View<const float> x, View<float> grad, View<float> work);

struct Quality {
    double psnr_db = 0.0;   // 10 log10(peak^2 / MSE), peak = max of the truth
    double peak = 0.0;
    double nrmse = 0.0;     // ||x - truth|| / ||truth||
    double ssim = 0.0;      // mean over axial slices, data range = peak
};
Quality compare_with_truth(View<const float> truth, View<const float> volume);

// Writes /volume, /history, /lumen/geometry and root attributes (method, its parameters,
// lumen_version, device, and quality when given) and, unless png_prefix is empty, PNG previews of
// the three central slices: PREFIX_axial.png (z = nz/2, +y up), PREFIX_coronal.png (y = ny/2,
// +z up), PREFIX_sagittal.png (x = nx/2, +z up). All of them or none: the .h5 and the PNGs are
// committed together, after all were written and the volume was found finite (Error(failure)
// otherwise). Returns the PNG paths.
std::vector<std::string> write_reconstruction(const std::string& path, const Geometry& geometry,
                                              const ReconResult& result, const std::string& device_name,
                                              const Quality* quality, const std::string& png_prefix);
// The same, staged in `set` (committed by the caller, e.g. with other files).
std::vector<std::string> write_reconstruction(io::OutputSet& set, const std::string& path, const Geometry& geometry,
                                              const ReconResult& result, const std::string& device_name,
                                              const Quality* quality, const std::string& png_prefix);

}  // namespace lumen::ct
