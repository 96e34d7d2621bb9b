// Per-element math of the MRI preprocessing (src/mri/preprocess.cpp), run by the CPU executor and
// the CUDA executor (kernels/mri/preprocess.cu).
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

// out[v, p] = sum_c m[v, c] * in[c, p] for v < virtual_coils: coil compression of every sample's
// coil vector (m is virtual_coils x coils, row-major). A gather over coils, so race-free; in and
// out must not alias.
struct CoilMixF {
    const complex64* m;
    const complex64* in;
    complex64* out;
    index_t n, coils, virtual_coils;
    LUMEN_HD void operator()(index_t p) const {
        for (index_t v = 0; v < virtual_coils; ++v) {
            complex64 acc(0.0f, 0.0f);
            for (index_t c = 0; c < coils; ++c) acc += m[v * coils + c] * in[c * n + p];
            out[v * n + p] = acc;
        }
    }
};

}  // namespace lumen::kern
