// The CT projector math, written once for both devices (DESIGN.md, "the one rule").
//
// Ray-driven pair (forward A and its exact adjoint A^T): Joseph-style traversal. In voxel index
// coordinates a ray is stepped along its dominant axis a, one sample on every plane i_a = k; on
// that plane the volume is interpolated bilinearly (this is trilinear interpolation at points
// whose a-coordinate is an integer), and each sample is weighted by the length of ray per plane,
// |d_mm| / |d_a| mm. joseph_ray() is templated on a policy: GatherPolicy accumulates
// sum w * vol[i] (forward), ScatterPolicy adds w * value into vol[i] (back projection), so the
// two share every weight and are adjoint by construction. The scatter adds atomically on the GPU;
// on the CPU the back projector partitions work so that no two threads touch one plane (a sample
// on plane k writes only voxels with i_a = k), and adds plainly.
//
// Voxel-driven back projector for FDK: each voxel is projected onto every view with a 3x4
// matrix in voxel index coordinates, the filtered projection is read with bilinear interpolation
// and weighted by (dso / U)^2 (U: depth of the voxel along the central ray).
#pragma once

#include <math.h>

#include "kernels/common/hd.hpp"

namespace lumen::kern::ct {

// One view of the ray-driven projector, in voxel index coordinates (voxel (ix, iy, iz) centred at
// (ix, iy, iz)). Cone beam: `src` is the source position. Parallel beam: `src` is the ray
// direction. det0 is the centre of detector pixel (0, 0); step_u / step_v move one column / row.
struct RayView {
    float src[3];
    float det0[3];
    float step_u[3];
    float step_v[3];
};

struct VolumeDims {
    int n[3];      // nx, ny, nz
    float vox[3];  // voxel size, mm
    long long stride[3];  // 1, nx, nx * ny
};

// The start point p and direction d (index coordinates) of ray (iu, iv) of a view.
LUMEN_HD inline void ray_of(const RayView& rv, bool cone, int iu, int iv, float p[3], float d[3]) {
    float pix[3];
    for (int j = 0; j < 3; ++j) pix[j] = rv.det0[j] + float(iu) * rv.step_u[j] + float(iv) * rv.step_v[j];
    if (cone) {
        for (int j = 0; j < 3; ++j) {
            p[j] = rv.src[j];
            d[j] = pix[j] - rv.src[j];
        }
    } else {
        for (int j = 0; j < 3; ++j) {
            p[j] = pix[j];
            d[j] = rv.src[j];
        }
    }
}

// The dominant axis of direction d in index coordinates (ties go to the lower axis).
LUMEN_HD inline int dominant_axis(const float d[3]) {
    const float ax = fabsf(d[0]), ay = fabsf(d[1]), az = fabsf(d[2]);
    if (ax >= ay && ax >= az) return 0;
    return ay >= az ? 1 : 2;
}

// Traverses one ray. Only planes k in [k_begin, k_end) of the dominant axis are visited; when
// only_axis >= 0 rays whose dominant axis differs are skipped. Calls pol.begin(len) once (len:
// mm of ray per plane; not called when the ray misses the volume), then pol.add(index, weight)
// for every voxel with a non-zero bilinear weight.
template <class Policy>
LUMEN_HD inline void joseph_ray(const float p[3], const float d[3], const VolumeDims& vol, int only_axis, int k_begin,
                                int k_end, Policy& pol) {
    const int a = dominant_axis(d);
    if (only_axis >= 0 && a != only_axis) return;
    if (d[a] == 0.0f) return;
    const int b = a == 0 ? 1 : 0;
    const int c = a == 2 ? 1 : 2;
    const float inv = 1.0f / d[a];
    const float sb = d[b] * inv, sc = d[c] * inv;
    const int na = vol.n[a], nb = vol.n[b], nc = vol.n[c];

    // Planes where the ray has any voxel with a non-zero weight: -1 < b(k) < nb, -1 < c(k) < nc.
    float k_lo = 0.0f, k_hi = float(na - 1);
    if (sb != 0.0f) {
        const float k1 = p[a] + (-1.0f - p[b]) / sb, k2 = p[a] + (float(nb) - p[b]) / sb;
        k_lo = fmaxf(k_lo, fminf(k1, k2));
        k_hi = fminf(k_hi, fmaxf(k1, k2));
    } else if (!(p[b] > -1.0f && p[b] < float(nb))) {
        return;
    }
    if (sc != 0.0f) {
        const float k1 = p[a] + (-1.0f - p[c]) / sc, k2 = p[a] + (float(nc) - p[c]) / sc;
        k_lo = fmaxf(k_lo, fminf(k1, k2));
        k_hi = fminf(k_hi, fmaxf(k1, k2));
    } else if (!(p[c] > -1.0f && p[c] < float(nc))) {
        return;
    }
    if (!(k_lo <= k_hi)) return;
    int kb = int(ceilf(k_lo));
    int ke = int(floorf(k_hi)) + 1;
    if (kb < k_begin) kb = k_begin;
    if (ke > k_end) ke = k_end;
    if (kb >= ke) return;

    const float dm0 = d[0] * vol.vox[0], dm1 = d[1] * vol.vox[1], dm2 = d[2] * vol.vox[2];
    const float len = sqrtf(dm0 * dm0 + dm1 * dm1 + dm2 * dm2) * fabsf(inv);
    pol.begin(len);

    const long long sa_ = vol.stride[a], sb_ = vol.stride[b], sc_ = vol.stride[c];
    for (int k = kb; k < ke; ++k) {
        const float t = float(k) - p[a];
        const float fb = p[b] + t * sb;
        const float fc = p[c] + t * sc;
        const float b0f = floorf(fb), c0f = floorf(fc);
        const int b0 = int(b0f), c0 = int(c0f);
        const float wb1 = fb - b0f, wc1 = fc - c0f;
        const float wb0 = 1.0f - wb1, wc0 = 1.0f - wc1;
        const long long base = (long long)k * sa_ + (long long)b0 * sb_ + (long long)c0 * sc_;
        const bool b0_in = b0 >= 0 && b0 < nb, b1_in = b0 + 1 >= 0 && b0 + 1 < nb;
        const bool c0_in = c0 >= 0 && c0 < nc, c1_in = c0 + 1 >= 0 && c0 + 1 < nc;
        if (c0_in) {
            if (b0_in) pol.add(base, wb0 * wc0);
            if (b1_in) pol.add(base + sb_, wb1 * wc0);
        }
        if (c1_in) {
            if (b0_in) pol.add(base + sc_, wb0 * wc1);
            if (b1_in) pol.add(base + sb_ + sc_, wb1 * wc1);
        }
    }
    pol.end();
}

// Forward policy: sum of weighted voxel values times the plane length.
struct GatherPolicy {
    const float* vol;
    float acc = 0.0f;
    float len = 0.0f;
    LUMEN_HD void begin(float l) { len = l; }
    LUMEN_HD void add(long long i, float w) { acc += w * vol[i]; }
    LUMEN_HD void end() {}
    LUMEN_HD float result() const { return acc * len; }
};

// Adds v to *p: atomically on the GPU. On the CPU callers guarantee exclusive ownership of the
// written planes, except when `Atomic` asks for an OpenMP atomic.
template <bool Atomic>
LUMEN_HD inline void scatter_add(float* p, float v) {
#if defined(__CUDA_ARCH__)
    atomicAdd(p, v);
#else
    if (Atomic) {
#pragma omp atomic
        *p += v;
    } else {
        *p += v;
    }
#endif
}

// Back-projection policy: adds value * len * w to every visited voxel.
template <bool Atomic>
struct ScatterPolicy {
    float* vol;
    float value;
    float scaled = 0.0f;
    LUMEN_HD void begin(float l) { scaled = value * l; }
    LUMEN_HD void add(long long i, float w) { scatter_add<Atomic>(vol + i, scaled * w); }
    LUMEN_HD void end() {}
};

// y = A x for ray `r` = (view, iv, iu) in C order.
struct ForwardProjectF {
    const RayView* views;
    const float* vol;
    float* proj;
    VolumeDims dims;
    int nu, nv;
    bool cone;
    LUMEN_HD void operator()(index_t r) const {
        const index_t per_view = index_t(nu) * nv;
        const int view = int(r / per_view);
        const int rem = int(r - index_t(view) * per_view);
        const int iv = rem / nu, iu = rem - iv * nu;
        float p[3], d[3];
        ray_of(views[view], cone, iu, iv, p, d);
        GatherPolicy g{vol};
        joseph_ray(p, d, dims, -1, 0, 1 << 30, g);
        proj[r] = g.result();
    }
};

// x += A^T y for ray `r`, restricted to rays with dominant axis `axis` (or all when -1) and to
// planes [k_begin, k_end) of it. Atomic: GPU scatter of all rays at once. Non-atomic: the CPU
// calls it with disjoint plane ranges per thread.
template <bool Atomic>
struct BackProjectRayF {
    const RayView* views;
    const float* proj;
    float* vol;
    VolumeDims dims;
    int nu, nv;
    bool cone;
    int axis;
    int k_begin, k_end;
    LUMEN_HD void operator()(index_t r) const {
        const float value = proj[r];
        if (value == 0.0f) return;
        const index_t per_view = index_t(nu) * nv;
        const int view = int(r / per_view);
        const int rem = int(r - index_t(view) * per_view);
        const int iv = rem / nu, iu = rem - iv * nu;
        float p[3], d[3];
        ray_of(views[view], cone, iu, iv, p, d);
        ScatterPolicy<Atomic> s{vol, value};
        joseph_ray(p, d, dims, axis, k_begin, k_end, s);
    }
};

// ---------------------------------------------------------------------------------------------
// Voxel-driven back projection (FDK).

// Bilinear read of image [nv][nu] at continuous pixel coordinates (u, v); zero outside.
LUMEN_HD inline float bilinear_detector(const float* img, int nu, int nv, float u, float v) {
    if (!(u > -1.0f && u < float(nu) && v > -1.0f && v < float(nv))) return 0.0f;
    const float u0f = floorf(u), v0f = floorf(v);
    const int u0 = int(u0f), v0 = int(v0f);
    const float fu = u - u0f, fv = v - v0f;
    float acc = 0.0f;
    const bool u0_in = u0 >= 0, u1_in = u0 + 1 < nu;
    if (v0 >= 0) {
        const float* row = img + (long long)v0 * nu;
        if (u0_in) acc += (1.0f - fu) * (1.0f - fv) * row[u0];
        if (u1_in) acc += fu * (1.0f - fv) * row[u0 + 1];
    }
    if (v0 + 1 < nv) {
        const float* row = img + (long long)(v0 + 1) * nu;
        if (u0_in) acc += (1.0f - fu) * fv * row[u0];
        if (u1_in) acc += fu * fv * row[u0 + 1];
    }
    return acc;
}

// The contribution of one view to voxel (ix, iy, iz): m is the view's 3x4 matrix (rows: u
// numerator, v numerator, depth w = U / dso; cone: weight 1 / w^2; parallel: w = 1).
LUMEN_HD inline float fdk_view_sample(const float* m, const float* img, int nu, int nv, bool cone, float x, float y,
                                      float z) {
    const float un = m[0] * x + m[1] * y + m[2] * z + m[3];
    const float vn = m[4] * x + m[5] * y + m[6] * z + m[7];
    if (!cone) return bilinear_detector(img, nu, nv, un, vn);
    const float w = m[8] * x + m[9] * y + m[10] * z + m[11];
    const float iw = 1.0f / w;
    return bilinear_detector(img, nu, nv, un * iw, vn * iw) * (iw * iw);
}

// vol[i] += sum over views [view_begin, view_end) for voxel i (C order [iz][iy][ix]).
struct FdkBackprojectF {
    const float* mats;  // 12 per view
    const float* proj;  // [views][nv][nu]
    float* vol;
    int nx, ny;
    int nu, nv;
    int view_begin, view_end;
    bool cone;
    LUMEN_HD void operator()(index_t i) const {
        const index_t plane = index_t(nx) * ny;
        const int iz = int(i / plane);
        const int rem = int(i - index_t(iz) * plane);
        const int iy = rem / nx, ix = rem - iy * nx;
        float acc = 0.0f;
        const long long view_size = (long long)nu * nv;
        for (int v = view_begin; v < view_end; ++v)
            acc += fdk_view_sample(mats + 12 * v, proj + v * view_size, nu, nv, cone, float(ix), float(iy), float(iz));
        vol[i] += acc;
    }
};

}  // namespace lumen::kern::ct
