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
//              reconstruction").
//
// t = (I - dark) / (white - dark) are the normalised intensities (lumen/ct/scan.hpp). Volumes are
// attenuation per mm.
#pragma once

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
// The iteration count a method uses when none is given (0 for fdk).
int default_iterations(Method m);

struct ReconOptions {
    Method method = Method::fdk;
    Device device = Device::cpu;
    int iterations = 0;               // 0: default_iterations(method)
    FdkOptions fdk;                   // fdk, and the start of nonlinear with init "fdk"
    double min_transmission = 0.0;    // > 0: clamp t before the log; else non-positive t is an error
    double sirt_relaxation = 1.0;
    int cgls_restart = 10;            // cgls: iterations between projections onto x >= 0 (0: none)
    double tv_lambda = 0.0;           // tv: absolute weight; <= 0: tv_weight x automatic scale
    double tv_weight = 0.003;         // tv: lambda = tv_weight * max|A^T b| (docs/ct.md)
    int tv_inner = 4;                 // tv: CG iterations per ADMM x-update
    std::string init = "fdk";         // nonlinear: "fdk" or "zero"
    double nonlinear_tv = 0.0;        // nonlinear: relative smoothed-TV weight w (0: none); lambda = w ||A||^2 eps
    double nonlinear_tv_eps = 0.0;    // nonlinear: TV smoothing eps (<= 0: 1% of the start's maximum)
    int power_iterations = 15;        // ||A|| estimate for steps
    IterationCallback progress;       // called after every iteration (may stop the run)
};

struct ReconResult {
    Array<float> volume;              // [nz][ny][nx] on the host, attenuation per mm
    SolverResult solver;              // iterations, history (empty for fdk)
    double elapsed_s = 0.0;
    // What was used, for the output's attributes and the summary (name, value as text).
    std::vector<std::pair<std::string, std::string>> parameters;
};

// Reconstructs from normalised intensities t [n_angles][nv][nu] (any device; moved to
// options.device).
ReconResult reconstruct(const Geometry& geometry, View<const float> transmission, const ReconOptions& options);
// Normalises the scan's raw data (flat and dark fields) and reconstructs.
ReconResult reconstruct(const Scan& scan, const ReconOptions& options);

// The two data terms of the comparison, usable with any solver: value and gradient of
//   linearised:  0.5 ||A x - b||^2,          b = -log t
//   nonlinear:   0.5 ||exp(-A x) - t||^2
// `work` is a projection-shaped scratch array on the projector's device; grad is overwritten.
double linearised_loss(const Projector& A, View<const float> b, View<const float> x, View<float> grad, View<float> work);
double beer_lambert_loss(const Projector& A, View<const float> t, View<const float> x, View<float> grad,
                         View<float> work);

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
