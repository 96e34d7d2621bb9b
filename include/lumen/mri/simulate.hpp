// A simulated multi-coil Cartesian scan (docs/mri.md, "Simulation"): an analytic ellipse phantom
// with smooth shading and phase, smooth complex coil sensitivities of loops on a ring, and fully
// sampled k-space F(S_c x) plus optional complex Gaussian noise. Laid out like fastMRI: k-space
// [slices][coils][H][W] with the readout H oversampled twice over the reconstruction box.
#pragma once

#include <cstdint>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::mri {

struct SimulationOptions {
    index_t height = 192;        // k-space / image rows H (readout)
    index_t width = 144;         // k-space / image columns W (phase encode)
    index_t recon_height = 0;    // reconstruction box; 0: min(H / 2, W) (H/2: the 2x readout oversampling)
    index_t recon_width = 0;     // 0: same as recon_height
    index_t coils = 8;           // 1: single-coil (S = 1)
    index_t slices = 1;
    double noise = 0.0;          // complex noise: E|n|^2 = (noise * rms of the coil images)^2 per k-space sample
    double scale = 1.0;          // peak object magnitude (fastMRI data are ~1e-4; lumen's weights are relative)
    std::uint64_t seed = 0;      // noise

    // Every field in range (sizes 16 to 4096, 1 to 64 coils, 1 to 512 slices, a reconstruction box
    // of at least 8 inside the k-space): Error(invalid_option) naming "SimulationOptions.member".
    void validate() const;
};

struct SimulatedScan {
    Array<complex64> kspace;         // [slices][coils][H][W], fully sampled
    Array<complex64> image;          // [slices][H][W], the true object
    Array<complex64> sensitivities;  // [coils][H][W] (the same for every slice)
    Array<float> target;             // [slices][rh][rw]: centre crop of RSS of the noiseless coil images
    Array<float> rss;                // [slices][rh][rw]: centre crop of RSS of ifft2c(kspace) (fastMRI's target)
    index_t recon_height = 0, recon_width = 0;
};

// Validates the options and simulates on the CPU.
SimulatedScan simulate(const SimulationOptions& options);

// The noiseless target for a reconstruction: centre crop of |x| * sqrt(sum_c |S_c|^2).
Array<float> truth_target(View<const complex64> image, View<const complex64> sensitivities, index_t recon_height,
                          index_t recon_width);

}  // namespace lumen::mri
