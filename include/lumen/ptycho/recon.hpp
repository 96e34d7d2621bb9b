// Ptychographic reconstruction: Accelerated Wirtinger Flow (AWF), plain Wirtinger flow (WF, the
// same gradient without momentum), and the classical ePIE / rPIE (docs/ptychography.md).
//
// AWF and WF run through lumen's shared accelerated-gradient solver (lumen::nesterov) with step
// sizes computed from the scan itself, never tuned:
//   amplitude loss  mu_O = 1 / L_O,          L_O = max_r sum_j |P_j(r - c_j)|^2   (illumination)
//                   mu_P = 1 / L_P,          L_P = max_r sum_j |O(c_j + r)|^2     (object power)
//   intensity loss  mu = 1 / (kappa L),      kappa = max(4 max y, max_k (6 |Psi_k|^2 - 2 y_k) at the start)
//   Poisson loss    mu = 1 / (4 L)           (the far-field curvature at the solution)
// The object step is also taken pixel by pixel: A^H A is the illumination map, a diagonal, so a
// single-slice object's gradient is divided by max(illumination(r), 0.1 L_O) / L_O
// (Model::precondition_object); mu_O above is its base step.
// In blind mode L_O and L_P depend on the other unknown: they are re-evaluated at every iterate and
// the per-block base steps of the solver are scaled accordingly. The scale ambiguity
// (O, P) -> (c O, P / c) is fixed after every iteration by restoring the probe's initial energy.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/progress.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/scan.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::ptycho {

enum class Method { awf, wf, epie, rpie };
// "awf", "wf", "epie" or "rpie"; anything else is Error(invalid_option) for ReconOptions.method.
Method parse_method(const std::string& text);
const char* method_name(Method method) noexcept;
// The iteration count of --stop iterations, and the cap of the discrepancy rule.
int default_iterations(Method method) noexcept;

// Where a reconstruction stops (docs/ptychography.md, "Stopping and defaults").
enum class Stop {
    // The default: at the first iteration whose noise-normalised misfit is at most tau (the
    // discrepancy principle, when the intensities are photon counts), or where the fit diverges
    // (the best iterate is kept), else at the cap `iterations`.
    discrepancy,
    iterations,  // exactly `iterations` (0: default_iterations(method)), as before
};
// "discrepancy" or "iterations"; anything else is Error(invalid_option) for ReconOptions.stop.
Stop parse_stop(const std::string& text);
const char* stop_name(Stop stop) noexcept;
// The discrepancy rule's default tau: 1 - unknowns / measurements (real unknowns: two per object
// pixel the starting probe lights, per refined probe pixel, per refined position; measurements:
// the measured detector pixels of all frames), within [0.5, 1] (docs/ptychography.md).
double default_discrepancy_tau(double unknowns, double measurements) noexcept;
// The (r)PIE object step alpha when ReconOptions.alpha is 0 (measured for rPIE; ePIE's is 1).
double default_alpha(Method method) noexcept;

// The current estimates after an iteration (on the reconstruction's device): object [H][W] and
// probe [my][mx] (with K probe modes: [K][my][mx], not yet orthogonalised). Returning false stops
// the run (stop_reason "callback").
using EstimateCallback =
    std::function<bool(const ProgressInfo& info, View<const complex64> object, View<const complex64> probe)>;

struct ReconOptions {
    Method method = Method::awf;
    Loss loss = Loss::amplitude;  // AWF / WF (ePIE and rPIE project onto the measured amplitudes)
    // With stop = discrepancy the cap; 0: default_iterations(method). One (r)PIE iteration is one sweep.
    int iterations = 0;
    Stop stop = Stop::discrepancy;
    double discrepancy_tau = 0;   // > 0: the rule's tau; 0: default_discrepancy_tau() of the scan
    // Joint object and probe refinement. On by default: a probe stored in a file is an estimate
    // (as PtyPy, PyNX, tike and cdtools treat it); false holds a given probe fixed. Always on when
    // the scan has no probe.
    bool refine_probe = true;
    // The orientation of the scan's positions (conventions.hpp: 4 swaps x and y, then 1 negates x,
    // 2 negates y), applied before reconstructing.
    int orientation = 0;
    // Try the eight orientations cheaply and warn (ptycho.orientation) when another fits better.
    // Costs 8 x 12 object iterations on up to 100 positions; the app turns it on.
    bool check_orientation = false;
    int probe_delay = -1;         // iterations with the probe held fixed first; < 0: the method's default
    bool restart = true;          // AWF adaptive restart (O'Donoghue & Candes, gradient scheme)
    double alpha = 0;             // (r)PIE object strength; 0: default_alpha(method)
    double beta = 0;              // (r)PIE probe strength; 0: 1
    bool subpixel = true;         // false rounds positions to whole pixels
    // Mixed-state probe: K incoherent probe modes (AWF / WF, probe refined). The starting modes
    // come from the scan's or the estimated probe (initial_probe_modes); the result's modes are
    // orthogonal, by descending power (docs/ptychography.md, "Mixed-state probes").
    index_t modes = 1;
    // Position refinement (AWF / WF): the positions move along the loss's gradient after
    // `position_delay` iterations (docs/ptychography.md, "Position refinement").
    bool refine_positions = false;
    int position_delay = 10;
    // With refine_positions: the coarse whole-pixel search of each position's frame loss, over
    // +-R pixels (R: the scan's mean spacing + 1 px, coarse_search_radius), after the first
    // gradient step (at the earliest after iteration 11) and every 10 iterations until it moves
    // nothing (docs/ptychography.md, "Position refinement"). false: the gradient steps alone.
    bool position_search = true;
    // Multi-slice object (AWF / WF; docs/ptychography.md, "Multi-slice"): N slices slice_distance
    // metres apart (> 0 when slices > 1; reconstruct(Scan) takes the scan's when this is 0). Not
    // with position refinement or checkpoints. The estimates callback then sees the stack [N][H][W].
    index_t slices = 1;
    double slice_distance = 0;
    index_t batch = 0;            // frames per batched FFT (0: automatic)
    std::uint64_t seed = 1;       // (r)PIE position order
    Device device = Device::cpu;
    // Called after every iteration (one part: part 0 of 1); returning false stops the run
    // (stop_reason "callback").
    ProgressCallback progress;
    // The one extra hook: called after every iteration, before `progress`, with views of the
    // current object and probe, for what needs the estimates themselves (the NRMSE against a
    // truth per iteration in the tests and benchmarks). Empty: not called.
    EstimateCallback estimates;
    // Checkpoints (lumen/core/progress.hpp; issue #10): saved when due, resumed from when
    // `resume` is set (object, probe, the solver's momentum, the iteration count).
    Checkpointing checkpoint;
    // Distributed runs (docs/scaling.md): the ranks the frames are split over. Every rank builds
    // its Reconstructor from the positions of ALL J frames and passes the intensities of its own
    // block of them, block_of(J, rank, size) (lumen/core/comm.hpp); reconstruct(Scan) takes that
    // block from a whole scan itself. Every rank then holds the serial run's estimates (to the
    // order of floating-point sums) for AWF and WF. ePIE and rPIE sweep each rank's frames and
    // merge the ranks' objects (illumination-weighted mean) and probes (mean) after every sweep:
    // another algorithm than the serial sweep, with results of the same quality (docs/scaling.md).
    // nullptr or one rank: not split. No checkpoints; the ranks must make the same calls in the
    // same order.
    const Communicator* ranks = nullptr;

    // Throws Error(invalid_option) naming the field ("ReconOptions.iterations") when a field is
    // out of range: iterations, batch, alpha, beta >= 0 (alpha, beta finite), discrepancy_tau a
    // finite number >= 0, orientation 0 to 7,
    // modes 1 to 64 (more than 1: AWF / WF with the probe refined), refine_positions only with
    // AWF / WF, position_delay >= 0, slices 1 to 64 (more than 1: AWF / WF, no position refinement,
    // no checkpoints), slice_distance finite and >= 0, ranks (more than one) without checkpoints.
    // reconstruct() calls it.
    void validate() const;
};

struct StepSizes {
    double object = 0, probe = 0;                     // the base steps given to the solver
    double lipschitz_object = 0, lipschitz_probe = 0; // L_O, L_P at the start
    double curvature = 1;                             // far-field factor (kappa; 4 for Poisson; 1 amplitude)
    // Multi-slice (N > 1): L_n of every slice at the start; the object step above is then the
    // joint factor over the curvature, and each slice's gradient is divided by its L_n (now).
    std::vector<double> lipschitz_slices;
};

// What a reconstruction did, without the estimates themselves (Reconstructor::reconstruct writes
// those into the caller's views).
struct ReconInfo {
    // iterations, stop_reason ("discrepancy", "diverged": the fit got worse for several
    // iterations and the best iterate was kept, "max_iterations", "callback", "interrupted"),
    // discrepancy_tau (0: the rule was off), history (misfit: the rule's measure per iteration)
    SolverResult solver;
    // How the run was to stop: "discrepancy", "iterations" (asked for), or "cap" (asked for the
    // discrepancy rule, but the data are not photon counts: stopping_note says why).
    std::string stopping;
    std::string stopping_note;
    int kept_iteration = 0;     // stop_reason "diverged": the iteration whose estimates are returned
    StepSizes steps;
    bool refined_probe = false;
    bool probe_from_data = false;
    Array<float> positions;     // [J][2] host, the positions used (after the orientation; refined ones when refined)
    // K > 1: every mode [K][my][mx] (host), orthogonal, by descending power (probe is mode 0), and
    // each mode's fraction of the total power. Empty for one mode.
    Array<complex64> probe_modes;
    std::vector<double> mode_fractions;
    bool refined_positions = false;
    // Against Scan::true_positions (simulations): the rms distance (pixels, both axes together)
    // of the positions used to the true ones after removing the mean offset (a common translation
    // cannot be determined); the same for the scan's recorded positions. NaN without a truth.
    double position_error = NAN, recorded_position_error = NAN;
    // Multi-slice (ReconOptions::slices > 1): the slices [N][H][W] (host) and their distance (m);
    // the object is then their product (the projection). Empty / 0 for one slice.
    Array<complex64> slices;
    double slice_distance = 0;
    Model::Residual residual;   // the final fit against the data (noise-normalised: residual.ratio())
    // Against the scan's truth (simulations: Scan::true_object, true_probe) when it has one and the
    // object lies on the truth's grid; NaN otherwise (Reconstructor::compare_with_truth). nrmse:
    // the object over the region the true probe (else the final probe) illuminates (at least 0.1
    // of the maximum), after the global phase (known probe) or also the shift, ramp and complex
    // scale (refined probe) are removed; nrmse_probe: the probe (complex scale removed) when it
    // was refined.
    Quality quality;
};

struct ReconResult : ReconInfo {
    Array<complex64> object;    // [H][W] host
    Array<complex64> probe;     // [my][mx] host
    Array<float> illumination;  // [H][W] host, for the final probe
};

// Reconstructions of one scan layout (positions, frame, object grid, geometry) with one set of
// options, call after call: the model (its batched FFT plans, the positions and work buffers on
// options.device), the object and probe estimates' buffers and the orientation are set up once
// and kept, so a series of scans on the same positions (a tomography's angles, a parameter sweep,
// a Python loop) pays the set-up once. Measurements and results are views on either device; the
// work runs on options.device, and only the starting probe (one frame, for the overlap check)
// comes to the host, plus the mean pattern when the probe is estimated from the data. Not for
// use by several threads at once.
class Reconstructor {
public:
    // positions: [J][2] object pixels (any device), before options.orientation is applied.
    // Validates the options (Error(invalid_option) naming the field) and the layout
    // (Error(bad_input): a window leaving the object, a non-finite position).
    Reconstructor(View<const float> positions, const ScanLayout& layout, ReconOptions options);
    // The scan's positions and layout (its measurements, probe and truth are not used here).
    Reconstructor(const Scan& scan, ReconOptions options);
    Reconstructor(Reconstructor&&) noexcept;
    Reconstructor& operator=(Reconstructor&&) noexcept;
    ~Reconstructor();

    // intensities: [J][ny][nx] photons in detector order (any device); mask: [ny][nx] 1 measured,
    // 0 ignored (any device; empty: all measured); initial_probe: [ny][nx] centred (any device;
    // empty: estimated from the data, as reconstruct(Scan) does). object: [H][W]
    // (object_shape()) and probe: [ny][nx], any device, overwritten with the estimates. A view of
    // the wrong shape is Error(bad_input) whose field() names it ("intensities", "object", ...).
    // ReconInfo::quality stays NaN (compare_with_truth measures it).
    ReconInfo reconstruct(View<const float> intensities, View<const float> mask, View<const complex64> initial_probe,
                          View<complex64> object, View<complex64> probe);

    // How close a result of this plan (object [H][W], probe [ny][nx], any device) is to a truth
    // (true_object [H][W]; true_probe [ny][nx] or empty), by the rules of ReconInfo::quality;
    // refined_probe: whether the probe was refined (ReconInfo::refined_probe).
    Quality compare_with_truth(View<const complex64> object, View<const complex64> probe, bool refined_probe,
                               View<const complex64> true_object, View<const complex64> true_probe = {});

    // The object grid [H][W], the frame [ny][nx], the positions used [J][2] (host, after the
    // orientation), the illumination of the probe last reconstructed [H][W] (options().device).
    Shape object_shape() const;
    Shape probe_shape() const;
    View<const float> positions() const;
    Array<float> illumination() const;
    const ReconOptions& options() const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

// Reconstructs a scan from a flat object (|O| = 1) and the scan's probe (refined unless
// options.refine_probe is false). Reports the ptycho.overlap / ptycho.coverage checks for the
// starting probe and, when asked, ptycho.orientation (lumen/core/checks.hpp). When the scan has no
// probe, one is estimated from the data: the pupil amplitude of probe_from_data() with the defocus
// (quadratic pupil phase, 13 candidate beam widths up to 3/4 of the frame) that fits the data best
// after a few object-only AWF iterations; the probe is then refined jointly. Validates the options
// first (ReconOptions::validate). Through a Reconstructor of its own.
ReconResult reconstruct(const Scan& scan, const ReconOptions& options);

// The steps above for the model's current probe, at `object`.
StepSizes step_sizes(const Model& model, Loss loss, View<const complex64> object, bool with_probe);

// A probe estimate from the measurements: the inverse FFT of the square root of the mean
// diffraction pattern (zero phase), centred in the frame. Its energy is the mean photon count per
// frame, as a probe on a unit-transmission object would give. intensities [J][ny][nx] in detector
// order; masked pixels (mask 0) count as zero.
// Distributed (`ranks`, docs/scaling.md): each rank passes its frames; the mean is over all.
Array<complex64> probe_from_data(View<const float> intensities, View<const float> mask = {},
                                 const Communicator& ranks = single_rank());

}  // namespace lumen::ptycho
