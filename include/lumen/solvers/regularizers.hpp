// Regularisers and proximal maps shared by the modalities.
#pragma once

#include "lumen/linop.hpp"

namespace lumen {

// Forward finite-difference gradient over the last `dims` axes (2 or 3) of arrays of `shape`
// (leading axes are batch). Range shape: [dims][shape...]. Boundary: the difference across the
// last sample is zero (Neumann), and the adjoint is the exact negative divergence.
template <class T>
LinOpPtr<T> finite_difference(const Shape& shape, int dims, Device device);

// Total variation of x over its last `dims` axes: sum_i ||(D x)_i||_2 (isotropic) or ||(D x)_i||_1.
template <class T>
double total_variation(View<const T> x, int dims, bool isotropic);

// Orthogonal 2-D wavelet transform (Daubechies-4, `levels` levels) over the last two axes of
// arrays of `shape`, periodic boundary; each transformed axis length must be divisible by
// 2^levels (docs/solvers.md). Coefficients have the input's shape (Mallat layout). Orthogonal:
// the adjoint is the inverse.
template <class T>
LinOpPtr<T> wavelet2d(const Shape& shape, int levels, Device device);

// x <- sign(x) * max(|x| - tau, 0) (complex: magnitude shrinkage, phase kept).
template <class T>
void soft_threshold(View<T> x, double tau);
// Projections for real data.
void project_nonnegative(View<float> x);
void project_box(View<float> x, float lo, float hi);

}  // namespace lumen
