// Operator algebra (scaled, compose, sum, identity, adjoint), dense matrices, the dot-product test
// and power iteration. See include/lumen/linop.hpp.
#include "lumen/linop.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <random>
#include <string>

#include "kernels/solvers/dense.hpp"
#include "lumen/linalg.hpp"
#include "src/executor.hpp"

namespace lumen {

template <class T>
void LinearOperator<T>::apply_normal(View<const T> x, View<T> out) const {
    Array<T> tmp(range_shape(), device());
    apply(x, tmp.view());
    apply_adjoint(tmp.view(), out);
}

namespace {

std::string shape_mismatch(const char* what, const Shape& a, const Shape& b) {
    return std::string(what) + ": shapes do not match: " + a.str() + " vs " + b.str();
}

template <class T>
class ScaledOp final : public LinearOperator<T> {
public:
    ScaledOp(T a, LinOpPtr<T> op) : a_(a), op_(std::move(op)) {}
    Shape domain_shape() const override { return op_->domain_shape(); }
    Shape range_shape() const override { return op_->range_shape(); }
    Device device() const override { return op_->device(); }
    void apply(View<const T> x, View<T> y) const override {
        op_->apply(x, y);
        scale(a_, y);
    }
    void apply_adjoint(View<const T> y, View<T> x) const override {
        op_->apply_adjoint(y, x);
        scale(conj(a_), x);
    }
    void apply_normal(View<const T> x, View<T> out) const override {
        op_->apply_normal(x, out);
        scale(T(float(norm(a_))), out);
    }

private:
    T a_;
    LinOpPtr<T> op_;
};

// Intermediate buffers are kept between calls (operators are applied many times per solve); the
// mutex makes concurrent use of one operator object safe, if serial.
template <class T>
class ComposedOp final : public LinearOperator<T> {
public:
    ComposedOp(LinOpPtr<T> a, LinOpPtr<T> b) : a_(std::move(a)), b_(std::move(b)) {}
    Shape domain_shape() const override { return b_->domain_shape(); }
    Shape range_shape() const override { return a_->range_shape(); }
    Device device() const override { return a_->device(); }
    void apply(View<const T> x, View<T> y) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        View<T> t = scratch();
        b_->apply(x, t);
        a_->apply(t, y);
    }
    void apply_adjoint(View<const T> y, View<T> x) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        View<T> t = scratch();
        a_->apply_adjoint(y, t);
        b_->apply_adjoint(t, x);
    }

private:
    View<T> scratch() const {
        if (tmp_.empty()) tmp_ = Array<T>(b_->range_shape(), b_->device());
        return tmp_.view();
    }
    LinOpPtr<T> a_, b_;
    mutable std::mutex mutex_;
    mutable Array<T> tmp_;
};

template <class T>
class SumOfOps final : public LinearOperator<T> {
public:
    SumOfOps(LinOpPtr<T> a, LinOpPtr<T> b) : a_(std::move(a)), b_(std::move(b)) {}
    Shape domain_shape() const override { return a_->domain_shape(); }
    Shape range_shape() const override { return a_->range_shape(); }
    Device device() const override { return a_->device(); }
    void apply(View<const T> x, View<T> y) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        a_->apply(x, y);
        View<T> t = scratch(a_->range_shape());
        b_->apply(x, t);
        axpy(T(1.0f), t, y);
    }
    void apply_adjoint(View<const T> y, View<T> x) const override {
        std::lock_guard<std::mutex> lock(mutex_);
        a_->apply_adjoint(y, x);
        View<T> t = scratch(a_->domain_shape());
        b_->apply_adjoint(y, t);
        axpy(T(1.0f), t, x);
    }

private:
    View<T> scratch(const Shape& shape) const {
        Array<T>& buf = shape == a_->range_shape() ? range_tmp_ : domain_tmp_;
        if (buf.empty()) buf = Array<T>(shape, a_->device());
        return buf.view();
    }
    LinOpPtr<T> a_, b_;
    mutable std::mutex mutex_;
    mutable Array<T> range_tmp_, domain_tmp_;
};

template <class T>
class IdentityOp final : public LinearOperator<T> {
public:
    IdentityOp(Shape shape, Device device) : shape_(shape), device_(device) {}
    Shape domain_shape() const override { return shape_; }
    Shape range_shape() const override { return shape_; }
    Device device() const override { return device_; }
    void apply(View<const T> x, View<T> y) const override { copy(x, y); }
    void apply_adjoint(View<const T> y, View<T> x) const override { copy(y, x); }
    void apply_normal(View<const T> x, View<T> out) const override { copy(x, out); }

private:
    Shape shape_;
    Device device_;
};

template <class T>
class AdjointOp final : public LinearOperator<T> {
public:
    explicit AdjointOp(LinOpPtr<T> op) : op_(std::move(op)) {}
    Shape domain_shape() const override { return op_->range_shape(); }
    Shape range_shape() const override { return op_->domain_shape(); }
    Device device() const override { return op_->device(); }
    void apply(View<const T> x, View<T> y) const override { op_->apply_adjoint(x, y); }
    void apply_adjoint(View<const T> y, View<T> x) const override { op_->apply(y, x); }

private:
    LinOpPtr<T> op_;
};

template <class T>
class DenseOp final : public LinearOperator<T> {
public:
    DenseOp(Array<T> matrix, Device device)
        : a_(matrix.device() == device ? std::move(matrix) : matrix.to(device)),
          m_(a_.dim(0)),
          n_(a_.dim(1)),
          device_(device) {}
    Shape domain_shape() const override { return Shape{n_}; }
    Shape range_shape() const override { return Shape{m_}; }
    Device device() const override { return device_; }
    void apply(View<const T> x, View<T> y) const override {
        check("apply", x.size(), n_, y.size(), m_);
        detail::for_each(device_, m_, kern::DenseApplyF<T, acc_t<T>>{a_.data(), x.data(), y.data(), m_, n_});
    }
    void apply_adjoint(View<const T> y, View<T> x) const override {
        check("apply_adjoint", y.size(), m_, x.size(), n_);
        detail::for_each(device_, n_, kern::DenseAdjointF<T, acc_t<T>>{a_.data(), y.data(), x.data(), m_, n_});
    }

private:
    static void check(const char* what, index_t in, index_t in_expected, index_t out, index_t out_expected) {
        require(in == in_expected && out == out_expected,
                std::string("dense_matrix ") + what + ": input has " + std::to_string(in) + " elements and output " +
                    std::to_string(out) + ", expected " + std::to_string(in_expected) + " and " +
                    std::to_string(out_expected));
    }
    Array<T> a_;
    index_t m_, n_;
    Device device_;
};

template <class T>
Array<T> random_on(const Shape& shape, Device device, std::mt19937_64& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    Array<T> host(shape);
    for (T& v : host) {
        if constexpr (is_complex_v<T>) {
            const float re = u(rng);
            v = T(re, u(rng));
        } else {
            v = u(rng);
        }
    }
    return device == Device::cpu ? std::move(host) : host.to(device);
}

double magnitude(double v) { return std::fabs(v); }
double magnitude(complex128 v) { return std::sqrt(v.re * v.re + v.im * v.im); }

}  // namespace

template <class T>
LinOpPtr<T> scaled(T a, LinOpPtr<T> op) {
    require(op != nullptr, "scaled: null operator");
    return std::make_shared<ScaledOp<T>>(a, std::move(op));
}

template <class T>
LinOpPtr<T> compose(LinOpPtr<T> a, LinOpPtr<T> b) {
    require(a != nullptr && b != nullptr, "compose: null operator");
    require(a->domain_shape().size() == b->range_shape().size(),
            shape_mismatch("compose(A, B): A's domain and B's range", a->domain_shape(), b->range_shape()));
    require(a->device() == b->device(), "compose(A, B): the operators live on different devices");
    return std::make_shared<ComposedOp<T>>(std::move(a), std::move(b));
}

template <class T>
LinOpPtr<T> sum(LinOpPtr<T> a, LinOpPtr<T> b) {
    require(a != nullptr && b != nullptr, "sum: null operator");
    require(a->domain_shape().size() == b->domain_shape().size(),
            shape_mismatch("sum(A, B): domains", a->domain_shape(), b->domain_shape()));
    require(a->range_shape().size() == b->range_shape().size(),
            shape_mismatch("sum(A, B): ranges", a->range_shape(), b->range_shape()));
    require(a->device() == b->device(), "sum(A, B): the operators live on different devices");
    return std::make_shared<SumOfOps<T>>(std::move(a), std::move(b));
}

template <class T>
LinOpPtr<T> identity(const Shape& shape, Device device) {
    return std::make_shared<IdentityOp<T>>(shape, device);
}

template <class T>
LinOpPtr<T> adjoint(LinOpPtr<T> op) {
    require(op != nullptr, "adjoint: null operator");
    return std::make_shared<AdjointOp<T>>(std::move(op));
}

template <class T>
LinOpPtr<T> dense_matrix(Array<T> matrix, Device device) {
    require(matrix.rank() == 2 && matrix.size() > 0,
            "dense_matrix: expected a non-empty [m][n] matrix, got shape " + matrix.shape().str());
    return std::make_shared<DenseOp<T>>(std::move(matrix), device);
}

template <class T>
double adjoint_test(const LinearOperator<T>& op, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const Device dev = op.device();
    Array<T> x = random_on<T>(op.domain_shape(), dev, rng);
    Array<T> y = random_on<T>(op.range_shape(), dev, rng);
    Array<T> ax(op.range_shape(), dev), ahy(op.domain_shape(), dev);
    op.apply(x.view(), ax.view());
    op.apply_adjoint(y.view(), ahy.view());
    const acc_t<T> lhs = dot<T>(ax, y);    // <A x, y>
    const acc_t<T> rhs = dot<T>(x, ahy);   // <x, A^H y>
    const double scale_ = std::max({magnitude(lhs), magnitude(rhs), std::numeric_limits<double>::min()});
    return magnitude(lhs - rhs) / scale_;
}

template <class T>
double operator_norm(const LinearOperator<T>& op, int iterations, std::uint64_t seed) {
    require(iterations >= 1, "operator_norm: iterations must be at least 1, got " + std::to_string(iterations));
    std::mt19937_64 rng(seed);
    const Device dev = op.device();
    Array<T> x = random_on<T>(op.domain_shape(), dev, rng);
    Array<T> z(op.domain_shape(), dev);
    double nx = norm2<T>(x);
    if (nx == 0.0) return 0.0;
    scale(T(float(1.0 / nx)), x.view());
    double sigma2 = 0.0;
    for (int k = 0; k < iterations; ++k) {
        op.apply_normal(x.view(), z.view());
        // ||A^H A x|| for unit x: a lower bound of sigma_max^2 that tightens every iteration.
        const double nz = norm2<T>(z);
        require(std::isfinite(nz), "operator_norm: the operator produced non-finite values");
        if (nz == 0.0) return 0.0;
        sigma2 = nz;
        std::swap(x, z);
        scale(T(float(1.0 / nz)), x.view());
    }
    return std::sqrt(sigma2);
}

#define LUMEN_LINOP_INSTANTIATE(T)                                             \
    template class LinearOperator<T>;                                          \
    template LinOpPtr<T> scaled<T>(T, LinOpPtr<T>);                            \
    template LinOpPtr<T> compose<T>(LinOpPtr<T>, LinOpPtr<T>);                 \
    template LinOpPtr<T> sum<T>(LinOpPtr<T>, LinOpPtr<T>);                     \
    template LinOpPtr<T> identity<T>(const Shape&, Device);                    \
    template LinOpPtr<T> adjoint<T>(LinOpPtr<T>);                              \
    template LinOpPtr<T> dense_matrix<T>(Array<T>, Device);                    \
    template double adjoint_test<T>(const LinearOperator<T>&, std::uint64_t);  \
    template double operator_norm<T>(const LinearOperator<T>&, int, std::uint64_t);
LUMEN_LINOP_INSTANTIATE(float)
LUMEN_LINOP_INSTANTIATE(complex64)

}  // namespace lumen
