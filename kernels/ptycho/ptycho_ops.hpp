// Per-element math of the ptychography forward model, its adjoints and the far-field losses, run
// by the CPU executor (src/ptycho/*.cpp) and the CUDA executor (kernels/ptycho/ptycho_ops.cu).
//
// Layout shared by every functor:
//  - the object is [H][W] (row stride `width`), a probe window is [my][mx] with m = my * mx;
//  - position j has an integer window corner corner[2j] (row), corner[2j + 1] (column) and a
//    sub-pixel remainder in [0, 1) per axis, applied to the probe by a Fourier shift (ShiftTables);
//  - a batch buffer holds consecutive positions from `first` on, m elements per frame.
//
// Sums onto the object (overlap-add) take a policy parameter Atomic. The GPU launches a whole
// batch at once and adds with atomicAdd. The CPU launches groups of positions whose windows do
// not overlap (a colouring computed once per scan), so it adds plainly: race-free and
// deterministic. Sums onto the probe grid are gathers (one element per probe pixel, looping over
// the positions of the batch), identical on both devices and free of atomics.
#pragma once

#include <math.h>

#include "kernels/common/fast_divide.hpp"
#include "kernels/common/fft_shift.hpp"
#include "kernels/common/kernel.hpp"
#include "kernels/linalg/vector_ops.hpp"

namespace lumen::kern::ptycho {

template <bool Atomic>
LUMEN_HD inline void add_to(float* p, float v) {
#if defined(__CUDA_ARCH__)
    if (Atomic) atomicAdd(p, v);
    else *p += v;
#else
    *p += v;
#endif
}

template <bool Atomic>
LUMEN_HD inline void add_to(complex64* p, complex64 v) {
    add_to<Atomic>(&p->re, v.re);
    add_to<Atomic>(&p->im, v.im);
}

// Where element i of a launch lives: its position j, buffer frame b, window pixel (ry, rx) and
// the object pixel under it.
struct WindowIndex {
    index_t j, b, r, ry, rx, obj;
};

struct Windows {
    const index_t* corner = nullptr;  // [J][2]
    const index_t* list = nullptr;    // the positions of this launch, or null for j0, j0 + 1, ...
    index_t j0 = 0;                   // first position of the launch when list is null
    index_t first = 0;                // the position held in buffer frame 0
    index_t my = 1, mx = 1;           // window shape
    index_t width = 1;                // object row stride
    FastDivisor by_m, by_mx;          // my * mx and mx (at(): its index split without a division)

    Windows() = default;
    LUMEN_HD Windows(const index_t* corner_, const index_t* list_, index_t j0_, index_t first_, index_t my_, index_t mx_,
                     index_t width_)
        : corner(corner_), list(list_), j0(j0_), first(first_), my(my_), mx(mx_), width(width_), by_m(my_ * mx_),
          by_mx(mx_) {}

    LUMEN_HD index_t m() const { return my * mx; }
    LUMEN_HD index_t object_index(index_t j, index_t ry, index_t rx) const {
        return (corner[2 * j] + ry) * width + corner[2 * j + 1] + rx;
    }
    LUMEN_HD WindowIndex at(index_t i) const {
        const index_t mm = my * mx;
        const index_t k = by_m.divide(i), r = i - k * mm;
        const index_t ry = by_mx.divide(r), rx = r - ry * mx;
        const index_t j = list ? list[k] : j0 + k;
        return {j, j - first, r, ry, rx, object_index(j, ry, rx)};
    }
};

// The probe seen by position j: one shared probe (stride 0), or per-position shifted copies
// (stride m) stored from position `first` on (all positions, or just the current batch).
struct ProbeRef {
    const complex64* data;
    index_t stride;  // 0 or m
    index_t first;
    LUMEN_HD complex64 at(index_t j, index_t r) const { return data[(j - first) * stride + r]; }
};

// psi[b][r] = P_j(r) * O(corner_j + r)
struct ExitWaveF {
    Windows w;
    ProbeRef probe;
    const complex64* object;
    complex64* psi;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        psi[x.b * w.m() + x.r] = probe.at(x.j, x.r) * object[x.obj];
    }
};

// grad[corner_j + r] += conj(P_j(r)) * g[b][r]   (object adjoint, overlap-add)
template <bool Atomic>
struct ObjectAdjointF {
    Windows w;
    ProbeRef probe;
    const complex64* g;
    complex64* out;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        add_to<Atomic>(&out[x.obj], conj(probe.at(x.j, x.r)) * g[x.b * w.m() + x.r]);
    }
};

// out[r] += sum over the batch of conj(O(corner_j + r)) * g[b][r]   (probe adjoint, integer shifts)
// One element per probe pixel r; w.list must be null (positions first .. first + count - 1).
struct ProbeAdjointGatherF {
    Windows w;
    index_t count;
    const complex64* object;
    const complex64* g;
    complex64* out;
    LUMEN_HD void operator()(index_t r) const {
        const index_t ry = r / w.mx, rx = r - ry * w.mx, mm = w.m();
        double re = 0.0, im = 0.0;
        for (index_t b = 0; b < count; ++b) {
            const complex64 v = conj(object[w.object_index(w.first + b, ry, rx)]) * g[b * mm + r];
            re += double(v.re);
            im += double(v.im);
        }
        out[r] += complex64(float(re), float(im));
    }
};

// g[b][r] <- conj(O(corner_j + r)) * g[b][r]   (first half of the sub-pixel probe adjoint)
struct ConjObjectMulF {
    Windows w;
    const complex64* object;
    complex64* g;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        complex64& v = g[x.b * w.m() + x.r];
        v = conj(object[x.obj]) * v;
    }
};

// illum[corner_j + r] += |P_j(r)|^2   (the illumination map; its maximum is L_O)
template <bool Atomic>
struct IlluminationF {
    Windows w;
    ProbeRef probe;
    float* out;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        add_to<Atomic>(&out[x.obj], norm(probe.at(x.j, x.r)));
    }
};

// The object gradient's diagonal preconditioner (docs/ptychography.md, "Step sizes"): A^H A is the
// illumination map, so the amplitude loss is majorised pixel by pixel by its diagonal, and
// g(r) * reference / max(illum(r), floor) steps each pixel by its own curvature instead of the
// largest one. The floor (a fraction of L_O) bounds the step where the probe barely reaches.
struct IlluminationPreconditionF {
    complex64* g;
    const float* illum;
    float reference, floor;
    LUMEN_HD void operator()(index_t i) const {
        const float d = illum[i] > floor ? illum[i] : floor;
        g[i] = g[i] * (reference / d);
    }
};

// out[r] += sum over the batch of |O(corner_j + r)|^2   (the object power seen by the probe;
// its maximum is L_P). One element per probe pixel.
struct ObjectPowerGatherF {
    Windows w;
    index_t count;
    const complex64* object;
    float* out;
    LUMEN_HD void operator()(index_t r) const {
        const index_t ry = r / w.mx, rx = r - ry * w.mx;
        double acc = 0.0;
        for (index_t b = 0; b < count; ++b) acc += double(norm(object[w.object_index(w.first + b, ry, rx)]));
        out[r] += float(acc);
    }
};

// The Fourier shift that moves a probe by (+fy, +fx) pixels (cyclically) multiplies its spectrum
// by exp(-2 pi i (ky fy / my + kx fx / mx)) at FFT-order bin (ry, rx), with signed frequencies
// (bins at and above (n + 1) / 2 are negative, so an even size's Nyquist bin counts as -n/2; any
// unit-modulus choice there keeps the shift unitary). The factor is separable; the host tabulates
// its two 1-D parts per position once (phase_y [J][my], phase_x [J][mx]), so no functor evaluates
// a sine.
struct ShiftTables {
    const complex64* phase_y;
    const complex64* phase_x;
    index_t my, mx;
    LUMEN_HD complex64 at(index_t j, index_t ry, index_t rx) const { return phase_y[j * my + ry] * phase_x[j * mx + rx]; }
};

// out[b][r] = phase_j(r) * spectrum[r]: the spectra of the shifted probes (inverse FFT follows).
struct ShiftSpectrumF {
    Windows w;
    ShiftTables shift;
    const complex64* spectrum;
    complex64* out;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        out[x.b * w.m() + x.r] = shift.at(x.j, x.ry, x.rx) * spectrum[x.r];
    }
};

// out[r] += sum over the batch of conj(phase_j(r)) * h[b][r]: the adjoint of the sub-pixel
// shifts, summed over positions. One element per probe pixel.
struct UnshiftSumGatherF {
    Windows w;
    index_t count;
    ShiftTables shift;
    const complex64* h;
    complex64* out;
    LUMEN_HD void operator()(index_t r) const {
        const index_t ry = r / w.mx, rx = r - ry * w.mx, mm = w.m();
        double re = 0.0, im = 0.0;
        for (index_t b = 0; b < count; ++b) {
            const complex64 v = conj(shift.at(w.first + b, ry, rx)) * h[b * mm + r];
            re += double(v.re);
            im += double(v.im);
        }
        out[r] += complex64(float(re), float(im));
    }
};

// The derivative of the loss with respect to the scan positions (docs/ptychography.md, "Position
// refinement"). Moving position j by dp along axis a moves its probe T_j P by dp, whose spectrum is
// D_j P^ (P^ = F P) and whose derivative is (-2 pi i s_a / n_a) D_j P^ (s_a: the signed frequency of
// the bin along a). With h_j = conj(S_j O) (.) F^H R_j (the exit-wave gradient times the conjugate
// object, what the probe adjoint computes) and F unitary,
//   df/dp_{j,a} = Re <F h_j, (-2 pi i s_a / n_a) D_j P^> = 2 pi sum_r (s_a(r) / n_a) Im(conj(F h_j(r)) D_j(r) P^(r)).
// One element per (position, axis), looping over the frame; one launch per probe mode adds its
// term. shift.phase_y null: integer positions (D_j = 1).
struct PositionGradientGatherF {
    index_t first;                    // the position in buffer frame 0
    ShiftTables shift;
    const complex64* spectra;         // [count][m] F h_j of one mode
    const complex64* probe_spectrum;  // [m] F P of that mode
    float* out;                       // [J][2] (row, column)
    LUMEN_HD void operator()(index_t e) const {
        const index_t b = e / 2, axis = e - 2 * b, j = first + b;
        const index_t my = shift.my, mx = shift.mx, mm = my * mx;
        const index_t n = axis == 0 ? my : mx;
        double acc = 0.0;
        for (index_t r = 0; r < mm; ++r) {
            const index_t ry = r / mx, rx = r - ry * mx;
            const index_t q = axis == 0 ? ry : rx;
            const double s = double(q < (n + 1) / 2 ? q : q - n) / double(n);
            if (s == 0.0) continue;
            complex64 z = probe_spectrum[r];
            if (shift.phase_y) z = shift.at(j, ry, rx) * z;
            acc += s * double((conj(spectra[b * mm + r]) * z).im);
        }
        out[2 * j + axis] += float(2.0 * kPi * acc);
    }
};

// The losses (FarFieldLossF below).
enum LossKind : int { loss_amplitude = 0, loss_intensity = 1, loss_poisson = 2 };

// The spectrum of d(T_j P)/dp_a, (-2 pi i s_a / n_a) D_j(r) P^(r), for the positions of a batch
// (an inverse FFT gives the derivative of the shifted probe). shift.phase_y null: D_j = 1.
struct ShiftDerivativeSpectrumF {
    Windows w;
    ShiftTables shift;
    const complex64* spectrum;  // [m] F P (one mode)
    complex64* out;             // [count][m]
    int axis;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        const index_t n = axis == 0 ? w.my : w.mx, q = axis == 0 ? x.ry : x.rx;
        const float c = float(2.0 * kPi * double(q < (n + 1) / 2 ? q : q - n) / double(n));
        complex64 z = spectrum[x.r];
        if (shift.phase_y) z = shift.at(x.j, x.ry, x.rx) * z;
        out[x.b * w.m() + x.r] = complex64(c * z.im, -c * z.re);  // -i c z
    }
};

// The Gauss-Newton curvature of the loss along one position coordinate (docs/ptychography.md,
// "Position refinement"): with I = sum_k |Psi_k|^2 and its derivative dI = sum_k 2 Re(conj(Psi_k)
// dPsi_k) along the coordinate, sum over the frame of w(I) dI^2, w = 1 / (4 I) (amplitude loss:
// (d sqrt I)^2), 1 (intensity), 1 / (I + eps) (Poisson: the Fisher information). Exact at a
// zero residual. One element per position of the batch, looping over its frame; masked pixels
// count nothing.
struct PositionCurvatureGatherF {
    const complex64* psi;   // [modes][count][m] model fields
    const complex64* dpsi;  // [modes][count][m] their derivatives along the coordinate
    const float* mask;      // [m] or null
    index_t m, count, modes;
    int loss;
    float eps;
    index_t first;
    int axis;
    float* out;  // [J][2]
    LUMEN_HD void operator()(index_t b) const {
        const index_t stride = count * m;
        double acc = 0.0;
        for (index_t r = 0; r < m; ++r) {
            if (mask && mask[r] == 0.0f) continue;
            const index_t i = b * m + r;
            double intensity = 0.0, d = 0.0;
            for (index_t k = 0; k < modes; ++k) {
                const complex64 v = psi[i + k * stride], dv = dpsi[i + k * stride];
                intensity += double(norm(v));
                d += 2.0 * (double(v.re) * double(dv.re) + double(v.im) * double(dv.im));
            }
            if (d == 0.0) continue;
            const double w = loss == loss_amplitude ? (intensity > 0.0 ? 0.25 / intensity : 0.0)
                             : loss == loss_intensity ? 1.0
                                                      : 1.0 / (intensity + double(eps));
            acc += w * d * d;
        }
        out[2 * (first + b) + axis] = float(acc);
    }
};

// The far-field losses, per detector pixel with measured intensity y and model field Psi
// (I = |Psi|^2); each returns its loss term and overwrites Psi with the gradient of that term with
// respect to (Re Psi, Im Psi) written as a complex number (twice the Wirtinger derivative
// d/d conj(Psi)):
//   amplitude:  1/2 (|Psi| - sqrt y)^2           grad (1 - sqrt y / |Psi|) Psi   (0 at Psi = 0)
//   intensity:  1/2 (I - y)^2                    grad 2 (I - y) Psi
//   poisson:    I - y - y log(I / y)  (deviance / 2, zero at I = y)
//                                                grad 2 (1 - y / (I + eps)) Psi
// Masked pixels (mask 0) contribute nothing and get a zero gradient.

// One pixel's loss term at model intensity I and measured y (clamped at 0), and the real factor
// f'(I)-style multiplier of its gradient: 2 df/d conj(Psi_k) = factor Psi_k for every mode.
LUMEN_HD inline double pixel_loss(int loss, float intensity, float y, float eps, float& factor) {
    if (loss == loss_amplitude) {
        const float a = math::sqrt(intensity), s = math::sqrt(y);
        factor = a > 0.0f ? 1.0f - s / a : 0.0f;
        const double d = double(a) - double(s);
        return 0.5 * d * d;
    }
    if (loss == loss_intensity) {
        const float d = intensity - y;
        factor = 2.0f * d;
        return 0.5 * double(d) * double(d);
    }
    factor = 2.0f * (1.0f - y / (intensity + eps));
    const double id = double(intensity) + double(eps);
    return y > 0.0f ? id - double(y) - double(y) * math::log(id / double(y)) : id;
}

struct FarFieldLossF {
    complex64* psi;      // [modes][count][m]: in the model fields, out their gradients
    const float* data;   // [count][m] measured intensities, FFT order
    const float* mask;   // [m] or null
    index_t m;
    int loss;
    float eps;           // Poisson guard
    index_t modes = 1;   // incoherent probe modes: I = sum_k |Psi_k|^2
    index_t stride = 0;  // elements between the modes' fields (count * m)
    LUMEN_HD double operator()(index_t i) const {
        if (mask && mask[i % m] == 0.0f) {
            for (index_t k = 0; k < modes; ++k) psi[i + k * stride] = complex64(0.0f, 0.0f);
            return 0.0;
        }
        float intensity = 0.0f;
        for (index_t k = 0; k < modes; ++k) intensity += norm(psi[i + k * stride]);
        const float y = data[i] > 0.0f ? data[i] : 0.0f;
        // Every loss is a function of I alone, so each mode's gradient is one real factor times
        // that mode's field: 2 df/d conj(Psi_k) = 2 f'(I) Psi_k.
        float factor;
        const double value = pixel_loss(loss, intensity, y, eps, factor);
        for (index_t k = 0; k < modes; ++k) psi[i + k * stride] = psi[i + k * stride] * factor;
        return value;
    }
};

// The coarse position search (docs/ptychography.md, "Position refinement"): the windows of a
// batch moved by whole pixels (dy, dx), clamped to the object: moved[2j], moved[2j + 1] for the
// positions j0 .. j0 + count - 1 (one element per position).
struct OffsetCornersF {
    const index_t* corner;  // [J][2] the current corners
    index_t j0, dy, dx;
    index_t max_row, max_col;  // H - my, W - mx
    index_t* moved;         // [J][2]
    LUMEN_HD void operator()(index_t b) const {
        const index_t j = j0 + b;
        const index_t r = corner[2 * j] + dy, c = corner[2 * j + 1] + dx;
        moved[2 * j] = r < 0 ? 0 : (r > max_row ? max_row : r);
        moved[2 * j + 1] = c < 0 ? 0 : (c > max_col ? max_col : c);
    }
};

// Each frame's loss (the sum of pixel_loss over its measured pixels) for the model fields of a
// batch, into out[first + b]; +inf where the window moved by (dy, dx) left the object (the
// clamped corner differs from corner + offset). One element per position, looping over its frame.
struct FrameLossGatherF {
    const complex64* psi;  // [modes][count][m] model fields
    const float* data;     // [count][m] measured intensities, FFT order
    const float* mask;     // [m] or null
    index_t m, count, modes;
    int loss;
    float eps;
    index_t first;
    const index_t* corner;  // [J][2] the current corners
    const index_t* moved;   // [J][2] the corners the fields were computed at
    index_t dy, dx;
    float* out;             // [J]
    LUMEN_HD void operator()(index_t b) const {
        const index_t j = first + b;
        if (moved[2 * j] != corner[2 * j] + dy || moved[2 * j + 1] != corner[2 * j + 1] + dx) {
            out[j] = INFINITY;
            return;
        }
        const index_t stride = count * m;
        double acc = 0.0;
        for (index_t r = 0; r < m; ++r) {
            if (mask && mask[r] == 0.0f) continue;
            const index_t i = b * m + r;
            float intensity = 0.0f;
            for (index_t k = 0; k < modes; ++k) intensity += norm(psi[i + k * stride]);
            const float y = data[i] > 0.0f ? data[i] : 0.0f;
            float factor;
            acc += pixel_loss(loss, intensity, y, eps, factor);
        }
        out[j] = float(acc);
    }
};

// The model intensity of one detector pixel: the incoherent sum over the probe modes.
LUMEN_HD inline double mode_intensity(const complex64* psi, index_t i, index_t modes, index_t stride) {
    double sum = 0.0;
    for (index_t k = 0; k < modes; ++k) sum += double(norm(psi[i + k * stride]));
    return sum;
}

// Far-field curvature bound of the intensity loss, 6 I - 2 y, per pixel (reduced with MaxOp).
struct IntensityCurvatureF {
    const complex64* psi;
    const float* data;
    const float* mask;
    index_t m;
    index_t modes = 1, stride = 0;  // as in FarFieldLossF
    LUMEN_HD double operator()(index_t i) const {
        if (mask && mask[i % m] == 0.0f) return 0.0;
        return 6.0 * mode_intensity(psi, i, modes, stride) - 2.0 * double(data[i] > 0.0f ? data[i] : 0.0f);
    }
};

// The expected squared amplitude residual E[(sqrt Y - sqrt lam)^2] of one Poisson count Y with mean
// lam: 2 lam - 2 sqrt(lam) E[sqrt Y]. E[sqrt Y] is summed over the Poisson weights for lam <= 40
// (the terms beyond lam + 12 sqrt(lam) + 12 are below 1e-20 of the total); above, the asymptotic
// series sqrt(lam) (1 - 1/(8 lam) - 7/(128 lam^2)) gives 1/4 + 7/(64 lam), within 1e-4 of the sum at
// lam = 40. It is 1/4 for bright pixels and tends to lam for dark ones (mostly zero counts).
LUMEN_HD inline double poisson_amplitude_variance_sum(double lam) {  // the sum alone, lam > 0
    const int k_max = int(lam + 12.0 * math::sqrt(lam) + 12.0);
    double p = math::exp(-lam), e_sqrt = 0.0;
    for (int k = 1; k <= k_max; ++k) {
        p *= lam / double(k);
        e_sqrt += p * math::sqrt(double(k));
    }
    const double v = 2.0 * lam - 2.0 * math::sqrt(lam) * e_sqrt;
    return v > 0.0 ? v : 0.0;
}
LUMEN_HD inline double poisson_amplitude_variance(double lam) {
    if (!(lam > 0.0)) return 0.0;
    if (lam > 40.0) return 0.25 + 7.0 / (64.0 * lam);
    return poisson_amplitude_variance_sum(lam);
}

// poisson_amplitude_variance for the per-pixel reduction, from a table: the sum above takes up to
// 128 divisions and square roots per pixel, and measured 47 % to 80 % of an AWF iteration at 289 x
// 64^2 (docs/benchmarks.md, "vs pty-chi"). As a function of s = sqrt(lam) the variance is analytic
// (2 s^2 - 2 s E[sqrt Y], E[sqrt Y] analytic in s^2; in lam it has a lam^(3/2) term at 0), so the
// table holds it at k_variance_intervals + 1 equally spaced s in [0, sqrt(40)], built on the host
// with the same sum (variance_table_node; the last node, 40 to rounding, by the sum too), and the kernel interpolates with
// the cubic through the 4 nearest nodes: within 5e-11 of the sum everywhere (test
// PtychoConventions.TabulatedPoissonVarianceMatchesTheSum). Above 40 the asymptotic form as above.
constexpr int k_variance_intervals = 2048;
LUMEN_HD inline double variance_table_step() { return 6.324555320336759 / double(k_variance_intervals); }  // sqrt(40) / n
// The value at node i of the table.
inline double variance_table_node(int i) {
    const double s = double(i) * variance_table_step();
    return i == 0 ? 0.0 : poisson_amplitude_variance_sum(s * s);
}
LUMEN_HD inline double poisson_amplitude_variance_tabulated(const double* table, double lam) {
    if (!(lam > 0.0)) return 0.0;
    if (lam > 40.0) return poisson_amplitude_variance(lam);
    const double t = math::sqrt(lam) / variance_table_step();
    int i = int(t) - 1;  // the stencil's first node: nodes i .. i + 3 around t
    i = i < 0 ? 0 : (i > k_variance_intervals - 3 ? k_variance_intervals - 3 : i);
    const double x = t - double(i);
    const double w0 = -(x - 1.0) * (x - 2.0) * (x - 3.0) / 6.0, w1 = x * (x - 2.0) * (x - 3.0) / 2.0,
                 w2 = -x * (x - 1.0) * (x - 3.0) / 2.0, w3 = x * (x - 1.0) * (x - 2.0) / 6.0;
    const double v = w0 * table[i] + w1 * table[i + 1] + w2 * table[i + 2] + w3 * table[i + 3];
    return v > 0.0 ? v : 0.0;
}

// The noise-normalised residual of a fit, per measured pixel of the model field Psi (FFT order):
// what = 0: the squared amplitude residual (sqrt y - |Psi|)^2; what = 1: its expectation under
// Poisson noise at the model intensity |Psi|^2 (poisson_amplitude_variance_tabulated). The ratio of
// the two sums is about 1 when the model fits photon counts to the noise (docs/ptychography.md).
struct AmplitudeResidualF {
    const complex64* psi;
    const float* data;  // [count][m] FFT order
    const float* mask;  // [m] or null
    index_t m;
    int what;
    index_t modes = 1, stride = 0;  // as in FarFieldLossF
    const double* variance_table = nullptr;  // what = 1: k_variance_intervals + 1 nodes
    LUMEN_HD double operator()(index_t i) const {
        if (mask && mask[i % m] == 0.0f) return 0.0;
        const double lam = mode_intensity(psi, i, modes, stride);
        if (what == 1) return poisson_amplitude_variance_tabulated(variance_table, lam);
        const double d = math::sqrt(double(data[i] > 0.0f ? data[i] : 0.0f)) - math::sqrt(lam);
        return d * d;
    }
};

// Detector order (zero frequency at the centre) to FFT order and back, frame by frame:
// out[b][ky][kx] = in[b][(ky + sy) % my][(kx + sx) % mx] for 0 <= sy < my, 0 <= sx < mx;
// ifftshift uses s = n / 2, fftshift (n + 1) / 2. The FFT wrapper's cyclic shift, 2-D.
inline CyclicShiftF<float> frame_shift(const float* in, float* out, index_t my, index_t mx, index_t sy, index_t sx) {
    return CyclicShiftF<float>{in, out, 1, my, mx, 0, (my - sy) % my, (mx - sx) % mx, 1.0f};
}

// Near-field (Fresnel) propagation between Fourier transforms: each frame's spectrum (FFT order)
// is multiplied by the transfer function h[r] = exp(-i pi (a_y ky^2 + a_x kx^2)) tabulated by the
// host, or by its conjugate for the adjoint (back-propagation). |h| = 1, so the propagator
// F^H h F is unitary like the far-field F.
struct TransferF {
    complex64* buf;      // [count][m] spectra
    const complex64* h;  // [m]
    index_t m;
    int conjugate;
    LUMEN_HD void operator()(index_t i) const {
        const complex64 t = h[i % m];
        buf[i] = buf[i] * (conjugate ? conj(t) : t);
    }
};

// sum_k |Psi_k|^2 (forward model intensities, summed over the probe modes)
struct IntensityF {
    const complex64* psi;
    float* out;
    index_t modes = 1, stride = 0;  // as in FarFieldLossF
    LUMEN_HD void operator()(index_t i) const { out[i] = float(mode_intensity(psi, i, modes, stride)); }
};

// ---- ePIE / rPIE, one position at a time (pixels of one window are independent) ------------

// The Fourier modulus constraint in place on one frame: Psi <- sqrt(y) Psi / |Psi| on measured
// pixels (masked pixels keep the model); returns the amplitude loss term before the projection.
struct ModulusProjectF {
    complex64* psi;
    const float* data;  // [m] FFT order
    const float* mask;  // [m] or null
    LUMEN_HD double operator()(index_t i) const {
        if (mask && mask[i] == 0.0f) return 0.0;
        const complex64 v = psi[i];
        const float a = abs(v), s = math::sqrt(data[i] > 0.0f ? data[i] : 0.0f);
        psi[i] = a > 0.0f ? v * (s / a) : complex64(s, 0.0f);
        const double d = double(a) - double(s);
        return 0.5 * d * d;
    }
};

// The (r)PIE update of one position from the corrected exit wave psi' (the old exit wave is
// recomputed from the old probe and object, so no copy is kept):
//   d = psi' - P O_j,  O_j += conj(P) d / wO(r),  P += conj(O_j) d / wP(r)   (both from old values)
//   ePIE: wO = max|P|^2 / alpha,                  rPIE: wO = (1 - alpha) |P(r)|^2 + alpha max|P|^2
// and the same for the probe with beta and max|O_j|^2. update_probe = 0 leaves the probe alone.
struct PieUpdateF {
    Windows w;             // one position: j0 = j, row0 = 0
    const complex64* psi;  // corrected exit wave [m]
    complex64* object;
    complex64* probe;      // [m] the probe as seen by this position
    float alpha, beta;
    float max_probe, max_object;  // max |P|^2 and max |O_j|^2
    int regularized;              // 1: rPIE, 0: ePIE
    int update_probe;
    LUMEN_HD void operator()(index_t i) const {
        const WindowIndex x = w.at(i);
        const complex64 o = object[x.obj], p = probe[x.r];
        const complex64 d = psi[x.r] - p * o;
        const float wo = regularized ? (1.0f - alpha) * norm(p) + alpha * max_probe : max_probe / alpha;
        if (wo > 0.0f) object[x.obj] = o + conj(p) * d / wo;
        if (update_probe) {
            const float wp = regularized ? (1.0f - beta) * norm(o) + beta * max_object : max_object / beta;
            if (wp > 0.0f) probe[x.r] = p + conj(o) * d / wp;
        }
    }
};

// max over one window of |O(corner_j + r)|^2
struct PatchNormSqF {
    Windows w;
    const complex64* object;
    LUMEN_HD double operator()(index_t i) const { return double(norm(object[w.at(i).obj])); }
};

// Distributed (r)PIE (docs/scaling.md): after a sweep each rank's object is weighted by the
// illumination of its own frames, the weighted objects and the weights are summed over the ranks,
// and the object becomes their weighted mean; a pixel no rank illuminates keeps its value.
struct WeightObjectF {
    const float* weight;
    const complex64* object;
    complex64* out;
    LUMEN_HD void operator()(index_t i) const { out[i] = object[i] * weight[i]; }
};
struct WeightedMeanF {
    const complex64* weighted;
    const float* weight;
    complex64* object;
    LUMEN_HD void operator()(index_t i) const {
        if (weight[i] > 0.0f) object[i] = weighted[i] / weight[i];
    }
};

}  // namespace lumen::kern::ptycho
