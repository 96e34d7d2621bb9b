// Finite-difference gradient, total variation, soft thresholding and projections. See
// include/lumen/solvers/regularizers.hpp; the per-element math is in kernels/solvers/.
#include "lumen/solvers/regularizers.hpp"

#include <cmath>
#include <string>

#include "kernels/solvers/finite_diff.hpp"
#include "kernels/solvers/solver_ops.hpp"
#include "src/executor.hpp"
#include "src/solvers/regularizers_internal.hpp"

namespace lumen {

namespace detail {

kern::GradAxes grad_axes(const Shape& shape, int dims, const char* who) {
    require(dims == 2 || dims == 3,
            std::string(who) + ": dims must be 2 or 3, got " + std::to_string(dims));
    require(shape.rank() >= dims, std::string(who) + ": an array of shape " + shape.str() +
                                      " has fewer than " + std::to_string(dims) + " axes");
    kern::GradAxes ax{};
    ax.dims = dims;
    ax.n = shape.size();
    index_t stride = 1;
    for (int a = shape.rank() - 1; a >= shape.rank() - dims; --a) {
        const int d = a - (shape.rank() - dims);
        ax.stride[d] = stride;
        ax.length[d] = shape[a];
        stride *= shape[a];
    }
    for (int d = dims; d < 3; ++d) {
        ax.stride[d] = 1;
        ax.length[d] = 1;
    }
    return ax;
}

Shape gradient_shape(const Shape& shape, int dims) {
    require(shape.rank() + 1 <= Shape::max_rank,
            "finite_difference: arrays of shape " + shape.str() + " have too many axes for a gradient");
    std::vector<index_t> d{index_t(dims)};
    for (index_t v : shape.dims()) d.push_back(v);
    return Shape(d);
}

}  // namespace detail

namespace {

template <class T>
class FiniteDifferenceOp final : public LinearOperator<T> {
public:
    FiniteDifferenceOp(const Shape& shape, int dims, Device device)
        : shape_(shape), range_(detail::gradient_shape(shape, dims)), device_(device),
          ax_(detail::grad_axes(shape, dims, "finite_difference")) {}
    Shape domain_shape() const override { return shape_; }
    Shape range_shape() const override { return range_; }
    Device device() const override { return device_; }
    void apply(View<const T> x, View<T> g) const override {
        check("apply", x, shape_, g, range_);
        detail::for_each(device_, ax_.n, kern::GradF<T>{x.data(), g.data(), ax_});
    }
    void apply_adjoint(View<const T> g, View<T> x) const override {
        check("apply_adjoint", g, range_, x, shape_);
        detail::for_each(device_, ax_.n, kern::GradAdjointF<T>{g.data(), x.data(), ax_});
    }

private:
    void check(const char* what, View<const T> in, const Shape& in_shape, View<T> out, const Shape& out_shape) const {
        require(in.size() == in_shape.size() && out.size() == out_shape.size(),
                std::string("finite_difference ") + what + ": got arrays of " + in.shape().str() + " and " +
                    out.shape().str() + ", expected " + in_shape.str() + " and " + out_shape.str());
        require(in.device() == device_ && out.device() == device_,
                std::string("finite_difference ") + what + ": arrays are not on the operator's device");
    }
    Shape shape_, range_;
    Device device_;
    kern::GradAxes ax_;
};

}  // namespace

template <class T>
LinOpPtr<T> finite_difference(const Shape& shape, int dims, Device device) {
    return std::make_shared<FiniteDifferenceOp<T>>(shape, dims, device);
}

template <class T>
double total_variation(View<const T> x, int dims, bool isotropic) {
    const kern::GradAxes ax = detail::grad_axes(x.shape(), dims, "total_variation");
    return detail::reduce<double>(x.device(), x.size(), kern::TvValueF<T>{x.data(), ax, isotropic});
}

template <class T>
double l1_norm(View<const T> x) {
    return detail::reduce<double>(x.device(), x.size(), kern::AbsF<T>{x.data()});
}

template <class T>
void soft_threshold(View<T> x, double tau) {
    require(std::isfinite(tau) && tau >= 0.0,
            "soft_threshold: the threshold must be a finite number >= 0, got " + std::to_string(tau));
    detail::for_each(x.device(), x.size(), kern::SoftThresholdF<T>{float(tau), x.data()});
}

void project_nonnegative(View<float> x) {
    detail::for_each(x.device(), x.size(), kern::ProjectBoxF{0.0f, INFINITY, x.data()});
}

void project_box(View<float> x, float lo, float hi) {
    require(!(lo > hi), "project_box: lower bound " + std::to_string(lo) + " exceeds upper bound " + std::to_string(hi));
    detail::for_each(x.device(), x.size(), kern::ProjectBoxF{lo, hi, x.data()});
}

#define LUMEN_REG_INSTANTIATE(T)                                                 \
    template LinOpPtr<T> finite_difference<T>(const Shape&, int, Device);        \
    template double total_variation<T>(View<const T>, int, bool);                \
    template void soft_threshold<T>(View<T>, double);                            \
    template double l1_norm<T>(View<const T>);
LUMEN_REG_INSTANTIATE(float)
LUMEN_REG_INSTANTIATE(complex64)

}  // namespace lumen
