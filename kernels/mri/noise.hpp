// Per-element math of coil noise pre-whitening (src/mri/noise.cpp), run by the CPU executor and
// the CUDA executor (kernels/mri/noise.cu).
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

// out[c, p] = sum_{d <= c} w[c, d] * in[d, p]: the lower-triangular whitening matrix applied to
// the coil vector of every k-space sample. A gather over coils, so race-free; in and out must not
// alias (each output coil reads every input coil up to it).
struct WhitenF {
    const complex64* w;  // coils x coils, row-major, lower triangular
    const complex64* in;
    complex64* out;
    index_t n, coils;
    LUMEN_HD void operator()(index_t p) const {
        for (index_t c = 0; c < coils; ++c) {
            complex64 acc(0.0f, 0.0f);
            for (index_t d = 0; d <= c; ++d) acc += w[c * coils + d] * in[d * n + p];
            out[c * n + p] = acc;
        }
    }
};

}  // namespace lumen::kern
