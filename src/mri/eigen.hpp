// Small dense Hermitian eigen-decomposition for ESPIRiT's calibration matrix (a few hundred rows):
// Householder reduction to a real symmetric tridiagonal matrix, then implicit symmetric QR steps
// with Wilkinson shifts. Self-contained (no LAPACK) and in double precision.
#pragma once

#include <vector>

#include "lumen/core/complex.hpp"

namespace lumen::detail {

struct HermitianEigen {
    std::vector<double> values;      // descending
    std::vector<complex128> vectors; // column-major n x n: column j (vectors[j * n + i]) is the j-th eigenvector
};

// a: row-major n x n Hermitian matrix, both triangles filled: every entry is read and the
// matrix used is (a + a^H) / 2, so a triangle left at zero would halve the off-diagonal entries.
HermitianEigen hermitian_eigen(const std::vector<complex128>& a, int n);

}  // namespace lumen::detail
