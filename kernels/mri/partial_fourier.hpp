// Per-element math of the POCS partial-Fourier reconstruction (src/mri/partial_fourier.cpp), run
// by the CPU executor and the CUDA executor (kernels/mri/partial_fourier.cu).
//
// Layouts: coil arrays [coils][n], n the pixels of one k-space plane; per-plane arrays [n].
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

// phase[i] = z[i] / |z[i]| (1 where z is 0): the low-resolution phase estimate of each coil image.
struct UnitPhaseF {
    const complex64* z;
    complex64* phase;
    LUMEN_HD void operator()(index_t i) const {
        const float a = abs(z[i]);
        phase[i] = a > 0.0f ? z[i] * (1.0f / a) : complex64(1.0f, 0.0f);
    }
};

// x[i] = |x[i]| * phase[i]: the phase constraint (a real image times the known phase), whose
// k-space is conjugate-symmetric about the phase's and so fills the half that was not acquired.
struct PhaseConstrainF {
    complex64* x;
    const complex64* phase;
    LUMEN_HD void operator()(index_t i) const { x[i] = phase[i] * abs(x[i]); }
};

// Data consistency: measured samples (mask 1) are the data; samples of the region that partial
// Fourier left out (fill 1) keep the estimate; every other sample (undersampled inside the
// acquired region) stays zero, as in the zero-filled reconstruction.
struct PocsConsistencyF {
    const complex64* data;
    const float* mask;
    const float* fill;
    complex64* k;
    index_t n;
    LUMEN_HD void operator()(index_t i) const {
        const index_t p = i % n;
        if (mask[p] != 0.0f)
            k[i] = data[i];
        else if (fill[p] == 0.0f)
            k[i] = complex64(0.0f, 0.0f);
    }
};

// The phase-constrained model x = e^{i phi} r with r real (the iterative methods on partial
// Fourier data): out[i] = Re(in[i]) * phase[i] maps r into the image, and its real-linear adjoint
// out[i] = Re(conj(phase[i]) * in[i]) brings an image back to the real unknowns. Both leave the
// imaginary part of the unknowns zero, so a complex solver run on them stays on real vectors.
struct ApplyPhaseF {
    const complex64* in;
    const complex64* phase;
    complex64* out;
    LUMEN_HD void operator()(index_t i) const { out[i] = phase[i] * in[i].re; }
};

struct ProjectPhaseF {
    const complex64* in;
    const complex64* phase;
    complex64* out;
    LUMEN_HD void operator()(index_t i) const {
        out[i] = complex64(phase[i].re * in[i].re + phase[i].im * in[i].im, 0.0f);
    }
};

}  // namespace lumen::kern
