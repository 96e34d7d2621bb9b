// Linear operators: the interface every modality's forward model implements and every solver uses.
//
// A LinearOperator<T> (T = float or complex64) maps arrays of domain_shape() to arrays of
// range_shape(), on one device. apply() computes y = A x, apply_adjoint() x = A^H y;
// apply_normal() computes A^H A x (override it when a faster form exists, e.g. Toeplitz or
// fused SENSE). Outputs are overwritten, never accumulated into.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen {

template <class T>
class LinearOperator {
public:
    virtual ~LinearOperator() = default;
    virtual Shape domain_shape() const = 0;
    virtual Shape range_shape() const = 0;
    virtual Device device() const = 0;
    virtual void apply(View<const T> x, View<T> y) const = 0;
    virtual void apply_adjoint(View<const T> y, View<T> x) const = 0;
    // Default: apply, then apply_adjoint, through a temporary of range_shape() allocated per call
    // (override it where a fused or cheaper form exists).
    virtual void apply_normal(View<const T> x, View<T> out) const;
};

template <class T>
using LinOpPtr = std::shared_ptr<const LinearOperator<T>>;

// a * A
template <class T> LinOpPtr<T> scaled(T a, LinOpPtr<T> op);
// A B (B applied first); requires A.domain == B.range
template <class T> LinOpPtr<T> compose(LinOpPtr<T> a, LinOpPtr<T> b);
// A + B (same domain and range)
template <class T> LinOpPtr<T> sum(LinOpPtr<T> a, LinOpPtr<T> b);
template <class T> LinOpPtr<T> identity(const Shape& shape, Device device);
// A^H as an operator (domain and range swapped).
template <class T> LinOpPtr<T> adjoint(LinOpPtr<T> op);

// A dense matrix [m][n] (row-major) as an operator from (n) to (m); for tests and small problems.
template <class T> LinOpPtr<T> dense_matrix(Array<T> matrix, Device device = Device::cpu);

// The dot-product (adjoint) test: draws random x and y (uniform in [-1, 1), real and imaginary
// parts; seeded) on the operator's device and returns
// |<A x, y> - <x, A^H y>| / max(|<A x, y>|, |<x, A^H y>|, tiny), the dot products accumulated in
// double. A float operator that is exactly adjoint gives ~1e-6; a wrong adjoint gives ~1.
template <class T> double adjoint_test(const LinearOperator<T>& op, std::uint64_t seed = 1);

// Largest singular value of A by power iteration on A^H A (used for step sizes: 1 / ||A||^2).
// Power iteration approaches sigma_max from below: callers that need a safe step add a margin
// (fista uses 1 / (1.02 ||A||^2)). Returns 0 for the zero operator.
template <class T> double operator_norm(const LinearOperator<T>& op, int iterations = 30, std::uint64_t seed = 7);

}  // namespace lumen
