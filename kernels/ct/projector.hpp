// The CT projector math, written once for both devices (docs/design.md, "the one rule").
//
// Ray-driven pair (forward A and its exact adjoint A^T): Joseph-style traversal. In voxel index
// coordinates a ray is stepped along its dominant axis a, one sample on every plane i_a = k; on
// that plane the volume is interpolated bilinearly (this is trilinear interpolation at points
// whose a-coordinate is an integer), and each sample is weighted by the length of ray per plane,
// |d_mm| / |d_a| mm. joseph_ray() is templated on a policy: GatherPolicy accumulates
// sum w * vol[i] (forward), ScatterPolicy adds w * value into vol[i] (back projection), so the
// two share every weight and are adjoint by construction. The scatter adds atomically on the GPU;
// on the CPU the back projector partitions work so that no two threads touch one plane (a sample
// on plane k writes only voxels with i_a = k), and adds plainly. joseph_ray is joseph_setup (once
// per ray) followed by joseph_walk (any range of planes), so that the CPU can set a ray up once
// and walk it in several plane chunks.
//
// Voxel-driven back projector for FDK: each voxel is projected onto every view with a 3x4
// matrix in voxel index coordinates, the filtered projection is read with bilinear interpolation
// and weighted by (dso / U)^2 (U: depth of the voxel along the central ray).
#pragma once

#include <math.h>

#include "kernels/common/kernel.hpp"
#include "kernels/ct/detector.hpp"

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

// One ray's traversal set-up, computed once and walked in as many plane ranges as wanted: the
// dominant axis a (and the other two, b and c), the start point and slopes in (a, b, c) order,
// the mm of ray per plane, the planes [kb, ke) where the ray has a non-zero bilinear weight, and
// the interior [k_in0, k_in1) of those where all four neighbours are inside the volume.
struct JosephRay {
    int a, b, c;
    float pa, pb, pc;  // start point
    float sb, sc;      // db / da, dc / da
    float len;         // mm of ray per plane
    int kb, ke;        // planes with any non-zero weight
    int k_in0, k_in1;  // interior planes (no bounds checks needed); empty: k_in0 = k_in1 = ke
};

// Sets r up for the ray from p along d; false when the ray has no non-zero weight in the volume
// (parallel to the planes, or missing the volume).
LUMEN_HD inline bool joseph_setup(const float p[3], const float d[3], const VolumeDims& vol, JosephRay& r) {
    const int a = dominant_axis(d);
    if (d[a] == 0.0f) return false;
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
        return false;
    }
    if (sc != 0.0f) {
        const float k1 = p[a] + (-1.0f - p[c]) / sc, k2 = p[a] + (float(nc) - p[c]) / sc;
        k_lo = fmaxf(k_lo, fminf(k1, k2));
        k_hi = fminf(k_hi, fmaxf(k1, k2));
    } else if (!(p[c] > -1.0f && p[c] < float(nc))) {
        return false;
    }
    if (!(k_lo <= k_hi)) return false;
    const int kb = int(ceilf(k_lo));
    const int ke = int(floorf(k_hi)) + 1;
    if (kb >= ke) return false;

    // Interior planes, where all four neighbours are inside (margin 0.01 voxel, far above float
    // rounding of the coordinates): no bounds checks there. Planes near the edges take the
    // checked path. The split only selects code paths; weights are the same on both.
    float ki_lo = float(kb), ki_hi = float(ke - 1);
    const float lo_b = 0.01f, hi_b = float(nb - 1) - 0.01f, lo_c = 0.01f, hi_c = float(nc - 1) - 0.01f;
    if (hi_b < lo_b || hi_c < lo_c) {
        ki_hi = ki_lo - 1.0f;
    } else {
        if (sb != 0.0f) {
            const float k1 = p[a] + (lo_b - p[b]) / sb, k2 = p[a] + (hi_b - p[b]) / sb;
            ki_lo = fmaxf(ki_lo, fminf(k1, k2));
            ki_hi = fminf(ki_hi, fmaxf(k1, k2));
        } else if (!(p[b] >= lo_b && p[b] <= hi_b)) {
            ki_hi = ki_lo - 1.0f;
        }
        if (sc != 0.0f) {
            const float k1 = p[a] + (lo_c - p[c]) / sc, k2 = p[a] + (hi_c - p[c]) / sc;
            ki_lo = fmaxf(ki_lo, fminf(k1, k2));
            ki_hi = fminf(ki_hi, fmaxf(k1, k2));
        } else if (!(p[c] >= lo_c && p[c] <= hi_c)) {
            ki_hi = ki_lo - 1.0f;
        }
    }
    int k_in0 = ke, k_in1 = ke;  // empty interior by default
    // ki_lo - 1.0f above is ki_lo itself once ki_lo exceeds 2^24 (a ray far outside), which would
    // make the test below pass with ki_lo ~ 1e16: the interior lies within [kb, ke - 1] or is
    // empty, and checking that keeps the conversions to int in range (UBSan found it).
    if (ki_lo <= ki_hi && ki_lo <= float(ke - 1) && ki_hi >= float(kb)) {
        k_in0 = int(ceilf(ki_lo)) + 1;
        k_in1 = int(floorf(ki_hi));  // exclusive: one plane of margin on each side
        if (k_in0 < kb) k_in0 = kb;
        if (k_in1 > ke) k_in1 = ke;
        if (k_in1 < k_in0) k_in0 = k_in1 = ke;
    }

    const float dm0 = d[0] * vol.vox[0], dm1 = d[1] * vol.vox[1], dm2 = d[2] * vol.vox[2];
    r.a = a;
    r.b = b;
    r.c = c;
    r.pa = p[a];
    r.pb = p[b];
    r.pc = p[c];
    r.sb = sb;
    r.sc = sc;
    r.len = sqrtf(dm0 * dm0 + dm1 * dm1 + dm2 * dm2) * fabsf(inv);
    r.kb = kb;
    r.ke = ke;
    r.k_in0 = k_in0;
    r.k_in1 = k_in1;
    return true;
}

// The sample on interior plane k (k_in0 <= k < k_in1): b, c in (0, n - 1), so floor ==
// truncation and all four neighbours exist. The AVX2 forms in src/ct/simd_joseph.cpp restate exactly
// this, 8 rays at a time.
template <class Policy>
LUMEN_HD inline void joseph_sample_interior(const JosephRay& r, const VolumeDims& vol, int k, Policy& pol) {
    const long long sa_ = vol.stride[r.a], sb_ = vol.stride[r.b], sc_ = vol.stride[r.c];
    const float t = float(k) - r.pa;
    const float fb = r.pb + t * r.sb;
    const float fc = r.pc + t * r.sc;
    const int b0 = int(fb), c0 = int(fc);
    const float wb1 = fb - float(b0), wc1 = fc - float(c0);
    const float wb0 = 1.0f - wb1, wc0 = 1.0f - wc1;
    const long long base = (long long)k * sa_ + (long long)b0 * sb_ + (long long)c0 * sc_;
    pol.add(base, wb0 * wc0);
    pol.add(base + sb_, wb1 * wc0);
    pol.add(base + sc_, wb0 * wc1);
    pol.add(base + sb_ + sc_, wb1 * wc1);
}

// The sample on any plane k in [kb, ke), bounds checked: the same weights as the interior form.
template <class Policy>
LUMEN_HD inline void joseph_sample_checked(const JosephRay& r, const VolumeDims& vol, int k, Policy& pol) {
    const int nb = vol.n[r.b], nc = vol.n[r.c];
    const long long sa_ = vol.stride[r.a], sb_ = vol.stride[r.b], sc_ = vol.stride[r.c];
    const float t = float(k) - r.pa;
    const float fb = r.pb + t * r.sb;
    const float fc = r.pc + t * r.sc;
    // All four neighbours lie outside (zero weight) unless -1 < fb < nb and -1 < fc < nc;
    // skipping such planes also keeps the float-to-int conversions below in range when
    // rounding of far-away source coordinates puts fb or fc beyond int.
    if (!(fb > -1.0f && fb < float(nb) && fc > -1.0f && fc < float(nc))) return;
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

// Walks planes [k_begin, k_end) of a set-up ray in increasing k (only those in [kb, ke) carry
// weight): checked edge planes, the interior, checked edge planes. No begin()/end() calls.
template <class Policy>
LUMEN_HD inline void joseph_walk(const JosephRay& r, const VolumeDims& vol, int k_begin, int k_end, Policy& pol) {
    const int kb = r.kb > k_begin ? r.kb : k_begin;
    const int ke = r.ke < k_end ? r.ke : k_end;
    if (kb >= ke) return;
    int i0 = r.k_in0 < kb ? kb : r.k_in0;
    if (i0 > ke) i0 = ke;
    int i1 = r.k_in1 > ke ? ke : r.k_in1;
    if (i1 < i0) i1 = i0;
    int k = kb;
    for (; k < i0; ++k) joseph_sample_checked(r, vol, k, pol);
    for (; k < i1; ++k) joseph_sample_interior(r, vol, k, pol);
    for (; k < ke; ++k) joseph_sample_checked(r, vol, k, pol);
}

// Traverses one ray. Only planes k in [k_begin, k_end) of the dominant axis are visited; when
// only_axis >= 0 rays whose dominant axis differs are skipped. Calls pol.begin(len) once (len:
// mm of ray per plane; not called when the ray misses the volume or those planes), then
// pol.add(index, weight) for every voxel with a non-zero bilinear weight, then pol.end().
template <class Policy>
LUMEN_HD inline void joseph_ray(const float p[3], const float d[3], const VolumeDims& vol, int only_axis, int k_begin,
                                int k_end, Policy& pol) {
    if (only_axis >= 0 && dominant_axis(d) != only_axis) return;
    JosephRay r;
    if (!joseph_setup(p, d, vol, r)) return;
    if ((r.kb > k_begin ? r.kb : k_begin) >= (r.ke < k_end ? r.ke : k_end)) return;
    pol.begin(r.len);
    joseph_walk(r, vol, k_begin, k_end, pol);
    pol.end();
}

// A read of data that stays constant during the kernel: through the GPU's read-only (texture)
// cache path; a plain load on the CPU.
LUMEN_HD inline float load_ro(const float* p) {
#if defined(__CUDA_ARCH__)
    return __ldg(p);
#else
    return *p;
#endif
}

// Forward policy: sum of weighted voxel values times the plane length.
struct GatherPolicy {
    const float* vol;
    float acc = 0.0f;
    float len = 0.0f;
    LUMEN_HD void begin(float l) { len = l; }
    LUMEN_HD void add(long long i, float w) { acc += w * load_ro(vol + i); }
    LUMEN_HD void end() {}
    LUMEN_HD float result() const { return acc * len; }
};

// Adds v to *p: atomically on the GPU. On the CPU callers guarantee exclusive ownership of the
// written planes, except when `Atomic` asks for an OpenMP atomic.
template <bool Atomic>
LUMEN_HD inline void scatter_add(float* p, float v) {
#if defined(__CUDA_ARCH__)
    atomicAdd(p, v);
#elif defined(_OPENMP)
    if (Atomic) {
#pragma omp atomic
        *p += v;
    } else {
        *p += v;
    }
#else
    *p += v;  // no OpenMP: no threads to race with
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
        const DetectorIndex k = detector_index(r, nu, nv);
        float p[3], d[3];
        ray_of(views[k.view], cone, k.iu, k.iv, p, d);
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
        const DetectorIndex k = detector_index(r, nu, nv);
        float p[3], d[3];
        ray_of(views[k.view], cone, k.iu, k.iv, p, d);
        ScatterPolicy<Atomic> s{vol, value};
        joseph_ray(p, d, dims, axis, k_begin, k_end, s);
    }
};

// CPU form of the back projection's inner walk: rays[0, count) already set up (joseph_setup;
// kb >= ke marks a ray to skip), values[i] the projection value of ray i, only planes
// [k_begin, k_end) written, rays in order. The caller owns those planes (no atomics). The AVX2
// form src/ct/simd_joseph.cpp runs 8 consecutive rays at a time in the same per-voxel order.
LUMEN_HD inline void joseph_scatter_rays(const JosephRay* rays, const float* values, index_t count,
                                         const VolumeDims& dims, float* vol, int k_begin, int k_end) {
    for (index_t i = 0; i < count; ++i) {
        const JosephRay& r = rays[i];
        if (r.kb >= k_end || r.ke <= k_begin) continue;
        ScatterPolicy<false> s{vol, values[i]};
        s.begin(r.len);
        joseph_walk(r, dims, k_begin, k_end, s);
    }
}

// ---------------------------------------------------------------------------------------------
// Voxel-driven back projection (FDK).

// Written once: fdk_voxel is the whole per-voxel, per-view formula (detector coordinates,
// bilinear read, FDK's distance weight). The GPU form calls it for every voxel and view; the CPU
// slab form calls its two halves, fdk_column (what does not depend on z) once per column and
// fdk_column_sample (the rest) per voxel down the column, which is the same arithmetic in the
// same order. The AVX2 form in src/ct/simd.cpp (the one documented exception) vectorises
// fdk_column_sample over 8 slices; tests/ct/test_fdk_forms.cpp holds all three to fdk_voxel.
//
// A view's matrix m (3x4, src/ct/projector.cpp, fdk_matrices) takes voxel index coordinates
// (x, y, z, 1) to (un, vn, w): detector pixel (un / w, vn / w), depth w = U / dso (cone) or 1
// (parallel). lumen's detectors have no tilt, so m[2] = m[10] = 0: neither the detector column
// nor the depth depends on z, only the row does (vn = vb + m[6] z).

// The z-independent half for voxel column (x, y) of one view.
struct FdkColumn {
    float iw;     // 1 / w (cone) or 1 (parallel)
    float wt;     // FDK's distance weight (dso / U)^2 = iw^2 (cone) or 1 (parallel)
    float vb;     // the row numerator without its z term
    float fu;     // the column's fractional part
    int iu;       // the column in the padded image (reads iu and iu + 1)
    bool inside;  // the column lies on the detector; when false every voxel of it reads 0
};
LUMEN_HD inline FdkColumn fdk_column(const float* m, int nu, bool cone, float x, float y) {
    FdkColumn c{};
    c.iw = 1.0f;
    if (cone) c.iw = 1.0f / (m[8] * x + m[9] * y + m[11]);
    const float pu = (m[0] * x + m[1] * y + m[3]) * c.iw + 1.0f;  // padded column coordinate
    c.inside = pu > 0.0f && pu < float(nu + 1);
    if (!c.inside) return c;  // (also keeps the AVX2 kernel's multiply-add fusion, hence its results, as before)
    c.iu = int(pu);  // truncation == floor for positive values
    c.fu = pu - float(c.iu);
    c.wt = cone ? c.iw * c.iw : 1.0f;
    c.vb = m[4] * x + m[5] * y + m[7];
    return c;
}

// The rest, for the voxel at slice z of an inside column: bilinear read of the filtered
// projection img (padded, [nv + 2][nu + 2] with a zero border: no bounds checks inside) at the
// voxel's detector position, times the distance weight; 0 off the detector. m6 = m[6].
LUMEN_HD inline float fdk_column_sample(const FdkColumn& c, const float* img, int nu, int nv, float m6, float z) {
    const float pv = (c.vb + m6 * z) * c.iw + 1.0f;  // padded row coordinate
    if (!(pv > 0.0f && pv < float(nv + 1))) return 0.0f;
    const int iv = int(pv);
    const float fv = pv - float(iv);
    const int stride = nu + 2;
    const float* p = img + (long long)iv * stride + c.iu;
    const float p00 = load_ro(p), p01 = load_ro(p + 1), p10 = load_ro(p + stride), p11 = load_ro(p + stride + 1);
    const float top = p00 + c.fu * (p01 - p00);
    const float bottom = p10 + c.fu * (p11 - p10);
    return c.wt * (top + fv * (bottom - top));
}

// One view's contribution to voxel (x, y, z).
LUMEN_HD inline float fdk_voxel(const float* m, const float* img, int nu, int nv, bool cone, float x, float y,
                                float z) {
    const FdkColumn c = fdk_column(m, nu, cone, x, y);
    return c.inside ? fdk_column_sample(c, img, nu, nv, m[6], z) : 0.0f;
}

// GPU form: vol[i] += sum over views of voxel i (C order [iz][iy][ix]). proj is padded,
// [views][nv + 2][nu + 2].
struct FdkBackprojectF {
    const float* mats;  // 12 per view
    const float* proj;
    float* vol;
    int nx, ny;
    int nu, nv;
    int n_views;
    bool cone;
    int z_begin = 0;  // i counts the voxels from slice z_begin on (a slab of the volume)
    LUMEN_HD void operator()(index_t i) const {
        const index_t plane = index_t(nx) * ny;
        const int iz = z_begin + int(i / plane);
        const int rem = int(i - index_t(iz - z_begin) * plane);
        const int iy = rem / nx, ix = rem - iy * nx;
        float acc = 0.0f;
        const long long view_size = (long long)(nu + 2) * (nv + 2);
        for (int v = 0; v < n_views; ++v)
            acc += fdk_voxel(mats + 12 * v, proj + v * view_size, nu, nv, cone, float(ix), float(iy), float(iz));
        vol[i + index_t(z_begin) * plane] += acc;
    }
};

// CPU form: voxels of row iy in slices [z0, z1), for views [view_begin, view_end), each column's
// fdk_column computed once and reused down z. `acc` is the caller's scratch of nx * (z1 - z0)
// floats, laid out [ix][iz - z0] (contiguous down z: volume slices are a power-of-two stride
// apart and would collide in the cache), zeroed on entry; the result is added to the volume at
// the end.
struct FdkBackprojectSlabF {
    const float* mats;
    const float* proj;
    float* vol;
    int nx, ny;
    int nu, nv;
    bool cone;
    LUMEN_HD void operator()(int iy, int z0, int z1, int view_begin, int view_end, float* acc) const {
        const long long view_size = (long long)(nu + 2) * (nv + 2);
        const int nzb = z1 - z0;
        for (int v = view_begin; v < view_end; ++v) {
            const float* m = mats + 12 * v;
            const float* img = proj + v * view_size;
            for (int ix = 0; ix < nx; ++ix) {
                const FdkColumn c = fdk_column(m, nu, cone, float(ix), float(iy));
                if (!c.inside) continue;
                float* a = acc + (long long)ix * nzb - z0;
                for (int iz = z0; iz < z1; ++iz) a[iz] += fdk_column_sample(c, img, nu, nv, m[6], float(iz));
            }
        }
        add_to_volume(iy, z0, z1, acc);
    }
    // vol += acc for row iy, slices [z0, z1).
    LUMEN_HD void add_to_volume(int iy, int z0, int z1, const float* acc) const {
        const int nzb = z1 - z0;
        const long long plane = (long long)nx * ny;
        for (int iz = z0; iz < z1; ++iz) {
            float* out = vol + iz * plane + (long long)iy * nx;
            for (int ix = 0; ix < nx; ++ix) out[ix] += acc[(long long)ix * nzb + (iz - z0)];
        }
    }
};

// Copies projections [views][nv][nu] into the padded layout [views][nv + 2][nu + 2] (border zero;
// the destination is zeroed beforehand).
struct PadProjectionsF {
    const float* in;
    float* out;
    int nu, nv;
    LUMEN_HD void operator()(index_t i) const {
        const DetectorIndex k = detector_index(i, nu, nv);
        out[k.view * (index_t(nu + 2) * (nv + 2)) + index_t(k.iv + 1) * (nu + 2) + (k.iu + 1)] = in[i];
    }
};

}  // namespace lumen::kern::ct
