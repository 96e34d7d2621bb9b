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
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/progress.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/ct/fdk.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/ct/scan.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen {
class Communicator;         // lumen/core/comm.hpp
struct CommunicationStats;  // lumen/core/comm.hpp
}  // namespace lumen

namespace lumen::ct {

enum class Method { fdk, sirt, cgls, tv, nonlinear };
// "fdk", "sirt", "cgls", "tv", "nonlinear"; anything else is Error(invalid_option) naming the field
// ReconOptions.method.
Method parse_method(const std::string& text);
const char* method_name(Method m) noexcept;

enum class Stop {
    discrepancy,  // at the discrepancy principle's tau (when the counts are known), else at the cap
    iterations,   // run exactly the iteration count
};
// "discrepancy", "iterations"; Error(invalid_option) naming ReconOptions.stop otherwise.
Stop parse_stop(const std::string& text);
const char* stop_name(Stop s) noexcept;

// The nonlinear method's data term.
enum class Objective {
    least_squares,  // 0.5 ||exp(-A x) - t||^2 (Fridovich-Keil et al.)
    poisson,        // the Poisson negative log-likelihood of the counts (needs the counts)
};
// "least-squares" (or "ls"), "poisson"; Error(invalid_option) naming ReconOptions.objective otherwise.
Objective parse_objective(const std::string& text);
const char* objective_name(Objective o) noexcept;

// The iteration cap a method (with its objective) uses when none is given (0 for fdk).
// Where the nonlinear method starts.
enum class Init {
    fdk,   // FDK of the clamped line integrals, projected onto x >= 0
    zero,  // x = 0
};
// "fdk", "zero"; Error(invalid_option) naming ReconOptions.init otherwise.
Init parse_init(const std::string& text);
const char* init_name(Init i) noexcept;

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

// A distributed FDK's slab (docs/scaling.md): the slices [first, second) that rank `rank` of `size`
// back-projects (whole groups of 8, the CPU back projector's vector width), and the detector rows
// they project to (fdk_detector_rows). Every rank can compute every rank's.
std::pair<index_t, index_t> fdk_slab(index_t nz, int rank, int size);
DetectorRows fdk_slab_rows(const Geometry& geometry, int rank, int size);

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
    Init init = Init::fdk;            // nonlinear: where to start
    double nonlinear_tv = 0.0;        // nonlinear: relative smoothed-TV weight w (0: none); lambda = w ||A||^2 eps
    double nonlinear_tv_eps = 0.0;    // nonlinear: TV smoothing eps (<= 0: 1% of the start's maximum)
    int power_iterations = 15;        // ||A|| estimate for steps
    // Called after every iteration (one part: CT reconstructs the whole volume at once); returning
    // false stops the run (stop_reason "callback").
    ProgressCallback progress;
    // The one extra hook: called after every iteration with the current estimate (on
    // options.device; e.g. to score it against a truth, as the stopping tests and the sweep do);
    // returning false stops the run (stop_reason "callback").
    std::function<bool(const IterationInfo&, View<const float> x)> inspect;
    // Checkpoints of the iterative methods (lumen/core/progress.hpp; issue #10): saved when due,
    // resumed from when `resume` is set. fdk has no iterations and ignores it.
    Checkpointing checkpoint;
    // A reconstruction split over MPI ranks (docs/scaling.md): every rank calls with the same
    // scan and options and receives the same volume, the serial one's to rounding. The iterative
    // methods split the views (block_of over angles): each rank projects and back-projects its
    // own, and the back-projected volumes and every sum over rays are summed over the ranks
    // (SolverOptions::data_split). FDK splits the volume into slabs of slices and sums them.
    // Null, or a single rank: this process alone. Checkpoints hold one process's state and are
    // refused in a distributed run (Error(invalid_option) naming CheckpointOptions.path).
    const Communicator* ranks = nullptr;
    // fdk only: the transmission given holds detector rows [row_first, row_first + its second
    // axis) of every view, not all of them (Scan::row_first; what a distributed FDK reads,
    // fdk_slab_rows). They must include the rows this rank's slab projects to (Error otherwise).
    index_t row_first = 0;
    // Where a distributed run adds the time it waited for other ranks, spent in collectives, and
    // the bytes it sent (may be null).
    CommunicationStats* communication = nullptr;

    // Throws Error(invalid_option) naming the first field out of range ("ReconOptions.iterations",
    // "ReconOptions.fdk.cutoff", ...) or inconsistent with another (an objective other than least
    // squares for a method other than nonlinear). The reconstructions call it.
    void validate() const;
};

// What a reconstruction did, without the volume itself (Reconstructor::reconstruct writes that
// into the caller's view).
struct ReconInfo {
    SolverResult solver;              // iterations, stop_reason, history (empty for fdk)
    double elapsed_s = 0.0;
    // What was used, for the output's attributes and the summary (name, value as text).
    std::vector<std::pair<std::string, std::string>> parameters;
};

struct ReconResult : ReconInfo {
    Array<float> volume;              // [nz][ny][nx] on the host, attenuation per mm
};

// Reconstructions of one geometry with one set of options, call after call: the projector pair
// (its view matrices on options.device) and the device buffers are made once and kept, so a
// series of scans (a time series, a parameter sweep, a Python loop) pays the set-up once. Input
// and output views may be on either device; the work runs on options.device, and when the
// transmission and the volume are both there nothing goes through the host (the nonlinear
// method's curvature bound and the discrepancy rule read only the small CountNoise on the host).
// Not for use by several threads at once.
class Reconstructor {
public:
    // Validates the geometry (Error(bad_input)) and the options (Error(invalid_option) naming the
    // field).
    Reconstructor(const Geometry& geometry, ReconOptions options);
    Reconstructor(Reconstructor&&) noexcept;
    Reconstructor& operator=(Reconstructor&&) noexcept;
    ~Reconstructor();

    // transmission: normalised intensities [n_angles][nv][nu] (any device; read in place when on
    // options().device). volume: [nz][ny][nx] (any device), overwritten with the result.
    // `noise` (may be null) as for the reconstruct() functions below. A view of the wrong shape is
    // Error(bad_input) whose field() names it ("transmission", "volume").
    ReconInfo reconstruct(View<const float> transmission, const CountNoise* noise, View<float> volume);
    ReconInfo reconstruct(View<const float> transmission, View<float> volume);

    const Geometry& geometry() const;
    const ReconOptions& options() const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

// Reconstructs from normalised intensities t [n_angles][nv][nu] (any device; moved to
// options.device), through a Reconstructor of its own. `noise` (may be null) gives the counts' noise: without it there is no
// discrepancy rule (the run stops at the cap) and no Poisson objective.
ReconResult reconstruct(const Geometry& geometry, View<const float> transmission, const CountNoise* noise,
                        const ReconOptions& options);
ReconResult reconstruct(const Geometry& geometry, View<const float> transmission, const ReconOptions& options);
// Normalises the scan's raw data (flat and dark fields) and reconstructs, with the noise of its
// counts (count_noise).
ReconResult reconstruct(const Scan& scan, const ReconOptions& options);
// The same with the scan's normalised intensities already computed (transmission(scan, ...), on
// any device; used in place when on options.device), e.g. by a caller that needed them first.
ReconResult reconstruct(const Scan& scan, View<const float> transmission, const ReconOptions& options);

// The two data terms of the comparison, usable with any solver: value and gradient of
//   linearised:  0.5 ||A x - b||^2,          b = -log t
//   nonlinear:   0.5 ||exp(-A x) - t||^2
// `work` is a projection-shaped scratch array on the projector's device; grad is overwritten.
// A is the projector, or any operator of the same shapes (a distributed reconstruction's block
// of views: the loss is then this rank's part).
double linearised_loss(const LinearOperator<float>& A, View<const float> b, View<const float> x, View<float> grad, View<float> work);
double beer_lambert_loss(const LinearOperator<float>& A, View<const float> t, View<const float> x, View<float> grad,
                         View<float> work);
// The Poisson deviance sum_i lambda_i - I_i + I_i log(I_i / lambda_i), lambda = gain e^{-A x} + dark,
// I = gain t + dark (gain, dark: [nv][nu] on the projector's device; dark may be empty), and its
// gradient.
double poisson_loss(const LinearOperator<float>& A, View<const float> t, View<const float> gain, View<const float> dark,
                    View<const float> x, View<float> grad, View<float> work);

// How close a volume is to the truth: psnr_db (10 log10(peak^2 / MSE), peak = max of the truth),
// peak, nrmse (||x - truth|| / ||truth||) and ssim (mean over axial slices, data range = peak);
// nmse and nrmse_probe are not measured (NaN).
Quality compare_with_truth(View<const float> truth, View<const float> volume);

}  // namespace lumen::ct
