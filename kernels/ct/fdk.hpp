// FDK's per-element steps for both devices: pre-weighting (cosine, Parker or 1/2, angular step),
// and the ramp filter applied by FFT to rows packed two at a time into one complex row (the
// filter's spectrum is real and even, so it acts on real and imaginary parts independently).
#pragma once

#include <math.h>

#include "kernels/common/kernel.hpp"
#include "kernels/ct/detector.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::kern::ct {

// Pre-weighting and packing for the ramp filter in one pass: packed[r][k] = (q(2r, k), q(2r + 1, k))
// for k < nu, zero padding up to np. The batch's rows run [view][rows]: rows = held rows per
// view, plus a zero row when held is odd (so that no pair crosses two views); q(row, k) is the
// input's value times FDK's weight, view_u_weight[view][k] (angular step times redundancy) times
// the cosine weight dsd / sqrt(dsd^2 + u^2 + v^2) of the detector pixel (cone beam).
struct FdkPackWeightedF {
    const float* proj;           // the batch's first view of the input, [views][held][nu]
    const float* view_u_weight;  // [views][nu], already offset to the batch's first view
    int nu, held, rows, np;
    bool cone;
    float dsd;             // mm
    float u0, du, v0, dv;  // u(iu) = u0 + iu du, v(iv) = v0 + iv dv (mm from the principal point)
    int row0;              // the detector row that the input's row 0 is
    complex64* packed;
    LUMEN_HD float weighted(index_t row, int k) const {
        const index_t view = row / rows;
        const int iv = int(row - view * rows);
        if (iv >= held) return 0.0f;
        float w = view_u_weight[view * nu + k];
        if (cone) {
            const float u = u0 + float(k) * du, v = v0 + float(iv + row0) * dv;
            w *= dsd / sqrtf(dsd * dsd + u * u + v * v);
        }
        return proj[(view * held + iv) * nu + k] * w;
    }
    LUMEN_HD void operator()(index_t i) const {
        const index_t r = i / np;
        const int k = int(i - r * np);
        complex64 z(0.0f, 0.0f);
        if (k < nu) {
            z.re = weighted(2 * r, k);
            z.im = weighted(2 * r + 1, k);
        }
        packed[i] = z;
    }
};

// packed[r][k] *= spectrum[k]
struct MulSpectrumF {
    complex64* packed;
    const float* spectrum;
    int np;
    LUMEN_HD void operator()(index_t i) const {
        const float h = spectrum[i % np];
        packed[i].re *= h;
        packed[i].im *= h;
    }
};

// Row `row` of the batch (view row / rows, held row row % rows) gets packed[row / 2] (real part
// for even rows, imaginary for odd), written as detector row row0 + row % rows into the padded
// layout [views][nv + 2][nu + 2]. Held rows from `valid` on (the zero row that makes a view's
// rows even) are not written.
struct UnpackRowsPaddedF {
    const complex64* packed;
    int nu, nv, np;
    float* padded;  // the batch's first view
    int rows, valid, row0;
    LUMEN_HD void operator()(index_t i) const {
        const index_t row = i / nu;
        const int k = int(i - row * nu);
        const index_t view = row / rows;
        const int iv = int(row - view * rows);
        if (iv >= valid) return;
        const complex64 z = packed[(row / 2) * np + k];
        padded[view * (index_t(nu + 2) * (nv + 2)) + index_t(row0 + iv + 1) * (nu + 2) + (k + 1)] =
            (row % 2 == 0) ? z.re : z.im;
    }
};

}  // namespace lumen::kern::ct
