// lumen's complex type: a plain struct of two reals, usable in host and device code.
// Complex<float> (complex64) has the same size, alignment-compatible layout and member order as
// std::complex<float>, fftwf_complex and cufftComplex, so buffers are reinterpreted between them
// without copies. Complex<double> (complex128) is used for accumulations.
#pragma once

#include <math.h>

#include <cmath>
#include <complex>

#include "lumen/core/hd.hpp"

namespace lumen {

// Precision-preserving math that works in host and device code alike (the global float variants
// exist in both; std:: overloads are host-only).
namespace math {
LUMEN_HD inline float sqrt(float x) { return ::sqrtf(x); }
LUMEN_HD inline double sqrt(double x) { return ::sqrt(x); }
LUMEN_HD inline float atan2(float y, float x) { return ::atan2f(y, x); }
LUMEN_HD inline double atan2(double y, double x) { return ::atan2(y, x); }
LUMEN_HD inline float cos(float x) { return ::cosf(x); }
LUMEN_HD inline double cos(double x) { return ::cos(x); }
LUMEN_HD inline float sin(float x) { return ::sinf(x); }
LUMEN_HD inline double sin(double x) { return ::sin(x); }
LUMEN_HD inline float exp(float x) { return ::expf(x); }
LUMEN_HD inline double exp(double x) { return ::exp(x); }
LUMEN_HD inline float log(float x) { return ::logf(x); }
LUMEN_HD inline double log(double x) { return ::log(x); }
LUMEN_HD inline float fabs(float x) { return ::fabsf(x); }
LUMEN_HD inline double fabs(double x) { return ::fabs(x); }
// True for finite values (x - x is NaN for both infinities and NaN).
LUMEN_HD inline bool finite(float x) { return (x - x) == 0.0f; }
LUMEN_HD inline bool finite(double x) { return (x - x) == 0.0; }
}  // namespace math

template <class T>
struct alignas(2 * sizeof(T)) Complex {
    T re;
    T im;

    LUMEN_HD constexpr Complex() : re(0), im(0) {}
    LUMEN_HD constexpr Complex(T r) : re(r), im(0) {}  // NOLINT: implicit real -> complex is intended
    LUMEN_HD constexpr Complex(T r, T i) : re(r), im(i) {}
    template <class U>
    LUMEN_HD explicit constexpr Complex(const Complex<U>& o) : re(T(o.re)), im(T(o.im)) {}
    Complex(const std::complex<T>& c) : re(c.real()), im(c.imag()) {}  // NOLINT
    operator std::complex<T>() const { return {re, im}; }            // NOLINT

    LUMEN_HD Complex& operator+=(const Complex& o) { re += o.re; im += o.im; return *this; }
    LUMEN_HD Complex& operator-=(const Complex& o) { re -= o.re; im -= o.im; return *this; }
    LUMEN_HD Complex& operator*=(const Complex& o) {
        const T r = re * o.re - im * o.im;
        im = re * o.im + im * o.re;
        re = r;
        return *this;
    }
    LUMEN_HD Complex& operator*=(T s) { re *= s; im *= s; return *this; }
};

using complex64 = Complex<float>;
using complex128 = Complex<double>;
static_assert(sizeof(complex64) == sizeof(std::complex<float>), "complex64 must match std::complex<float>");
static_assert(alignof(complex64) == 8, "complex64 must be 8-byte aligned like cufftComplex");

template <class T> LUMEN_HD inline Complex<T> operator+(Complex<T> a, const Complex<T>& b) { return a += b; }
template <class T> LUMEN_HD inline Complex<T> operator-(Complex<T> a, const Complex<T>& b) { return a -= b; }
template <class T> LUMEN_HD inline Complex<T> operator*(Complex<T> a, const Complex<T>& b) { return a *= b; }
template <class T> LUMEN_HD inline Complex<T> operator*(Complex<T> a, T s) { return a *= s; }
template <class T> LUMEN_HD inline Complex<T> operator*(T s, Complex<T> a) { return a *= s; }
template <class T> LUMEN_HD inline Complex<T> operator-(const Complex<T>& a) { return {-a.re, -a.im}; }
template <class T> LUMEN_HD inline Complex<T> operator/(const Complex<T>& a, T s) { return {a.re / s, a.im / s}; }
template <class T> LUMEN_HD inline Complex<T> operator/(const Complex<T>& a, const Complex<T>& b) {
    const T d = b.re * b.re + b.im * b.im;
    return {(a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d};
}
template <class T> LUMEN_HD inline bool operator==(const Complex<T>& a, const Complex<T>& b) {
    return a.re == b.re && a.im == b.im;
}
template <class T> LUMEN_HD inline bool operator!=(const Complex<T>& a, const Complex<T>& b) { return !(a == b); }

template <class T> LUMEN_HD inline Complex<T> conj(const Complex<T>& a) { return {a.re, -a.im}; }
template <class T> LUMEN_HD inline T norm(const Complex<T>& a) { return a.re * a.re + a.im * a.im; }  // |a|^2
template <class T> LUMEN_HD inline T abs(const Complex<T>& a) { return math::sqrt(a.re * a.re + a.im * a.im); }
template <class T> LUMEN_HD inline T arg(const Complex<T>& a) { return math::atan2(a.im, a.re); }
template <class T> LUMEN_HD inline T real(const Complex<T>& a) { return a.re; }
template <class T> LUMEN_HD inline T imag(const Complex<T>& a) { return a.im; }
template <class T> LUMEN_HD inline Complex<T> polar(T r, T theta) { return {r * math::cos(theta), r * math::sin(theta)}; }

// Real-number overloads so that templated math (T = float or complex64) reads the same.
LUMEN_HD inline float conj(float a) { return a; }
LUMEN_HD inline double conj(double a) { return a; }
LUMEN_HD inline float norm(float a) { return a * a; }
LUMEN_HD inline double norm(double a) { return a * a; }
LUMEN_HD inline float real(float a) { return a; }
LUMEN_HD inline double real(double a) { return a; }
LUMEN_HD inline float imag(float) { return 0.0f; }
LUMEN_HD inline double imag(double) { return 0.0; }

template <class T> struct is_complex { static constexpr bool value = false; };
template <class T> struct is_complex<Complex<T>> { static constexpr bool value = true; };
template <class T> inline constexpr bool is_complex_v = is_complex<T>::value;

// The real type underlying T (float for complex64).
template <class T> struct real_of { using type = T; };
template <class T> struct real_of<Complex<T>> { using type = T; };
template <class T> using real_t = typename real_of<T>::type;

}  // namespace lumen
