// Per-element math of the MRI operators (coil expansion and combination, masking, RSS, crops),
// run by the CPU executor (src/mri/*.cpp) and the CUDA executor (kernels/mri/sense_ops.cu).
//
// Layouts: coil arrays are [coils][n] with n the number of pixels of one image (C order, the
// image's own axes flattened); masks and images are [n].
#pragma once

#include "kernels/common/fft_shift.hpp"
#include "kernels/common/kernel.hpp"

namespace lumen::kern {

// For even image sizes the centred DFT is a modulated plain DFT: fft2c = s D F D with
// D = diag((-1)^(sum of pixel coordinates)) and s = (-1)^(sum of n_axis / 2) (the FFT wrapper's
// trick, kernels/common/fft_shift.hpp). The SENSE operator folds D into its coil expansion, mask
// and combination passes and so needs no fftshift passes. `on` = 0 disables the modulation (odd
// sizes: the operator uses the centred FFT instead).
struct Checker {
    index_t w = 1, h = 1;  // last and second-to-last image axes
    int on = 0;
    LUMEN_HD float sign(index_t p) const { return (on && centring_odd(p, w, w * h, true, true)) ? -1.0f : 1.0f; }
};

// out[c, p] = maps[c, p] * x[p] (* D[p])
struct CoilExpandF {
    const complex64* maps;
    const complex64* x;
    complex64* out;
    index_t n;
    Checker checker;
    LUMEN_HD void operator()(index_t i) const {
        const index_t p = i % n;
        out[i] = maps[i] * x[p] * checker.sign(p);
    }
};

// x[p] = (D[p]) sum_c conj(maps[c, p]) * z[c, p]   (the adjoint of CoilExpandF; a gather, so race-free)
struct CoilCombineF {
    const complex64* maps;
    const complex64* z;
    complex64* x;
    index_t n, coils;
    Checker checker;
    LUMEN_HD void operator()(index_t p) const {
        complex64 acc(0.0f, 0.0f);
        for (index_t c = 0; c < coils; ++c) acc += conj(maps[c * n + p]) * z[c * n + p];
        x[p] = acc * checker.sign(p);
    }
};

// out[c, p] = scale * (D[p]) * mask[p] * in[c, p]   (in and out may alias)
struct MaskF {
    const float* mask;
    const complex64* in;
    complex64* out;
    index_t n;
    Checker checker;
    float scale = 1.0f;
    LUMEN_HD void operator()(index_t i) const {
        const index_t p = i % n;
        out[i] = in[i] * (mask[p] * scale * checker.sign(p));
    }
};

// out[p] = sqrt(sum_c |z[c, p]|^2)
struct RssF {
    const complex64* z;
    float* out;
    index_t n, coils;
    LUMEN_HD void operator()(index_t p) const {
        float acc = 0.0f;
        for (index_t c = 0; c < coils; ++c) acc += norm(z[c * n + p]);
        out[p] = sqrtf(acc);
    }
};

// out[p] = |x[p]| * sqrt(sum_c |maps[c, p]|^2): the RSS of the coil images maps * x, i.e. the
// magnitude image on the scale of a root-sum-of-squares reconstruction.
struct SenseMagnitudeF {
    const complex64* x;
    const complex64* maps;
    float* out;
    index_t n, coils;
    LUMEN_HD void operator()(index_t p) const {
        float acc = 0.0f;
        for (index_t c = 0; c < coils; ++c) acc += norm(maps[c * n + p]);
        out[p] = abs(x[p]) * sqrtf(acc);
    }
};

// mask[p] = 1 where any coil has a non-zero sample at p (BART's convention: missing samples are
// exactly zero), else 0.
struct MaskFromDataF {
    const complex64* k;
    float* mask;
    index_t n, coils;
    LUMEN_HD void operator()(index_t p) const {
        float m = 0.0f;
        for (index_t c = 0; c < coils; ++c)
            if (k[c * n + p].re != 0.0f || k[c * n + p].im != 0.0f) m = 1.0f;
        mask[p] = m;
    }
};

// Centre crop (or zero-pad) of a batch of 2-D images: out[b][y][x] = in[b][y + oy][x + ox] when
// that lies inside the input, else 0. oy, ox may be negative (padding). T = float or complex64.
template <class T>
struct CropPadF {
    const T* in;
    T* out;
    index_t in_h, in_w, out_h, out_w, oy, ox;
    LUMEN_HD void operator()(index_t i) const {
        const index_t x = i % out_w;
        const index_t y = (i / out_w) % out_h;
        const index_t b = i / (out_w * out_h);
        const index_t sy = y + oy, sx = x + ox;
        out[i] = (sy >= 0 && sy < in_h && sx >= 0 && sx < in_w) ? in[(b * in_h + sy) * in_w + sx] : T(0.0f);
    }
};

// out[y][x] = in[(y + dy) mod h][(x + dx) mod w] (0 <= dy < h, 0 <= dx < w): a circular shift of
// one image, the cycle spinning of the L1-wavelet prox (in and out must not alias).
struct CircularShiftF {
    const complex64* in;
    complex64* out;
    index_t h, w, dy, dx;
    LUMEN_HD void operator()(index_t i) const {
        const index_t x = i % w, y = i / w;
        index_t sy = y + dy, sx = x + dx;
        if (sy >= h) sy -= h;
        if (sx >= w) sx -= w;
        out[i] = in[sy * w + sx];
    }
};

// out[c, p] = mask[p] != 0 ? value : 0: one noise variance for every measured sample of every
// coil, none (left out of the discrepancy misfit) for the others.
struct MeasuredVarianceF {
    const float* mask;
    float* out;
    index_t n;
    float value;
    LUMEN_HD void operator()(index_t i) const { out[i] = mask[i % n] != 0.0f ? value : 0.0f; }
};

// sum_c |maps[c, p]|^2 (reduced with MaxOp: a bound on the SENSE operator's squared norm).
struct CoilPowerF {
    const complex64* maps;
    index_t n, coils;
    LUMEN_HD double operator()(index_t p) const {
        double acc = 0.0;
        for (index_t c = 0; c < coils; ++c) acc += double(norm(maps[c * n + p]));
        return acc;
    }
};

}  // namespace lumen::kern
