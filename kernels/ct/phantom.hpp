// Ellipsoid phantom math for both devices: point membership (voxelisation) and exact chord
// lengths (analytic projections). Double precision: chords come from a discriminant that loses
// digits to cancellation in float.
#pragma once

#include <math.h>

#include "kernels/common/kernel.hpp"
#include "kernels/ct/detector.hpp"

namespace lumen::kern::ct {

// q = M (x - c) with M = diag(1 / semi) R^T; inside when |q|^2 <= 1.
struct PreparedEllipsoid {
    double value;
    double m[9];
    double c[3];
};

LUMEN_HD inline void ellipsoid_local(const PreparedEllipsoid& e, const double x[3], double q[3]) {
    const double d0 = x[0] - e.c[0], d1 = x[1] - e.c[1], d2 = x[2] - e.c[2];
    for (int r = 0; r < 3; ++r) q[r] = e.m[3 * r] * d0 + e.m[3 * r + 1] * d1 + e.m[3 * r + 2] * d2;
}

// Length of the chord of line p + t d (t in R, |d| any) through the ellipsoid, in the units of p.
LUMEN_HD inline double ellipsoid_chord(const PreparedEllipsoid& e, const double p[3], const double d[3]) {
    double q0[3], q1[3];
    ellipsoid_local(e, p, q0);
    for (int r = 0; r < 3; ++r) q1[r] = e.m[3 * r] * d[0] + e.m[3 * r + 1] * d[1] + e.m[3 * r + 2] * d[2];
    const double a = q1[0] * q1[0] + q1[1] * q1[1] + q1[2] * q1[2];
    const double b = q0[0] * q1[0] + q0[1] * q1[1] + q0[2] * q1[2];
    const double c = q0[0] * q0[0] + q0[1] * q0[1] + q0[2] * q0[2] - 1.0;
    const double disc = b * b - a * c;
    if (!(disc > 0.0) || !(a > 0.0)) return 0.0;
    const double dlen = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    return 2.0 * sqrt(disc) / a * dlen;
}

// Volume [nz][ny][nx]: mean phantom value over s^3 sub-voxel centres.
struct VoxelizeF {
    const PreparedEllipsoid* ell;
    int n_ell;
    int nx, ny, nz;
    double origin[3];  // centre of voxel (0, 0, 0), mm
    double vox[3];
    int s;
    float* out;
    LUMEN_HD void operator()(index_t i) const {
        const index_t plane = index_t(nx) * ny;
        const int iz = int(i / plane);
        const int rem = int(i - index_t(iz) * plane);
        const int iy = rem / nx, ix = rem - iy * nx;
        double acc = 0.0;
        for (int a = 0; a < s; ++a)
            for (int b = 0; b < s; ++b)
                for (int c = 0; c < s; ++c) {
                    const double x[3] = {origin[0] + (ix + (c + 0.5) / s - 0.5) * vox[0],
                                         origin[1] + (iy + (b + 0.5) / s - 0.5) * vox[1],
                                         origin[2] + (iz + (a + 0.5) / s - 0.5) * vox[2]};
                    for (int k = 0; k < n_ell; ++k) {
                        double q[3];
                        ellipsoid_local(ell[k], x, q);
                        if (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] <= 1.0) acc += ell[k].value;
                    }
                }
        out[i] = float(acc / double(s * s * s));
    }
};

// One view in world coordinates (mm): source point (cone) or beam direction (parallel), centre
// of pixel (0, 0), steps per column and row.
struct WorldView {
    double src[3];
    double det0[3];
    double su[3];
    double sv[3];
};

// Projections [views][nv][nu]: line integral through the pixel centre, or mean transmission over
// s x s sub-rays.
struct AnalyticProjectF {
    const PreparedEllipsoid* ell;
    int n_ell;
    const WorldView* views;
    int nu, nv;
    bool cone;
    int s;
    bool transmission;
    float* out;
    LUMEN_HD double line_integral(const WorldView& w, double fu, double fv) const {
        double p[3], d[3];
        for (int j = 0; j < 3; ++j) {
            const double pix = w.det0[j] + fu * w.su[j] + fv * w.sv[j];
            if (cone) {
                p[j] = w.src[j];
                d[j] = pix - w.src[j];
            } else {
                p[j] = pix;
                d[j] = w.src[j];
            }
        }
        double acc = 0.0;
        for (int k = 0; k < n_ell; ++k) acc += ell[k].value * ellipsoid_chord(ell[k], p, d);
        return acc;
    }
    LUMEN_HD void operator()(index_t r) const {
        const DetectorIndex k = detector_index(r, nu, nv);
        const WorldView& w = views[k.view];
        if (!transmission) {
            out[r] = float(line_integral(w, k.iu, k.iv));
            return;
        }
        double acc = 0.0;
        for (int a = 0; a < s; ++a)
            for (int b = 0; b < s; ++b)
                acc += exp(-line_integral(w, k.iu + (b + 0.5) / s - 0.5, k.iv + (a + 0.5) / s - 0.5));
        out[r] = float(acc / double(s * s));
    }
};

}  // namespace lumen::kern::ct
