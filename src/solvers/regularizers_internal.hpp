// Internal pieces of the finite-difference gradient shared by regularizers.cpp and admm_tv.cpp.
#pragma once

#include "kernels/solvers/finite_diff.hpp"
#include "lumen/core/array.hpp"

namespace lumen::detail {

// The differentiated axes of arrays of `shape` (the last `dims`); `who` names the caller in errors.
kern::GradAxes grad_axes(const Shape& shape, int dims, const char* who);
// [dims][shape...]
Shape gradient_shape(const Shape& shape, int dims);

}  // namespace lumen::detail
