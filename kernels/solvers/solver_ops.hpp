// Per-element helpers of the iterative solvers (src/solvers/*.cpp): fused updates and the fused
// reductions that give a solver its convergence measure and its finiteness check in one pass.
//
// Projections and thresholds here never turn a NaN into a number (a comparison with NaN is
// false, so NaN falls through to the branch that keeps it): the divergence guard relies on
// non-finite values surviving until they are measured.
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern {

// Three sums in one reduction (SumOp<Sum3> works as for double).
struct Sum3 {
    double a, b, c;
    LUMEN_HD Sum3(double v = 0.0) : a(v), b(v), c(v) {}  // NOLINT: SumOp::identity() is R(0)
    LUMEN_HD Sum3(double a_, double b_, double c_) : a(a_), b(b_), c(c_) {}
    LUMEN_HD Sum3 operator+(const Sum3& o) const { return Sum3(a + o.a, b + o.b, c + o.c); }
};

LUMEN_HD inline double re_conj_mul(float x, float y) { return double(x) * double(y); }
LUMEN_HD inline double re_conj_mul(complex64 x, complex64 y) {
    return double(x.re) * double(y.re) + double(x.im) * double(y.im);
}

LUMEN_HD inline float abs_value(float v) { return fabsf(v); }
LUMEN_HD inline float abs_value(complex64 v) { return abs(v); }

// {|x - xp|^2, |x|^2, Re conj(y - x) (x - xp)}: the step length, the size of the estimate and the
// gradient-mapping restart test of the accelerated methods. y may be null (c is then 0).
template <class T>
struct StepMeasureF {
    const T* x; const T* xp; const T* y;
    LUMEN_HD Sum3 operator()(index_t i) const {
        const T d = x[i] - xp[i];
        const double c = y ? re_conj_mul(y[i] - x[i], d) : 0.0;
        return Sum3(double(norm(d)), double(norm(x[i])), c);
    }
};

// Re conj(x) (a + b): CG's objective from its recursive residual.
template <class T>
struct ReDotSumF {
    const T* x; const T* a; const T* b;
    LUMEN_HD double operator()(index_t i) const { return re_conj_mul(x[i], a[i] + b[i]); }
};

// The accelerated-gradient step of one block (nesterov): xp = x, x = y - step g, reading every
// input before writing (y may alias x when there is no momentum). The Measure variant also
// returns StepMeasureF's three sums of the new x, for runs without projection hooks.
template <class T>
struct GradStepF {
    T* x; T* xp; const T* y; const T* g; T step;
    LUMEN_HD void operator()(index_t i) const {
        const T xo = x[i], yi = y[i];
        xp[i] = xo;
        x[i] = yi - step * g[i];
    }
};
template <class T>
struct GradStepMeasureF {
    T* x; T* xp; const T* y; const T* g; T step;
    LUMEN_HD Sum3 operator()(index_t i) const {
        const T xo = x[i], yi = y[i];
        const T xn = yi - step * g[i];
        xp[i] = xo;
        x[i] = xn;
        const T d = xn - xo;
        return Sum3(double(norm(d)), double(norm(xn)), re_conj_mul(yi - xn, d));
    }
};

// The discrepancy principle's misfit: {|a_i - b_i|^2 / var_i, 1} for measurements whose variance
// is a positive finite number, {0, 0} otherwise (no information); b may be null (a is then the
// residual itself). A NaN residual gives a NaN sum, which the monitor's guard reports.
template <class T>
struct NoiseMisfitF {
    const T* a; const T* b; const float* var;
    LUMEN_HD Sum3 operator()(index_t i) const {
        const float v = var[i];
        if (!(v > 0.0f) || !(v < 3.0e38f)) return Sum3(0.0);
        const T d = b ? a[i] - b[i] : a[i];
        return Sum3(double(norm(d)) / double(v), 1.0, 0.0);
    }
};

// |x|
template <class T>
struct AbsF {
    const T* x;
    LUMEN_HD double operator()(index_t i) const { return double(abs_value(x[i])); }
};

// |a - b|^2
template <class T>
struct DiffNormSqF {
    const T* a; const T* b;
    LUMEN_HD double operator()(index_t i) const { return double(norm(a[i] - b[i])); }
};

// out = a x + b y + c z (out may alias any input)
template <class T>
struct Comb3F {
    T a; const T* x; T b; const T* y; T c; const T* z; T* out;
    LUMEN_HD void operator()(index_t i) const { out[i] = a * x[i] + b * y[i] + c * z[i]; }
};

// x <- 1 / x where x > floor, else 0 (SIRT's row and column weights; rays or voxels the
// operator does not touch get no weight instead of an infinite one).
struct InvOrZeroF {
    float floor; float* x;
    LUMEN_HD void operator()(index_t i) const { x[i] = x[i] > floor ? 1.0f / x[i] : 0.0f; }
};

// Projection onto [lo, hi], keeping NaN (see the file comment).
LUMEN_HD inline float project_box_value(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

struct ProjectBoxF {
    float lo, hi; float* x;
    LUMEN_HD void operator()(index_t i) const { x[i] = project_box_value(x[i], lo, hi); }
};

// SIRT candidate: out = P(x + relax * c * g) written into out (which may alias g), returning
// {|out - x|^2, |out|^2, 0} for the relative-change measure.
struct SirtUpdateF {
    const float* x; const float* c; const float* g; float* out; float relax, lo, hi;
    LUMEN_HD Sum3 operator()(index_t i) const {
        const float v = project_box_value(x[i] + relax * c[i] * g[i], lo, hi);
        out[i] = v;
        const double d = double(v) - double(x[i]);
        return Sum3(d * d, double(v) * double(v), 0.0);
    }
};

// Soft thresholding, keeping NaN: real sign(v) max(|v| - tau, 0); complex magnitude shrinkage.
LUMEN_HD inline float soft_threshold_value(float v, float tau) {
    const float a = fabsf(v);
    if (a <= tau) return 0.0f;
    return v > 0.0f ? v - tau : v + tau;  // NaN takes the second branch and stays NaN
}
LUMEN_HD inline complex64 soft_threshold_value(complex64 v, float tau) {
    const float a = abs(v);
    if (a <= tau) return complex64(0.0f, 0.0f);
    return v * ((a - tau) / a);
}

template <class T>
struct SoftThresholdF {
    float tau; T* x;
    LUMEN_HD void operator()(index_t i) const { x[i] = soft_threshold_value(x[i], tau); }
};

}  // namespace lumen::kern
