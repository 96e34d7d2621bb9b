// Per-element math of the FFT wrapper: the cyclic (i)fftshift over up to three trailing axes,
// fused with a scale factor so that the unitary normalisation costs no extra pass.
#pragma once

#include "kernels/common/hd.hpp"

namespace lumen::kern {

// out[b, j0, j1, j2] = scale * in[b, (j0 - s0) mod n0, (j1 - s1) mod n1, (j2 - s2) mod n2]
// Unused leading transform axes have n = 1, s = 0. fftshift uses s = n / 2, ifftshift (n + 1) / 2.
struct ShiftScaleF {
    const complex64* in;
    complex64* out;
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

// For transforms whose sizes are all even, the centring shifts are modulations:
//   fftshift(FFT(ifftshift(x)))_k = (-1)^(sum_a n_a/2) (-1)^(sum_a k_a) FFT((-1)^(sum_a j_a) x)_k,
// so centring costs two in-place sign passes instead of two shifted copies. `factor` carries
// the constant sign and the unitary scale (1 before the FFT).
struct CheckerboardF {
    complex64* x;
    index_t n0, n1, n2;  // unused leading axes have n = 1
    float factor;
    LUMEN_HD void operator()(index_t i) const {
        const index_t j2 = i % n2;
        const index_t j1 = (i / n2) % n1;
        const index_t j0 = (i / (n2 * n1)) % n0;
        const float sign = ((j0 + j1 + j2) & 1) ? -factor : factor;
        x[i] = x[i] * sign;
    }
};

struct ScaleComplexF {
    complex64* x;
    float scale;
    LUMEN_HD void operator()(index_t i) const { x[i] = x[i] * scale; }
};

}  // namespace lumen::kern
