// Included by all per-element math in kernels/: LUMEN_HD, index_t and kPi (from the public
// lumen/core/hd.hpp, so that the public complex type can use them), the complex type, and the
// reduction operators used by both executors.
#pragma once
#include "lumen/core/complex.hpp"
#include "lumen/core/hd.hpp"

namespace lumen::kern {

// Combining operators for reductions; identity() is the neutral element.
template <class R>
struct SumOp {
    LUMEN_HD R operator()(const R& a, const R& b) const { return a + b; }
    LUMEN_HD static R identity() { return R(0); }
};
struct MaxOp {
    LUMEN_HD double operator()(double a, double b) const { return a > b ? a : b; }
    LUMEN_HD static double identity() { return -1.0e308; }
};

}  // namespace lumen::kern
