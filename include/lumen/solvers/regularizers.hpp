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

// sum_i |x_i| accumulated in double (the value of an l1 penalty, e.g. for fista's reg_value).
template <class T>
double l1_norm(View<const T> x);

// Orthogonal 2-D wavelet transform (Daubechies-4 = db2, four taps) over the last two axes of
// arrays of `shape` (leading axes are batch), periodic boundary, coefficients in the input's
// shape (Mallat layout: the coarsest approximation in the top-left corner). Both transformed axis
// lengths must be even; each level halves them, and the number of levels is limited to those at
// which both lengths are still even (wavelet2d_levels; e.g. 320 x 320 allows 6, 368 x 320 allows 4).
// Orthogonal for every such size: the adjoint is the inverse. See docs/solvers.md.
template <class T>
LinOpPtr<T> wavelet2d(const Shape& shape, int levels, Device device);
// The number of levels wavelet2d(shape, requested, ...) uses: min(requested, the number of
// halvings that keep both last axes even). Throws bad_input for odd lengths or requested < 1.
int wavelet2d_levels(const Shape& shape, int requested);

// x <- sign(x) * max(|x| - tau, 0) (complex: magnitude shrinkage, phase kept). The proximal map of
// tau * ||x||_1. NaN stays NaN (so that a solver's divergence guard still sees it).
template <class T>
void soft_threshold(View<T> x, double tau);
// Projections for real data (NaN stays NaN, unlike lumen::clamp).
void project_nonnegative(View<float> x);
void project_box(View<float> x, float lo, float hi);

// Plain overloads for float and complex64 (an Array or View<T> converts here).
#define LUMEN_REGULARIZER_PLAIN_OVERLOADS(T)                                                              \
    inline double total_variation(View<const T> x, int dims, bool isotropic) {                            \
        return total_variation<T>(x, dims, isotropic);                                                   \
    }                                                                                                     \
    inline void soft_threshold(View<T> x, double tau) { soft_threshold<T>(x, tau); }                 \
    inline double l1_norm(View<const T> x) { return l1_norm<T>(x); }
LUMEN_REGULARIZER_PLAIN_OVERLOADS(float)
LUMEN_REGULARIZER_PLAIN_OVERLOADS(complex64)
#undef LUMEN_REGULARIZER_PLAIN_OVERLOADS

}  // namespace lumen
