// The ptychography forward model, its adjoints and the far-field losses (docs/ptychography.md).
//
//   exit wave    psi_j = P_j (.) S_j O          S_j: the [my][mx] window of O at the integer corner of
//                                               position j; P_j = T_j P: the probe moved by the
//                                               sub-pixel remainder of position j (Fourier shift)
//   far field    Psi_j = F psi_j                F: lumen's unitary 2-D FFT, batched over positions
//                (near field: Psi_j = F^H H F psi_j, H the Fresnel transfer function; ModelOptions)
//   intensities  y_j = |Psi_j|^2
//   multi-slice  (ModelOptions::slices = N > 1) the object is a stack [N][H][W]:
//                psi_j = q_Nj (.) S_j O_N, q_nj = Prop_dz(q_(n-1)j (.) S_j O_(n-1)), q_1j = P_j,
//                Prop_dz the Fresnel propagator over the slice distance (docs/ptychography.md)
//
// Positions are [J][2] floats (row, column) in object pixels: the top-left corner of each probe
// window. The probe is centred in its window. Far fields inside the library are in FFT order
// (zero frequency at [0][0]); measured intensities are given in detector order (zero frequency at
// the centre, [my/2][mx/2]) and reordered once in set_data(). Because the window centring and this
// reordering only multiply Psi by a unit-modulus phase, |Psi|^2 is the same as with centred FFTs.
//
// Gradients use one convention throughout: the gradient with respect to (Re x, Im x) written as a
// complex array, i.e. 2 df/d conj(x). With it the step sizes of the AWF paper's majorisation are
// 1 / L with L = max of the illumination map (object) or of the object power map (probe).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/comm.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/linop.hpp"

namespace lumen::ptycho {

enum class Loss {
    amplitude,  // 1/2 sum (|Psi| - sqrt y)^2 (default: globally majorised, robust to noise)
    intensity,  // 1/2 sum (|Psi|^2 - y)^2 (Wirtinger flow's loss)
    poisson,    // sum |Psi|^2 - y - y log(|Psi|^2 / y) (Poisson negative log-likelihood, shifted to 0)
};
// "amplitude", "intensity" or "poisson"; anything else is Error(invalid_option) for ReconOptions.loss.
Loss parse_loss(const std::string& text);
const char* loss_name(Loss loss) noexcept;

// The object grid a scan needs: [floor(max row) + my][floor(max col) + mx]. Positions must be
// non-negative (scans read from files are shifted so that the smallest coordinate is 0).
Shape object_shape_for(View<const float> positions, const Shape& probe_shape);

// The half-width R (whole pixels) of the coarse position search of a scan (docs/ptychography.md,
// "Position refinement"): the positions' mean spacing sqrt(area / J) over their bounding box (a
// line scan: length / (J - 1)), rounded up, plus 1. positions: all of the scan's, [J][2], any device.
index_t coarse_search_radius(View<const float> positions);

struct ModelOptions {
    // Frames per batched FFT; 0 chooses as many as fit in about 256 MiB of work buffer.
    index_t batch = 0;
    // false rounds positions to the nearest pixel (no Fourier shifts of the probe).
    bool subpixel = true;
    // Near-field (Fresnel) propagation: the window's inverse Fresnel numbers per axis,
    // a = lambda z / (n p)^2 (p: the object pixel, which in near field is the (effective) detector
    // pixel). Both 0 (the default): far field. Otherwise Psi_j = F^H H F psi_j with
    // H(k) = exp(-i pi (a_y ky^2 + a_x kx^2)) (signed FFT-order frequencies), and the measured
    // frames are images in the window's own order (no reordering).
    double fresnel_y = 0, fresnel_x = 0;
    // Incoherent probe modes K (mixed-state probe): the measured intensity is
    // sum_k |F(P_jk (.) S_j O)|^2 (docs/ptychography.md, "Mixed-state probes"). 1: one coherent probe.
    index_t modes = 1;
    // Multi-slice object (docs/ptychography.md, "Multi-slice"): N slices O_1..O_N, the wave
    // propagated between consecutive slices over the slice distance dz with the Fresnel transfer
    // function of the near field above, with the window's coefficients a = lambda dz / (n p)^2 per
    // axis (slice_fresnel_y, slice_fresnel_x, both > 0 when slices > 1). 1: the thin object.
    index_t slices = 1;
    double slice_fresnel_y = 0, slice_fresnel_x = 0;
    // Distributed runs (docs/scaling.md): the ranks whose models together hold the scan, each the
    // frames of its own block (the positions given to the Model are that block's; the object grid
    // is the whole scan's). Everything the model sums over frames (the losses and their object and
    // probe gradients, the illumination and object-power maps and their maxima, the data
    // statistics, the residual) is then summed over the ranks, so that every rank gets the serial
    // model's values; per-frame outputs (far fields, intensities, position gradients and
    // curvatures) stay the rank's own. nullptr or a single rank: the model is the whole scan.
    const Communicator* ranks = nullptr;
    bool near_field() const { return fresnel_y != 0 || fresnel_x != 0; }
};

class Model {
public:
    // positions: [J][2] on any device (copied). Throws Error(bad_input) when a window leaves the
    // object or a position is not finite.
    Model(const Shape& object_shape, const Shape& probe_shape, View<const float> positions, Device device,
          const ModelOptions& options = {});
    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    Shape object_shape() const;
    Shape probe_shape() const;
    Shape data_shape() const;  // [J][my][mx]
    index_t positions() const;  // this model's frames (a rank's block in a distributed run)
    // The frames of all ranks together (positions() without ModelOptions::ranks).
    index_t total_positions() const;
    // The ranks the frames are split over (a single rank when not distributed).
    const Communicator& ranks() const;
    index_t modes() const;  // K (ModelOptions::modes)
    index_t slices() const;  // N (ModelOptions::slices)
    // The shape of the objects the losses take: [H][W] for one slice, [N][H][W] for N > 1.
    // Everything that takes an `object` below except the linear maps and object_power takes this
    // shape; the linear maps, object_power and position_curvature are single-slice only.
    Shape object_stack_shape() const;
    Device device() const;
    // True when some position has a sub-pixel remainder (and subpixel was not turned off).
    bool subpixel() const;
    index_t batch() const;
    // Integer corners [J][2] (host) and the sub-pixel remainders [J][2] (host).
    const Array<index_t>& corners() const;
    const Array<float>& remainders() const;

    // Sets the probe (any device; copied) and recomputes the shifted copies P_j: [K][my][mx] sets
    // every mode; [my][mx] (any K) sets mode 0 and zeroes the others (a single-mode model of the
    // same scan, e.g. to score a single probe).
    void set_probe(View<const complex64> probe);
    // [my][mx] (K = 1) or [K][my][mx].
    View<const complex64> probe() const;

    // Moves the scan positions ([J][2], any device; position refinement). The windows must stay
    // inside the object; the batches and plans are kept, the shifted probes recomputed.
    void set_positions(View<const float> positions);

    // The linear maps below (far_field, adjoint_object, far_field_of_probe, adjoint_probe, and the
    // LinOps built on them) are the single-mode model (K = 1); the losses and maps after them
    // handle any K.
    // Psi = A O for the current probe: [J][my][mx], FFT order.
    void far_field(View<const complex64> object, View<complex64> out) const;
    // out = A^H g = sum_j S_j^T conj(P_j) F^H g_j, [H][W].
    void adjoint_object(View<const complex64> g, View<complex64> out) const;
    // For a fixed object, the far field as a linear function of the probe, B P = F(T_j P (.) S_j O),
    // and its adjoint B^H g = sum_j T_j^H (conj(S_j O) F^H g_j).
    void far_field_of_probe(View<const complex64> probe, View<const complex64> object, View<complex64> out) const;
    void adjoint_probe(View<const complex64> g, View<const complex64> object, View<complex64> out) const;
    // Model intensities |Psi|^2 in detector order (zero frequency at the centre), [J][my][mx].
    void intensities(View<const complex64> object, View<float> out) const;

    // sum_j |P_j(r - c_j)|^2 on the object grid [H][W]; its maximum is L_O = ||A^H A||.
    Array<float> illumination() const;
    // sum_j |O(c_j + r)|^2 on the probe grid [my][mx]; its maximum is L_P (exact for integer
    // positions, the diagonal part of B^H B with sub-pixel shifts).
    Array<float> object_power(View<const complex64> object) const;
    // The maxima of those maps (L_O, L_P), computed in internal buffers (no allocation).
    double lipschitz_object() const;
    // With N > 1 slices (object: the stack), L_P = max_r sum_j |O_1(c_j + r)|^2 times
    // prod_{n > 1} max |O_n|^2 over the scanned windows.
    double lipschitz_probe(View<const complex64> object) const;
    // Multi-slice: the bound L_n of each slice (docs/ptychography.md, "Multi-slice"): the maximum
    // of the illumination reaching slice n (sum_j sum_k |q_njk|^2 on the object grid, q_n the wave
    // incident on slice n) times prod_{m > n} max |O_m|^2 over the scanned windows. One forward
    // pass. For N = 1: {lipschitz_object()}.
    std::vector<double> lipschitz_slices(View<const complex64> object) const;
    // Scales an object gradient g [H][W] pixel by pixel by reference / max(illumination(r),
    // floor * L_O) at the current probe and positions: the diagonal preconditioner of the object
    // step (docs/ptychography.md, "Step sizes"). Returns L_O. Single-slice.
    double precondition_object(View<complex64> g, double floor, double reference) const;
    // The same bounds at the stack of the last loss() call that asked for the object gradient of a
    // multi-slice model: that pass computes them on the way (no forward pass of their own). Empty
    // before such a call and for N = 1.
    const std::vector<double>& last_lipschitz_slices() const;

    // The measurements: intensities [J][my][mx] in detector order (any device; copied and
    // reordered), mask [my][mx] with 1 = measured and 0 = ignored (empty: every pixel counts).
    void set_data(View<const float> intensities, View<const float> mask = {});
    bool has_data() const;
    double data_max() const;    // max_k y_k over measured pixels
    double data_total() const;  // sum of all measured intensities

    // The loss f(O, P) for the current probe, and its gradients (2 df/d conj) with respect to the
    // object [H][W] and the probe (the shape of probe(): every mode) into the views that are not
    // empty; and df/dp, the derivative with respect to the positions [J][2] (row, column; real),
    // into grad_positions when that is not empty.
    double loss(Loss loss, View<const complex64> object, View<complex64> grad_object,
                View<complex64> grad_probe, View<float> grad_positions = {}) const;
    // The Gauss-Newton curvature of the loss along each position coordinate, [J][2] (device of
    // the model): sum over the frame of w(I) (dI/dp)^2 (docs/ptychography.md, "Position
    // refinement"); exact where the model fits the data. Costs about two gradients.
    void position_curvature(Loss loss, View<const complex64> object, View<float> out) const;
    // The coarse position search (docs/ptychography.md, "Position refinement"): each frame's loss
    // term with its window moved by whole pixels (dy, dx) from its current corner (the sub-pixel
    // remainder, the probe and the object held), into out [J] (the model's device; the rank's own
    // frames in a distributed run, not summed); +inf for a frame whose moved window would leave
    // the object. At (0, 0) the terms sum to loss(). One forward pass: one FFT per frame and mode.
    // Single-slice.
    void frame_losses(Loss loss, View<const complex64> object, index_t dy, index_t dx, View<float> out) const;
    // How well the model fits the measurements at this object: the sum over measured pixels of
    // (sqrt y - |Psi|)^2, the same sum's expectation if y were Poisson counts with mean |Psi|^2
    // (1/4 per bright pixel, less for dark ones), and the number of measured pixels. ratio() =
    // squared / expected is about 1 for a model that fits photon counts to the noise, far above 1
    // when the model does not fit (wrong geometry or conventions), below 1 for noiseless data.
    struct Residual {
        double squared = 0, expected = 0;
        index_t pixels = 0;
        double ratio() const { return expected > 0 ? squared / expected : 0.0; }
        double per_pixel() const { return pixels > 0 ? squared / double(pixels) : 0.0; }
    };
    Residual residual(View<const complex64> object) const;
    // loss() and residual() at the same object from one forward pass: the gradient pass also
    // fills `fit` (what the stopping rule reads, without a forward pass of its own).
    double loss(Loss loss, View<const complex64> object, View<complex64> grad_object, View<complex64> grad_probe,
                View<float> grad_positions, Residual& fit) const;

    // max over measured pixels of 6 |Psi|^2 - 2 y: a bound on the far-field curvature of the
    // intensity loss at this object (the step of that loss is 1 / (L_O times this)).
    double intensity_curvature(View<const complex64> object) const;

    // The Poisson guard eps in y / (|Psi|^2 + eps) (1e-3 of the mean measured intensity).
    double poisson_eps() const;

    struct Impl;
    // For the module's host code (src/ptycho: the (r)PIE sweeps reuse the batches and buffers).
    const Impl& internals() const { return *impl_; }

private:
    double loss_pass(Loss loss, View<const complex64> object, View<complex64> grad_object, View<complex64> grad_probe,
                     View<float> grad_positions, Residual* fit) const;
    std::unique_ptr<Impl> impl_;
};

// The model as linear operators, for adjoint tests and linear solvers: O -> A O (current probe of
// `model`), and P -> B P for a fixed object (copied). The model must outlive the operators.
LinOpPtr<complex64> object_operator(const Model& model);
LinOpPtr<complex64> probe_operator(const Model& model, View<const complex64> object);

}  // namespace lumen::ptycho
