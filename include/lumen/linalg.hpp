// Vector algebra on Views, on whichever device the views live (all arguments on one device).
// T is float or complex64. Reductions accumulate in double (acc_t<T>: double or complex128).
// Used by every solver, so solvers never touch raw memory or devices themselves.
#pragma once

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen {

template <class T> struct acc_of { using type = double; };
template <> struct acc_of<complex64> { using type = complex128; };
template <class T> using acc_t = typename acc_of<T>::type;

// sum_i conj(x_i) * y_i
template <class T> acc_t<T> dot(View<const T> x, View<const T> y);
// sum_i |x_i|^2 and its square root
template <class T> double norm2_squared(View<const T> x);
template <class T> double norm2(View<const T> x);
// max_i |x_i|
template <class T> double max_abs(View<const T> x);
// sum_i x_i
template <class T> acc_t<T> sum(View<const T> x);
// true when every element is finite
template <class T> bool all_finite(View<const T> x);

// y <- a x + y
template <class T> void axpy(T a, View<const T> x, View<T> y);
// y <- a x + b y
template <class T> void axpby(T a, View<const T> x, T b, View<T> y);
// out <- a x + b y (out may alias x or y)
template <class T> void lin_comb(T a, View<const T> x, T b, View<const T> y, View<T> out);
// x <- a x
template <class T> void scale(T a, View<T> x);
// x <- value
template <class T> void fill(View<T> x, T value);
// out <- x * y elementwise
template <class T> void mul(View<const T> x, View<const T> y, View<T> out);
// out <- conj(x) * y elementwise
template <class T> void conj_mul(View<const T> x, View<const T> y, View<T> out);
// x_i <- max(x_i, lo) and min(., hi): projection onto a box (real only)
void clamp(View<float> x, float lo, float hi);

// A fresh zero array shaped and placed like `like`.
template <class T> Array<T> zeros_like(View<const T> like) { return Array<T>(like.shape(), like.device()); }

// The same for the two element types lumen has, as plain overloads: an Array<T> or a View<T>
// converts here, so that `dot(x, y)` reads like the math (a template cannot deduce T from them).
#define LUMEN_LINALG_PLAIN_OVERLOADS(T, A)                                                                  \
    inline A dot(View<const T> x, View<const T> y) { return dot<T>(x, y); }                               \
    inline double norm2_squared(View<const T> x) { return norm2_squared<T>(x); }                          \
    inline double norm2(View<const T> x) { return norm2<T>(x); }                                          \
    inline double max_abs(View<const T> x) { return max_abs<T>(x); }                                      \
    inline A sum(View<const T> x) { return sum<T>(x); }                                                   \
    inline bool all_finite(View<const T> x) { return all_finite<T>(x); }                                  \
    inline void axpy(T a, View<const T> x, View<T> y) { axpy<T>(a, x, y); }                               \
    inline void axpby(T a, View<const T> x, T b, View<T> y) { axpby<T>(a, x, b, y); }                     \
    inline void lin_comb(T a, View<const T> x, T b, View<const T> y, View<T> out) { lin_comb<T>(a, x, b, y, out); } \
    inline void scale(T a, View<T> x) { scale<T>(a, x); }                                                 \
    inline void fill(View<T> x, T value) { fill<T>(x, value); }                                           \
    inline void mul(View<const T> x, View<const T> y, View<T> out) { mul<T>(x, y, out); }                 \
    inline void conj_mul(View<const T> x, View<const T> y, View<T> out) { conj_mul<T>(x, y, out); }       \
    inline Array<T> zeros_like(View<const T> like) { return zeros_like<T>(like); }
LUMEN_LINALG_PLAIN_OVERLOADS(float, double)
LUMEN_LINALG_PLAIN_OVERLOADS(complex64, complex128)
#undef LUMEN_LINALG_PLAIN_OVERLOADS

}  // namespace lumen
