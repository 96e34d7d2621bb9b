// Quality of a ptychographic reconstruction against a known object (docs/ptychography.md,
// "Metrics"). Inputs may live on either device (they are copied to the host).
#pragma once

#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::ptycho {

// Weights 1 where the illumination is at least `fraction` of its maximum, 0 elsewhere: the
// region where the scan determines the object.
Array<float> illuminated_region(View<const float> illumination, double fraction = 0.1);

// NRMSE || a est - truth || / || truth || over the region (weights), where a removes the global
// ambiguity: a unit phase factor with a known probe. For blind runs (blind = true) also what blind
// ptychography cannot determine: a translation (registered to a fraction of a pixel on the
// magnitudes), a linear phase ramp (from the mean phase difference of neighbouring pixels), and a
// complex scale instead of the unit phase factor.
double object_nrmse(View<const complex64> truth, View<const complex64> estimate, View<const float> region,
                    bool blind = false);

// Fourier ring correlation between two complex images over the bounding box of `region` (or the
// whole image), after removing their relative global phase and apodising with a Tukey window
// (alpha 0.2). Rings are one frequency bin wide; frequencies in cycles per pixel (up to 0.5).
struct FrcCurve {
    std::vector<double> frequency, frc, one_bit, half_bit;
    std::vector<long> pixels;  // pixels per ring
    // The first frequency where the FRC drops below the half-bit threshold (0.5: never).
    double half_bit_crossing = 0.5;
};
FrcCurve fourier_ring_correlation(View<const complex64> a, View<const complex64> b, View<const float> region = {});

}  // namespace lumen::ptycho
