// Small helpers shared by the solver implementations in src/solvers/.
#pragma once

#include <string>

#include "kernels/solvers/solver_ops.hpp"
#include "lumen/linalg.hpp"
#include "lumen/linop.hpp"
#include "src/executor.hpp"

namespace lumen::detail {

// A double as the element type's scalar (complex scalars have a zero imaginary part).
template <class T>
T scalar(double v) {
    return T(float(v));
}

// Validates that `v` has as many elements as `shape` and lives on `device`.
template <class V>
void require_array(const std::string& solver, const char* what, const V& v, const Shape& shape, Device device) {
    require(v.size() == shape.size(), solver + ": " + what + " has shape " + v.shape().str() + " (" +
                                          std::to_string(v.size()) + " elements), expected " + shape.str());
    require(v.device() == device, solver + ": " + what + " is on the " + device_name(v.device()) +
                                      " but the operator is on the " + device_name(device));
}

// {|x - xp|^2, |x|^2, Re <y - x, x - xp>} in one pass (y may be empty).
template <class T>
kern::Sum3 step_measure(View<const T> x, View<const T> xp, View<const T> y) {
    return reduce<kern::Sum3>(x.device(), x.size(),
                              kern::StepMeasureF<T>{x.data(), xp.data(), y.empty() ? nullptr : y.data()});
}

// out = a x + b y + c z
template <class T>
void comb3(T a, View<const T> x, T b, View<const T> y, T c, View<const T> z, View<T> out) {
    for_each(out.device(), out.size(), kern::Comb3F<T>{a, x.data(), b, y.data(), c, z.data(), out.data()});
}

// ||a - b||^2
template <class T>
double diff_norm_sq(View<const T> a, View<const T> b) {
    return reduce<double>(a.device(), a.size(), kern::DiffNormSqF<T>{a.data(), b.data()});
}

// sqrt(num / den), 0 when both vanish (a zero estimate that did not move has converged).
inline double relative(double num_sq, double den_sq) {
    if (num_sq == 0.0) return 0.0;
    return den_sq > 0.0 ? std::sqrt(num_sq / den_sq) : std::sqrt(num_sq);
}

}  // namespace lumen::detail
