// ESPIRiT coil sensitivities (Uecker et al., MRM 71:990, 2014; docs/mri.md, "ESPIRiT").
//
//  1. Calibration region: the fully sampled centred box of the mask, at most calibration x
//     calibration (fastMRI 1-D masks: calibration rows x the centre columns).
//  2. Calibration matrix: every kernel x kernel patch of the region, over all coils, is one
//     vector of length coils * kernel^2.
//  3. Its singular vectors with sigma >= threshold * sigma_max span the signal subspace (dense
//     Hermitian eigen-decomposition of the smaller Gram matrix, in double precision).
//  4. The projection onto that subspace, averaged over patch positions, is a k-space convolution;
//     on the image grid it is a coils x coils Hermitian matrix G(r) per pixel (coils(coils+1)/2
//     batched inverse FFTs of the kernel correlations).
//  5. The map at r is G(r)'s dominant eigenvector (power iteration from the virtual body coil, the
//     calibration data's first principal coil combination, which also fixes the phase: the maps'
//     phase is relative to that virtual coil); its eigenvalue is about 1 inside the object.
//  6. Maps are zeroed where that eigenvalue is below `crop`.
// Maps have unit norm over coils where kept, so the SENSE normal operator has norm <= 1.
#pragma once

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/mri/mask.hpp"

namespace lumen::mri {

struct EspiritOptions {
    index_t kernel = 6;        // kernel width (BART and SigPy default)
    index_t calibration = 24;  // maximal calibration box side (BART and SigPy default)
    double threshold = 0.02;   // singular values kept: sigma >= threshold * sigma_max (SigPy's rule)
    double crop = 0.8;         // eigenvalue below which a map is zeroed (BART's default)
    int iterations = 30;       // power iterations per pixel

    // kernel >= 1, calibration >= kernel, threshold in [0, 1), crop in [0, 1], iterations >= 1:
    // Error(invalid_option) naming "EspiritOptions.member".
    void validate() const;
};

struct EspiritResult {
    Array<complex64> maps;      // [coils][H][W], on the requested device
    Array<float> eigenvalues;   // [H][W]: the dominant eigenvalue per pixel (before cropping)
    index_t kernels_kept = 0;   // dimension of the signal subspace
    CalibrationBox box;         // the calibration region used
};

// The most coils ESPIRiT handles per slice (the per-pixel eigenvector lives in registers).
constexpr index_t espirit_max_coils = 64;

// kspace [coils][H][W] (unsampled points zero), mask [H][W] (0/1; an empty view: the mask is taken
// from the non-zero samples). Validates the options; throws Error(bad_input) when the fully sampled
// centre is smaller than the kernel, or the calibration data are all zero.
EspiritResult espirit(View<const complex64> kspace, View<const float> mask, const EspiritOptions& options,
                      Device device);

}  // namespace lumen::mri
