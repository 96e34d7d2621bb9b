// Small dense Hermitian eigen-decomposition for ESPIRiT's calibration matrix (a few hundred rows):
// Householder reduction to a real symmetric tridiagonal matrix, then implicit symmetric QR steps
// with Wilkinson shifts. Self-contained (no LAPACK) and in double precision.
#pragma once

#include <vector>

#include "lumen/core/complex.hpp"
#include "lumen/core/hd.hpp"

namespace lumen::detail {

struct HermitianEigen {
    std::vector<double> values;      // descending
    std::vector<complex128> vectors; // column-major n x n: column j (vectors[j * n + i]) is the j-th eigenvector
};

// The Gram matrix G[c][d] = sum_p y_c(p) conj(y_d(p)) of `count` rows y_c of `length` samples each
// (row c at rows[c * length]), row-major count x count, both triangles, in double precision: the
// coil covariances of noise samples, ESPIRiT's calibration region and coil compression. One pass
// over the data, per-thread partial sums over static blocks of samples added in thread order, so
// the result does not depend on scheduling.
std::vector<complex128> gram_matrix(const complex64* rows, index_t count, index_t length);

// a: row-major n x n Hermitian matrix, both triangles filled: every entry is read and the
// matrix used is (a + a^H) / 2, so a triangle left at zero would halve the off-diagonal entries.
HermitianEigen hermitian_eigen(const std::vector<complex128>& a, int n);

}  // namespace lumen::detail
