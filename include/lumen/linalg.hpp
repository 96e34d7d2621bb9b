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
inline double dot(View<const float> x, View<const float> y) { return dot<float>(x, y); }
inline double norm2_squared(View<const float> x) { return norm2_squared<float>(x); }
inline double norm2(View<const float> x) { return norm2<float>(x); }
inline double max_abs(View<const float> x) { return max_abs<float>(x); }
inline double sum(View<const float> x) { return sum<float>(x); }
inline bool all_finite(View<const float> x) { return all_finite<float>(x); }
inline void axpy(float a, View<const float> x, View<float> y) { axpy<float>(a, x, y); }
inline void axpby(float a, View<const float> x, float b, View<float> y) { axpby<float>(a, x, b, y); }
inline void lin_comb(float a, View<const float> x, float b, View<const float> y, View<float> out) { lin_comb<float>(a, x, b, y, out); }
inline void scale(float a, View<float> x) { scale<float>(a, x); }
inline void fill(View<float> x, float value) { fill<float>(x, value); }
inline void mul(View<const float> x, View<const float> y, View<float> out) { mul<float>(x, y, out); }
inline void conj_mul(View<const float> x, View<const float> y, View<float> out) { conj_mul<float>(x, y, out); }
inline Array<float> zeros_like(View<const float> like) { return zeros_like<float>(like); }
inline complex128 dot(View<const complex64> x, View<const complex64> y) { return dot<complex64>(x, y); }
inline double norm2_squared(View<const complex64> x) { return norm2_squared<complex64>(x); }
inline double norm2(View<const complex64> x) { return norm2<complex64>(x); }
inline double max_abs(View<const complex64> x) { return max_abs<complex64>(x); }
inline complex128 sum(View<const complex64> x) { return sum<complex64>(x); }
inline bool all_finite(View<const complex64> x) { return all_finite<complex64>(x); }
inline void axpy(complex64 a, View<const complex64> x, View<complex64> y) { axpy<complex64>(a, x, y); }
inline void axpby(complex64 a, View<const complex64> x, complex64 b, View<complex64> y) { axpby<complex64>(a, x, b, y); }
inline void lin_comb(complex64 a, View<const complex64> x, complex64 b, View<const complex64> y, View<complex64> out) { lin_comb<complex64>(a, x, b, y, out); }
inline void scale(complex64 a, View<complex64> x) { scale<complex64>(a, x); }
inline void fill(View<complex64> x, complex64 value) { fill<complex64>(x, value); }
inline void mul(View<const complex64> x, View<const complex64> y, View<complex64> out) { mul<complex64>(x, y, out); }
inline void conj_mul(View<const complex64> x, View<const complex64> y, View<complex64> out) { conj_mul<complex64>(x, y, out); }
inline Array<complex64> zeros_like(View<const complex64> like) { return zeros_like<complex64>(like); }

}  // namespace lumen
