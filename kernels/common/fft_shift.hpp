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

struct ScaleComplexF {
    complex64* x;
    float scale;
    LUMEN_HD void operator()(index_t i) const { x[i] = x[i] * scale; }
};

}  // namespace lumen::kern
