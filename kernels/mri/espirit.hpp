// Per-pixel part of ESPIRiT: the dominant eigenvector of the coils x coils Hermitian matrix G(r)
// by power iteration, phase-aligned to a reference coil combination, cropped by its eigenvalue.
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

constexpr int espirit_max_coils = 64;

// gram: packed upper triangle, gram[pair * n + p] = G(p)[c][c'] for c <= c', pair = c * coils -
// c * (c - 1) / 2 + (c' - c); G[c'][c] = conj(G[c][c']). ref: unit reference vector [coils].
// maps[c * n + p] = eigenvector (zero where eigenvalue < crop); eig[p] = the eigenvalue.
struct EspiritPowerF {
    const complex64* gram;
    const complex64* ref;
    complex64* maps;
    float* eig;
    index_t n;
    int coils;
    int iterations;
    float crop;

    LUMEN_HD complex64 entry(int c, int d, index_t p) const {
        if (c <= d) return gram[index_t(c * coils - c * (c - 1) / 2 + (d - c)) * n + p];
        return conj(gram[index_t(d * coils - d * (d - 1) / 2 + (c - d)) * n + p]);
    }

    LUMEN_HD void operator()(index_t p) const {
        complex64 v[espirit_max_coils];
        complex64 w[espirit_max_coils];
        for (int c = 0; c < coils; ++c) v[c] = ref[c];
        float lambda = 0.0f;
        for (int it = 0; it < iterations; ++it) {
            float nrm = 0.0f;
            for (int c = 0; c < coils; ++c) {
                complex64 acc(0.0f, 0.0f);
                for (int d = 0; d < coils; ++d) acc += entry(c, d, p) * v[d];
                w[c] = acc;
                nrm += norm(acc);
            }
            nrm = sqrtf(nrm);
            if (!(nrm > 0.0f)) break;
            for (int c = 0; c < coils; ++c) v[c] = w[c] * (1.0f / nrm);
        }
        // Rayleigh quotient v^H G v (v has unit norm unless G vanished).
        float vv = 0.0f, vgv = 0.0f;
        for (int c = 0; c < coils; ++c) {
            complex64 acc(0.0f, 0.0f);
            for (int d = 0; d < coils; ++d) acc += entry(c, d, p) * v[d];
            vgv += (conj(v[c]) * acc).re;
            vv += norm(v[c]);
        }
        lambda = vv > 0.0f ? vgv / vv : 0.0f;
        // Phase relative to the reference combination: v <- v * conj(ref^H v) / |ref^H v|.
        complex64 proj(0.0f, 0.0f);
        for (int c = 0; c < coils; ++c) proj += conj(ref[c]) * v[c];
        const float pa = abs(proj);
        const complex64 rot = pa > 0.0f ? conj(proj) * (1.0f / pa) : complex64(1.0f, 0.0f);
        const float keep = lambda >= crop ? 1.0f : 0.0f;
        const float scale = vv > 0.0f ? keep / sqrtf(vv) : 0.0f;
        for (int c = 0; c < coils; ++c) maps[index_t(c) * n + p] = v[c] * rot * scale;
        eig[p] = lambda;
    }
};

}  // namespace lumen::kern
