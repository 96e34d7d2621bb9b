// Partial-Fourier acquisitions (docs/mri.md, "Partial Fourier"): finding them, and the POCS
// reconstruction of the half of k-space they leave out.
//
// A partial-Fourier scan acquires one side of k-space fully and the other only near the centre
// (phase encode: 5/8 to 7/8 of the lines; readout: an asymmetric echo). Zero-filling the rest
// halves the resolution along that axis on one side and blurs the image. Because the image of a
// real object is nearly real up to a smooth phase, its k-space is nearly conjugate-symmetric, and
// the missing part can be estimated: POCS (Haacke et al., J Magn Reson 1991) alternates the phase
// constraint x <- |x| e^{i phi} (phi from the symmetric centre, Hann-windowed) with data
// consistency (measured samples restored), per coil. The iterative methods put the same phase
// constraint into their model instead (phase_constrained below).
#pragma once

#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/linop.hpp"

namespace lumen::mri {

// One axis of the k-space plane: the acquired extent [lo, hi) about the centre n/2.
struct PartialFourierAxis {
    index_t n = 0, lo = 0, hi = 0;
    bool partial = false;   // one side is missing beyond the other's reach
    bool declared = false;  // the header's encoding limits / center_sample say so
    // Acquired extent over the full symmetric extent: (hi - lo) / (2 max(n/2 - lo, hi - n/2)).
    double fraction() const;
    // The symmetric extent about n/2 both sides reach: [n/2 - h, n/2 + h).
    index_t half_symmetric() const;
    std::string describe(const char* axis) const;  // "phase encode: 75 % acquired (columns 24..95 of 96)"
};

struct PartialFourier {
    PartialFourierAxis rows, cols;  // readout (H), phase encode (W)
    bool any() const { return rows.partial || cols.partial; }
};

// From the sampling mask [H][W] of one slice, within the header's acquired extent
// [first_row, last_row) x [first_column, last_column). An axis is partial when the header's
// extent is asymmetric about the centre (declared), or when the sampled extent is and the band
// that one side lacks holds, on the other side, so many sampled lines that an undersampling mask
// would leave the first band empty by chance with probability below 1e-3 (random masks often
// miss a few outer lines; that is not partial Fourier).
PartialFourier detect_partial_fourier(View<const float> mask, index_t first_row, index_t last_row, index_t first_column,
                                      index_t last_column);

// POCS: fills the left-out region of kspace [coils][H][W] (any device) in place. Samples the mask
// marks acquired keep their values; undersampled samples inside the acquired extent stay zero.
void pocs_partial_fourier(View<complex64> kspace, View<const float> mask, const PartialFourier& pf,
                          int iterations = 20);

// The iterative methods' counterpart of POCS: the same phase constraint inside the model. The
// image is x = e^{i phi} r with r real and phi the phase of `image` (a first, unconstrained
// estimate) low-passed to the symmetric centre of k-space (Hann window); the solvers then fit the
// real r, and the conjugate symmetry this imposes on k-space fills the left-out part
// (phase-constrained SENSE). Returns the operator r -> A(e^{i phi} r) (real-linear: its adjoint
// keeps the real part) and the phase, [H][W] on A's device.
struct PhaseConstrained {
    LinOpPtr<complex64> op;
    Array<complex64> phase;
};
PhaseConstrained phase_constrained(LinOpPtr<complex64> A, View<const complex64> image, const PartialFourier& pf);

}  // namespace lumen::mri
