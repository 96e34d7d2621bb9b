// Forward finite differences over the last 2 or 3 axes of an array, their exact adjoint (the
// negative divergence), and the fused per-pixel pieces of total variation (lumen::finite_difference,
// lumen::total_variation, lumen::admm_tv).
//
// Gradient component d (0 <= d < dims) differentiates along axis rank - dims + d and lives at
// offset d * n of the gradient array. Boundary: the difference across the last sample of an axis
// is zero (Neumann), so leading batch axes never mix. The adjoint is written in gather form
// (each output reads its two neighbours), so no atomics are needed on either device.
#pragma once

#include "kernels/common/kernel.hpp"
#include "kernels/solvers/solver_ops.hpp"

namespace lumen::kern {

struct GradAxes {
    int dims;
    index_t n;            // elements of one array (all axes, batch included)
    index_t stride[3];    // element stride of each differentiated axis
    index_t length[3];    // its length

    LUMEN_HD index_t coord(index_t i, int d) const { return (i / stride[d]) % length[d]; }
};

// g[d*n + i] = x[i + stride_d] - x[i], or 0 on the last sample of axis d.
template <class T>
LUMEN_HD inline T grad_component(const T* x, const GradAxes& ax, index_t i, int d) {
    return ax.coord(i, d) + 1 < ax.length[d] ? x[i + ax.stride[d]] - x[i] : T(0.0f);
}

template <class T>
struct GradF {
    const T* x; T* g; GradAxes ax;
    LUMEN_HD void operator()(index_t i) const {
        for (int d = 0; d < ax.dims; ++d) g[d * ax.n + i] = grad_component(x, ax, i, d);
    }
};

// x[i] = sum_d (c_d >= 1 ? g_d[i - stride_d] : 0) - (c_d < len_d - 1 ? g_d[i] : 0): D^H exactly,
// also for gradient arrays whose last-sample entries are not zero.
template <class T>
struct GradAdjointF {
    const T* g; T* x; GradAxes ax;
    LUMEN_HD void operator()(index_t i) const {
        T acc(0.0f);
        for (int d = 0; d < ax.dims; ++d) {
            const T* gd = g + d * ax.n;
            const index_t c = ax.coord(i, d);
            if (c >= 1) acc += gd[i - ax.stride[d]];
            if (c + 1 < ax.length[d]) acc -= gd[i];
        }
        x[i] = acc;
    }
};

// Total variation per pixel, straight from x: sqrt(sum_d |g_d|^2) or sum_d |g_d|.
template <class T>
struct TvValueF {
    const T* x; GradAxes ax; bool isotropic;
    LUMEN_HD double operator()(index_t i) const {
        double s = 0.0;
        for (int d = 0; d < ax.dims; ++d) {
            const double m = double(norm(grad_component(x, ax, i, d)));
            s += isotropic ? m : math::sqrt(m);
        }
        return isotropic ? math::sqrt(s) : s;
    }
};

// ADMM's z- and u-updates for TV, per pixel, with g = D x:
//   v = g + u,  z' = shrink(v, tau),  u = v - z',  dz = z' - z
// shrink: isotropic = group soft threshold of the dims components (v * max(1 - tau / ||v||, 0)),
// anisotropic = soft threshold of each component. Returns {the pixel's TV of g (for the
// objective), ||g - z'||^2 (primal residual), ||z'||^2}.
template <class T>
struct TvShrinkF {
    const T* g; T* z; T* u; T* dz; index_t n; int dims; float tau; bool isotropic;
    LUMEN_HD Sum3 operator()(index_t i) const {
        T v[3], zn[3];
        double vn = 0.0, tv = 0.0;
        for (int d = 0; d < dims; ++d) {
            const T gd = g[d * n + i];
            v[d] = gd + u[d * n + i];
            vn += double(norm(v[d]));
            const double m = double(norm(gd));
            tv += isotropic ? m : math::sqrt(m);
        }
        if (isotropic) {
            const float mag = math::sqrt(float(vn));
            // NaN magnitude fails the test and keeps NaN in z (file comment of solver_ops.hpp).
            const float s = mag <= tau ? 0.0f : (mag - tau) / mag;
            for (int d = 0; d < dims; ++d) zn[d] = v[d] * s;
            tv = math::sqrt(tv);
        } else {
            for (int d = 0; d < dims; ++d) zn[d] = soft_threshold_value(v[d], tau);
        }
        double primal = 0.0, zz = 0.0;
        for (int d = 0; d < dims; ++d) {
            const index_t j = d * n + i;
            dz[j] = zn[d] - z[j];
            z[j] = zn[d];
            u[j] = v[d] - zn[d];
            primal += double(norm(g[j] - zn[d]));
            zz += double(norm(zn[d]));
        }
        return Sum3(tv, primal, zz);
    }
};

}  // namespace lumen::kern
