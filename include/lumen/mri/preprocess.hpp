// Work removed before ESPIRiT and the iterations (docs/mri.md, "Preprocessing: readout crop and
// coil compression"), as `lumen-mri recon` does by default:
//
//  1. Readout oversampling. The readout (H, k-space axis -2) is fully sampled and usually 2x
//     oversampled; the output is the centre recon_height rows of the image. When the mask is the
//     same on every row (1-D phase-encode masks), each readout line is a column of a fully sampled
//     1-D transform, so the inverse centred FFT, a crop of the centre rows and the forward centred
//     FFT give the k-space of the cropped field of view exactly (unitary: the noise variance per
//     sample is unchanged). ESPIRiT and every iteration then run on H = recon_height.
//  2. Coil compression (Huang et al. 2008; BART `cc -S`, SigPy): the SVD of the coil data (the
//     eigen-decomposition of its coils x coils Gram matrix) gives orthonormal virtual coils by
//     energy; the fewest that hold `coil_energy` of the data energy are kept, y' = U^H y. Unitary
//     per sample, so white coil noise stays white with the same variance.
#pragma once

#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::mri {

struct PreprocessOptions {
    // Remove the readout oversampling (only when the mask is the same on every row and the
    // reconstruction box is shorter than the readout).
    bool readout_crop = true;
    // Keep the fewest virtual coils holding at least this fraction of the data energy; 1: no
    // compression. Default measured (docs/mri.md, "Preprocessing"): on the 15-coil knee-size
    // simulation 0.999 keeps 12 coils and costs 0.13 dB (L1-wavelet) / 0.17 dB (CG-SENSE) of PSNR;
    // 0.995 keeps 9 and costs 0.8 / 0.5 dB; below 0.98 ESPIRiT maps break down (8 coils 256^2:
    // -16 dB at 0.95).
    double coil_energy = 0.999;
    // > 0: exactly this many virtual coils (at most the coil count), overriding coil_energy.
    int virtual_coils = 0;
    // The energy rule keeps at least this many (at most the coil count): a coil split over N
    // processes (ReconOptions::coil_split) needs N, which lumen-mri sets under mpirun.
    int min_virtual_coils = 1;

    // Error(invalid_option) naming "PreprocessOptions.coil_energy" / ".virtual_coils".
    void validate() const;
    bool compresses() const { return virtual_coils > 0 || coil_energy < 1.0; }
};

// True when every row of mask [H][W] equals the first (a 1-D mask broadcast over the readout).
bool mask_constant_along_readout(View<const float> mask);

// The k-space of the centre `rows` rows of each coil's image: kspace [coils][H][W] -> [coils][rows][W]
// (inverse centred FFT, center_crop's rows, forward centred FFT; on kspace's device). Exact only
// when the sampling is the same on every row (mask_constant_along_readout): the caller checks.
Array<complex64> crop_readout(View<const complex64> kspace, index_t rows);

struct CoilCompression {
    index_t coils = 0;                 // physical coils
    index_t virtual_coils = 0;         // kept
    std::vector<complex64> matrix;     // virtual_coils x coils, row-major: y'_v = sum_c matrix[v, c] y_c
    std::vector<double> energy;        // the data energy of every virtual coil (descending, all coils)
    double kept_fraction = 1.0;        // sum of the kept energies / the total
};

// The compression of kspace [coils][...] (all its samples; missing ones are zero) by `options`.
CoilCompression coil_compression(View<const complex64> kspace, const PreprocessOptions& options);
// data [coils][...] (k-space or coil maps) -> [virtual_coils][...], on data's device.
Array<complex64> compress_coils(const CoilCompression& compression, View<const complex64> data);

// One slice as the reconstruction gets it, and what was done to it.
struct PreparedSlice {
    Array<complex64> kspace;  // [coils'][H'][W]
    Array<float> mask;        // [H'][W]
    Array<complex64> maps;    // given maps, transformed alike (empty when none were given)
    bool readout_cropped = false;
    index_t coils = 0, virtual_coils = 0;
    double kept_fraction = 1.0;
};

// kspace [coils][H][W], mask [H][W], maps [coils][H][W] or empty. The readout is cropped to
// recon_height when options.readout_crop, 0 < recon_height < H, crop_allowed (the caller's own
// conditions, e.g. no partial-Fourier model on the full grid) and the mask is constant along the
// readout; the coils are compressed when options.compresses() and compress_allowed.
PreparedSlice prepare_slice(Array<complex64> kspace, View<const float> mask, View<const complex64> maps,
                            index_t recon_height, const PreprocessOptions& options, bool crop_allowed = true,
                            bool compress_allowed = true);

}  // namespace lumen::mri
