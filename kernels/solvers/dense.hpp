// A dense matrix [m][n] (row-major) as an operator (lumen::dense_matrix): one output element per
// index in both directions (gather form), accumulated in double, so no atomics are needed.
#pragma once

#include "kernels/common/kernel.hpp"
#include "kernels/linalg/vector_ops.hpp"

namespace lumen::kern {

LUMEN_HD inline float narrow(double v) { return float(v); }
LUMEN_HD inline complex64 narrow(complex128 v) { return complex64(float(v.re), float(v.im)); }

// y_i = sum_j A_ij x_j
template <class T, class R>
struct DenseApplyF {
    const T* a; const T* x; T* y; index_t m, n;
    LUMEN_HD void operator()(index_t i) const {
        R acc(0.0);
        const T* row = a + i * n;
        for (index_t j = 0; j < n; ++j) acc += widen(row[j]) * widen(x[j]);
        y[i] = narrow(acc);
    }
};

// x_j = sum_i conj(A_ij) y_i
template <class T, class R>
struct DenseAdjointF {
    const T* a; const T* y; T* x; index_t m, n;
    LUMEN_HD void operator()(index_t j) const {
        R acc(0.0);
        for (index_t i = 0; i < m; ++i) acc += widen(conj(a[i * n + j])) * widen(y[i]);
        x[j] = narrow(acc);
    }
};

}  // namespace lumen::kern
