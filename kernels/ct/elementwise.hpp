// CT per-element steps for both devices: flat/dark normalisation, the log transform, and the
// residuals and gradient weights of the linearised and the nonlinear (Beer-Lambert) losses.
#pragma once

#include <math.h>

#include "kernels/common/kernel.hpp"

namespace lumen::kern::ct {

// t[i] = (I[i] - dark[p]) * inv_gain[p], p = i mod per_view (dark may be null: zero).
struct NormalizeF {
    const float* data;
    const float* dark;
    const float* inv_gain;  // 1 / (white - dark)
    index_t per_view;
    float* out;
    LUMEN_HD void operator()(index_t i) const {
        const index_t p = i % per_view;
        const float d = dark ? dark[p] : 0.0f;
        out[i] = (data[i] - d) * inv_gain[p];
    }
};

// 1 when t[i] is not a positive finite number (a log would fail), else 0.
struct NonPositiveF {
    const float* t;
    LUMEN_HD double operator()(index_t i) const {
        const float v = t[i];
        return (v > 0.0f && (v - v) == 0.0f) ? 0.0 : 1.0;
    }
};

// out[i] = -log(max(t[i], floor)).
struct NegLogF {
    const float* t;
    float floor;
    float* out;
    LUMEN_HD void operator()(index_t i) const {
        const float v = t[i] > floor ? t[i] : floor;
        out[i] = -logf(v);
    }
};

// Linearised least squares 0.5 ||A x - b||^2: w = A x - b (the back projection of w is the
// gradient); returns the ray's share of the loss.
struct LinearResidualF {
    const float* ax;
    const float* b;
    float* w;
    LUMEN_HD double operator()(index_t i) const {
        const float r = ax[i] - b[i];
        w[i] = r;
        return 0.5 * double(r) * double(r);
    }
};

// Beer-Lambert least squares 0.5 ||exp(-A x) - t||^2 on normalised intensities: with e = exp(-Ax),
// r = e - t, the gradient is A^T w with w = -r e (rays through dense material, small e, weigh
// little: where -log t is ill-conditioned). Returns the ray's share of the loss.
struct BeerLambertResidualF {
    const float* ax;
    const float* t;
    float* w;
    LUMEN_HD double operator()(index_t i) const {
        const float e = expf(-ax[i]);
        const float r = e - t[i];
        w[i] = -r * e;
        return 0.5 * double(r) * double(r);
    }
};

// Poisson log-likelihood of the counts I = gain t + dark under the mean lambda = gain e^{-Ax} + dark
// (per pixel p = i mod per_view; dark may be null: zero): returns the ray's deviance
// lambda - I + I log(I / lambda) >= 0 (0 at a perfect fit; twice it is about the chi-square) and
// writes w = dL/d(Ax) = a (I / lambda - 1), a = gain e^{-Ax}, whose back projection is the
// gradient. Counts below zero (dark-subtracted noise) are taken as 0. The second derivative,
// a + I a dark / lambda^2, is at most gain + I / 4 for Ax >= 0 (gain without a dark level): the
// step size's bound (src/ct/recon.cpp).
struct PoissonResidualF {
    const float* ax;
    const float* t;
    const float* gain;
    const float* dark;
    index_t per_view;
    float* w;
    LUMEN_HD double operator()(index_t i) const {
        const index_t p = i % per_view;
        const double n = gain[p], d = dark ? dark[p] : 0.0;
        const double a = n * exp(-double(ax[i]));
        const double lambda = a + d;
        double counts = n * double(t[i]) + d;
        counts = counts > 0.0 ? counts : 0.0;
        if (!(lambda > 0.0)) {
            // No expected counts at all (gain e^{-Ax} underflowed, no dark): nothing to pull on.
            w[i] = 0.0f;
            return counts > 0.0 ? INFINITY : 0.0;
        }
        w[i] = float(a * (counts / lambda - 1.0));
        return lambda - counts + (counts > 0.0 ? counts * log(counts / lambda) : 0.0);
    }
};

// The nonlinear method's curvature bounds, reduced with MaxOp on the device the data are on. A NaN
// ray counts as nothing (-1e308), as std::max on the host would skip it.
// Least squares: -t[i] (the bound is 2 - min t).
struct NegatedF {
    const float* t;
    LUMEN_HD double operator()(index_t i) const {
        const double v = t[i];
        return v == v ? -v : -1.0e308;
    }
};
// Poisson: n + I gmax per ray, the deviance's second derivative in u = A x at most (src/ct/recon.cpp),
// with I = max(n t + d, 0) the counts, n = gain[p], d = dark[p] (dark may be null: zero),
// p = i mod per_view.
struct PoissonCurvatureF {
    const float* t;
    const float* gain;
    const float* dark;
    index_t per_view;
    LUMEN_HD double operator()(index_t i) const {
        const index_t p = i % per_view;
        const double n = gain[p], d = dark ? dark[p] : 0.0;
        double counts = n * double(t[i]) + d;
        counts = counts < 0.0 ? 0.0 : counts;
        const double gmax = d <= 0.0 ? 0.0 : (n >= d ? 0.25 : n * d / ((n + d) * (n + d)));
        const double c = n + counts * gmax;
        return c == c ? c : -1.0e308;
    }
};

// The Poisson variance of -log((I - dark) / gain) from the counts I: I / (I - dark)^2, plus the flat
// field's share (white / (frames gain^2), per pixel p = i mod per_view); infinite when I <= dark.
struct CountVarianceF {
    const float* data;
    const float* dark;
    const float* white_var;
    index_t per_view;
    float* out;
    LUMEN_HD void operator()(index_t i) const {
        const index_t p = i % per_view;
        const float signal = data[i] - dark[p];
        out[i] = signal > 0.0f ? data[i] / (signal * signal) + white_var[p] : INFINITY;
    }
};

// A ray's residual r = A x - b weighted by its noise variance: r^2 / var (0 where var is not finite,
// i.e. the ray carries no information).
struct NoiseWeightedResidualF {
    const float* ax;
    const float* b;
    const float* var;
    LUMEN_HD double operator()(index_t i) const {
        const float v = var[i];
        if (!(v > 0.0f) || !(v < INFINITY)) return 0.0;
        const double r = double(ax[i]) - double(b[i]);
        return r * r / double(v);
    }
};

// Smoothed isotropic TV, sum_v sqrt(|(D x)_v|^2 + eps^2) - eps, over a volume of n voxels with
// gradient components g[c * n + v] (c = 0..2). Writes g <- g / sqrt(|g|^2 + eps^2) (the gradient
// is then D^T g) and returns the voxel's term.
struct SmoothTvF {
    float* g;
    index_t n;
    float eps;
    LUMEN_HD double operator()(index_t v) const {
        const float a = g[v], b = g[n + v], c = g[2 * n + v];
        const float s = sqrtf(a * a + b * b + c * c + eps * eps);
        g[v] = a / s;
        g[n + v] = b / s;
        g[2 * n + v] = c / s;
        return double(s) - double(eps);
    }
};

}  // namespace lumen::kern::ct
