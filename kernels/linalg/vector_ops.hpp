// Per-element functors of the vector algebra (include/lumen/linalg.hpp), run by the CPU executor
// (src/linalg.cpp) and the CUDA executor (kernels/linalg/vector_ops.cu).
#pragma once

#include <cmath>

#include "kernels/common/kernel.hpp"

namespace lumen::kern {


// Widen an element to the accumulation type.
LUMEN_HD inline double widen(float v) { return double(v); }
LUMEN_HD inline complex128 widen(complex64 v) { return complex128(double(v.re), double(v.im)); }

template <class T, class R>
struct DotF {
    const T* x; const T* y;
    LUMEN_HD R operator()(index_t i) const { return widen(conj(x[i])) * widen(y[i]); }
};
template <class T>
struct NormSqF {
    const T* x;
    LUMEN_HD double operator()(index_t i) const { return double(norm(x[i])); }
};
// The element itself, widened: a sum with SumOp, a maximum with MaxOp.
template <class T, class R>
struct SumF {
    const T* x;
    LUMEN_HD R operator()(index_t i) const { return widen(x[i]); }
};
template <class T>
struct NonFiniteF {
    const T* x;
    LUMEN_HD double operator()(index_t i) const {
        const float r = real(x[i]), m = imag(x[i]);
        return (math::finite(r) && math::finite(m)) ? 0.0 : 1.0;
    }
};
template <class T>
struct AxpbyF {
    T a; const T* x; T b; T* y;
    LUMEN_HD void operator()(index_t i) const { y[i] = a * x[i] + b * y[i]; }
};
template <class T>
struct AxpyF {
    T a; const T* x; T* y;
    LUMEN_HD void operator()(index_t i) const { y[i] += a * x[i]; }
};
template <class T>
struct LinCombF {
    T a; const T* x; T b; const T* y; T* out;
    LUMEN_HD void operator()(index_t i) const { out[i] = a * x[i] + b * y[i]; }
};
template <class T>
struct ScaleF {
    T a; T* x;
    LUMEN_HD void operator()(index_t i) const { x[i] = a * x[i]; }
};
template <class T>
struct FillF {
    T value; T* x;
    LUMEN_HD void operator()(index_t i) const { x[i] = value; }
};
template <class T>
struct MulF {
    const T* x; const T* y; T* out;
    LUMEN_HD void operator()(index_t i) const { out[i] = x[i] * y[i]; }
};
template <class T>
struct ConjMulF {
    const T* x; const T* y; T* out;
    LUMEN_HD void operator()(index_t i) const { out[i] = conj(x[i]) * y[i]; }
};
struct ClampF {
    float lo, hi; float* x;
    LUMEN_HD void operator()(index_t i) const { x[i] = fminf(fmaxf(x[i], lo), hi); }
};

}  // namespace lumen::kern
