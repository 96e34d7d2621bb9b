// Per-pixel math of the MRI simulator: an analytic ellipse phantom (modified Shepp-Logan
// intensities, Toft 1996) with a smooth intensity and phase modulation, and smooth complex coil
// sensitivities of loops placed on a ring around the object.
//
// Coordinates: the reconstruction box [recon_h][recon_w] (centred in the [H][W] grid) spans
// [-1, 1] along both axes; x grows with the column index, y with decreasing row index.
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

struct Ellipse {
    float value, a, b, x0, y0, cos_phi, sin_phi;
};

constexpr int phantom_max_ellipses = 12;

struct PhantomF {
    Ellipse ellipses[phantom_max_ellipses];
    int count;
    float axis_scale;  // slices away from the centre see smaller cross-sections
    index_t h, w;
    float half_h, half_w;  // recon box half-sizes in pixels
    int supersample;
    complex64* out;

    LUMEN_HD float density(float x, float y) const {
        float v = 0.0f;
        for (int e = 0; e < count; ++e) {
            const Ellipse& el = ellipses[e];
            const float dx = x - el.x0 * axis_scale, dy = y - el.y0 * axis_scale;
            const float u = dx * el.cos_phi + dy * el.sin_phi;
            const float t = -dx * el.sin_phi + dy * el.cos_phi;
            const float a = el.a * axis_scale, b = el.b * axis_scale;
            if ((u * u) / (a * a) + (t * t) / (b * b) <= 1.0f) v += el.value;
        }
        return v;
    }

    LUMEN_HD void operator()(index_t i) const {
        const index_t row = i / w, col = i % w;
        float acc = 0.0f;
        for (int sy = 0; sy < supersample; ++sy)
            for (int sx = 0; sx < supersample; ++sx) {
                const float fy = float(row) + (float(sy) + 0.5f) / float(supersample) - 0.5f;
                const float fx = float(col) + (float(sx) + 0.5f) / float(supersample) - 0.5f;
                const float x = (fx - float(w / 2)) / half_w;
                const float y = -(fy - float(h / 2)) / half_h;
                acc += density(x, y);
            }
        acc /= float(supersample * supersample);
        const float x = (float(col) - float(w / 2)) / half_w, y = -(float(row) - float(h / 2)) / half_h;
        // Smooth shading (receive-field-like) and a smooth background phase, as real images have.
        const float shade = 1.0f + 0.15f * cosf(1.3f * x + 0.4f) * cosf(0.9f * y - 0.2f);
        const float phase = 0.6f * x * x - 0.4f * y + 0.3f * x * y;
        out[i] = complex64(acc * shade * cosf(phase), acc * shade * sinf(phase));
    }
};

// Coil c sits at angle 2 pi c / coils on a ring of radius `radius` (recon-box units); its
// sensitivity falls off with distance d like the field of a current loop of radius `width` on its
// axis, (1 + d^2 / width^2)^(-3/2), and carries a coil-dependent phase that varies slowly across
// the field of view. out [coils][H][W].
struct CoilSensitivityF {
    index_t h, w, coils;
    float half_h, half_w;
    float radius, width;
    complex64* out;

    LUMEN_HD void operator()(index_t i) const {
        const index_t p = i % (h * w), c = i / (h * w);
        const index_t row = p / w, col = p % w;
        const float x = (float(col) - float(w / 2)) / half_w, y = -(float(row) - float(h / 2)) / half_h;
        const float theta = 2.0f * kPiF * float(c) / float(coils);
        const float cx = radius * cosf(theta), cy = radius * sinf(theta);
        const float d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        const float q = 1.0f + d2 / (width * width);
        const float mag = 1.0f / (q * sqrtf(q));
        const float phase = theta + 0.8f * (x * cosf(theta) + y * sinf(theta));
        out[i] = complex64(mag * cosf(phase), mag * sinf(phase));
    }
};

}  // namespace lumen::kern
