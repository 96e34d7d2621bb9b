// One level of the orthogonal 2-D Daubechies-4 (db2, four taps) wavelet transform with periodic
// boundaries (lumen::wavelet2d), one pass per axis, one output element per index (gather form).
//
// A level acts on the top-left h x w block of every [H][W] plane (pitch W, plane size H * W);
// h and w are even. Along an axis of length L: a_k = sum_m h_m x_{(2k+m) mod L} (k < L/2, stored
// first), d_k = sum_m g_m x_{(2k+m) mod L} (stored after), g_m = (-1)^m h_{3-m}. The inverse pass
// is the transpose, x_j = sum over m of parity j of h_m a_k + g_m d_k with k = (j - m)/2 mod L/2,
// which is also the inverse because the periodised filter bank is orthogonal for every even L
// (also L = 2, where the four taps wrap onto two samples).
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

LUMEN_HD inline float db4_low(int m) {
    // (1 + sqrt3, 3 + sqrt3, 3 - sqrt3, 1 - sqrt3) / (4 sqrt2)
    switch (m) {
        case 0: return 0.48296291314453414f;
        case 1: return 0.83651630373780790f;
        case 2: return 0.22414386804201339f;
        default: return -0.12940952255126037f;
    }
}
LUMEN_HD inline float db4_high(int m) { return (m % 2 == 0 ? 1.0f : -1.0f) * db4_low(3 - m); }

struct WaveletBlock {
    index_t h, w;        // block size at this level (both even)
    index_t H, W;        // full plane
    index_t batch;       // planes
    LUMEN_HD index_t count() const { return batch * h * w; }
    // Element offset of block position (plane b, row r, column c).
    LUMEN_HD index_t offset(index_t b, index_t r, index_t c) const { return b * H * W + r * W + c; }
};

// Analysis of one sequence position: `out` index j < L/2 -> approximation, else detail.
template <class T>
LUMEN_HD inline T dwt_sample(const T* src, index_t stride, index_t L, index_t j) {
    const index_t half = L / 2;
    const bool detail = j >= half;
    const index_t k = detail ? j - half : j;
    T acc(0.0f);
    for (int m = 0; m < 4; ++m) {
        const float f = detail ? db4_high(m) : db4_low(m);
        acc += src[((2 * k + m) % L) * stride] * f;
    }
    return acc;
}

// Synthesis of sequence position j from coefficients (approximations first, then details).
template <class T>
LUMEN_HD inline T idwt_sample(const T* src, index_t stride, index_t L, index_t j) {
    const index_t half = L / 2;
    T acc(0.0f);
    for (int m = int(j % 2); m < 4; m += 2) {
        const index_t k = ((j - m + L) / 2) % half;
        acc += src[k * stride] * db4_low(m) + src[(k + half) * stride] * db4_high(m);
    }
    return acc;
}

// Along the rows (last axis) when `along_rows`, else along the columns; forward or inverse.
template <class T>
struct WaveletPassF {
    const T* src; T* dst; WaveletBlock blk; bool along_rows; bool inverse;
    LUMEN_HD void operator()(index_t i) const {
        const index_t c = i % blk.w;
        const index_t r = (i / blk.w) % blk.h;
        const index_t b = i / (blk.w * blk.h);
        T v;
        if (along_rows) {
            const T* line = src + blk.offset(b, r, 0);
            v = inverse ? idwt_sample(line, 1, blk.w, c) : dwt_sample(line, 1, blk.w, c);
        } else {
            const T* line = src + blk.offset(b, 0, c);
            v = inverse ? idwt_sample(line, blk.W, blk.h, r) : dwt_sample(line, blk.W, blk.h, r);
        }
        dst[blk.offset(b, r, c)] = v;
    }
};

}  // namespace lumen::kern
