// Per-element math of the FFT wrapper: the cyclic (i)fftshift over up to three trailing axes,
// fused with a scale factor so that the unitary normalisation costs no extra pass.
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

// out[b, j0, j1, j2] = scale * in[b, (j0 - s0) mod n0, (j1 - s1) mod n1, (j2 - s2) mod n2], for
// 0 <= s <= n. Unused leading transform axes have n = 1, s = 0. fftshift uses s = n / 2,
// ifftshift (n + 1) / 2. T = complex64 (the FFT wrapper) or float (ptychography's frames).
template <class T>
struct CyclicShiftF {
    const T* in;
    T* out;
    index_t n0, n1, n2;
    index_t s0, s1, s2;
    float scale;
    LUMEN_HD void operator()(index_t i) const {
        const index_t j2 = i % n2;
        const index_t j1 = (i / n2) % n1;
        const index_t j0 = (i / (n2 * n1)) % n0;
        const index_t b = i / (n2 * n1 * n0);
        const index_t k0 = (j0 - s0 + n0) % n0, k1 = (j1 - s1 + n1) % n1, k2 = (j2 - s2 + n2) % n2;
        out[i] = in[((b * n0 + k0) * n1 + k1) * n2 + k2] * scale;
    }
};
using ShiftScaleF = CyclicShiftF<complex64>;

// For transforms whose sizes are all even, the centring shifts are modulations:
//   fftshift(FFT(ifftshift(x)))_k = (-1)^(sum_a n_a/2) (-1)^(sum_a k_a) FFT((-1)^(sum_a j_a) x)_k,
// so centring costs two in-place sign passes instead of two shifted copies (here, and folded
// into the MRI operators' passes: kernels/mri/sense_ops.hpp, Checker).
//
// Whether (-1)^(j0 + j1 + j2) is -1 for element i of a C-order array: with every transformed
// length even, the parity of j0 + j1 + j2 is that of i + i / n2 (2-D and 3-D) + i / (n1 n2)
// (3-D), two divisions instead of a full unravel.
LUMEN_HD inline bool centring_odd(index_t i, index_t row_length, index_t plane_length, bool add_rows,
                                  bool add_planes) {
    index_t p = i;
    if (add_rows) p += i / row_length;
    if (add_planes) p += i / plane_length;
    return (p & 1) != 0;
}

// x *= (-1)^(j0 + j1 + j2) factor; `factor` carries the constant sign and the unitary scale (1
// before the FFT).
struct CheckerboardF {
    complex64* x;
    index_t row_length;    // n2
    index_t plane_length;  // n1 * n2
    bool add_rows, add_planes;
    float factor;
    LUMEN_HD void operator()(index_t i) const {
        x[i] = x[i] * (centring_odd(i, row_length, plane_length, add_rows, add_planes) ? -factor : factor);
    }
};

struct ScaleComplexF {
    complex64* x;
    float scale;
    LUMEN_HD void operator()(index_t i) const { x[i] = x[i] * scale; }
};

}  // namespace lumen::kern
