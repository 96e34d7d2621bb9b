// Receiver noise (docs/mri.md, "Noise"): pre-whitening the coils from a noise pre-scan, and the
// noise level that the noise-normalised residual of a reconstruction is measured against.
//
// Pre-whitening, as Gadgetron and BART do it: from noise samples n (receiver on, no RF) the coil
// covariance Psi = 1/(N-1) sum n n^H is estimated, scaled by noise_dwell / imaging_dwell (the
// noise variance per sample grows with the receiver bandwidth = 1/dwell), and factored by
// Cholesky, Psi = L L^H. Applying L^-1 to every k-space sample's coil vector leaves noise that is
// white (uncorrelated, equal variance) across coils, which the SENSE model and the RSS combination
// assume. lumen scales the whitener by sigma = sqrt(tr(Psi) / coils): the whitened noise variance
// per coil is the mean coil noise variance of the file, so data whose coils are already white and
// equal are left unchanged and keep their scale.
#pragma once

#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::mri {

struct NoiseWhitening {
    index_t coils = 0;
    index_t samples = 0;                 // noise samples per coil
    std::vector<complex128> covariance;  // Psi, coils x coils row-major (imaging bandwidth)
    std::vector<complex64> whitener;     // sigma * L^-1, coils x coils row-major, lower triangular
    double variance = 0.0;               // sigma^2 = tr(Psi) / coils: E|n|^2 per coil after whitening
    double std_ratio = 1.0;              // largest / smallest coil noise standard deviation
    double max_correlation = 0.0;        // largest |Psi_cd| / sqrt(Psi_cc Psi_dd), c != d
};

// From noise samples [coils][n]. dwell_ratio = noise dwell time / imaging dwell time (1 when
// unknown). Error(bad_input) naming `where` when there are too few samples (n <= coils) or the
// covariance is singular (a dead or duplicated channel).
NoiseWhitening noise_whitening(View<const complex64> noise, double dwell_ratio, const std::string& where);

// kspace [coils][...] (any device) whitened in place. Coil maps given with the data (a
// simulation's true sensitivities) must be whitened the same way: W S.
void apply_whitening(const NoiseWhitening& w, View<complex64> kspace);

// The noise variance E|n|^2 per k-space sample of one slice [coils][H][W] (mask [H][W]) when
// there is no noise pre-scan: from the background of the zero-filled coil images, the quietest
// tenth of 8x8 blocks (air around the object, the readout's oversampled margin) pooled,
// median(|x|^2) / ln 2 (|n|^2 of complex Gaussian noise is exponential with median sigma^2 ln 2),
// divided by the sampled fraction (the unitary FFT spreads the measured samples' noise over the
// image). Signal, or aliasing of an undersampled scan, only raises it: an upper bound, exact for
// noise-only blocks. (The outer k-space is no substitute: in lumen's simulations it holds 20 to
// 100 times more object signal than noise.) 0 when nothing is measured.
double background_noise_variance(View<const complex64> kspace, View<const float> mask);

// The noise variance E|n|^2 per k-space sample of one slice [coils][H][W] (mask [H][W]) from the
// air along the readout, untouched by undersampling (docs/mri.md, "Stopping and defaults"): the
// columns measured over every row are transformed along the readout (H) alone by the unitary
// inverse FFT, which keeps white noise white with the same variance and does not mix columns, so
// an image row y outside the object (the readout's 2x oversampled margin, air) holds noise only,
// whatever the phase-encode sampling. Rows are ranked by median |h|^2 over the even columns and
// the quietest tenth kept; the estimate is median |h|^2 over the odd columns of those rows / ln 2
// (|n|^2 of complex Gaussian noise is exponential with median sigma^2 ln 2). Ranking on one half
// and measuring on the other leaves the estimate unbiased on noise-only rows (ranking and
// measuring the same samples would keep the rows whose noise happened to be low: about 10% low).
// 0 (no estimate) with fewer than two fully measured columns (2-D Poisson masks): the image
// background there holds undersampling aliasing, an upper bound only (measured: a discrepancy
// stop on it ended L1-wavelet at iteration 2 of 30, 25 dB instead of 45), so the discrepancy stop
// is off for such slices (the run ends at the cap) unless the noise variance is given.
double readout_noise_variance(View<const complex64> kspace, View<const float> mask);

}  // namespace lumen::mri
