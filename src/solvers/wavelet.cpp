// The orthogonal 2-D Daubechies-4 wavelet transform (lumen::wavelet2d); the per-element filter
// passes are in kernels/solvers/wavelet.hpp.
#include <mutex>
#include <string>

#include "kernels/solvers/wavelet.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "src/executor.hpp"

namespace lumen {

int wavelet2d_levels(const Shape& shape, int requested) {
    require(shape.rank() >= 2, "wavelet2d: arrays of shape " + shape.str() + " have fewer than 2 axes");
    require(requested >= 1, "wavelet2d: levels must be >= 1, got " + std::to_string(requested));
    const index_t H = shape[-2], W = shape[-1];
    require(H >= 2 && W >= 2 && H % 2 == 0 && W % 2 == 0,
            "wavelet2d: the last two axes of " + shape.str() + " must have even lengths >= 2");
    int levels = 0;
    index_t h = H, w = W;
    while (levels < requested && h % 2 == 0 && w % 2 == 0 && h >= 2 && w >= 2) {
        ++levels;
        h /= 2;
        w /= 2;
    }
    return levels;
}

namespace {

template <class T>
class Wavelet2dOp final : public LinearOperator<T> {
public:
    Wavelet2dOp(const Shape& shape, int levels, Device device)
        : shape_(shape), levels_(wavelet2d_levels(shape, levels)), device_(device) {}
    Shape domain_shape() const override { return shape_; }
    Shape range_shape() const override { return shape_; }
    Device device() const override { return device_; }
    void apply(View<const T> x, View<T> y) const override {
        check("apply", x, y);
        std::lock_guard<std::mutex> lock(mutex_);
        T* tmp = scratch();
        copy(x, y);
        for (int l = 0; l < levels_; ++l) {
            const kern::WaveletBlock blk = block(l);
            detail::for_each(device_, blk.count(), kern::WaveletPassF<T>{y.data(), tmp, blk, true, false});
            detail::for_each(device_, blk.count(), kern::WaveletPassF<T>{tmp, y.data(), blk, false, false});
        }
    }
    void apply_adjoint(View<const T> y, View<T> x) const override {
        check("apply_adjoint", y, x);
        std::lock_guard<std::mutex> lock(mutex_);
        T* tmp = scratch();
        copy(y, x);
        for (int l = levels_ - 1; l >= 0; --l) {
            const kern::WaveletBlock blk = block(l);
            detail::for_each(device_, blk.count(), kern::WaveletPassF<T>{x.data(), tmp, blk, false, true});
            detail::for_each(device_, blk.count(), kern::WaveletPassF<T>{tmp, x.data(), blk, true, true});
        }
    }
    void apply_normal(View<const T> x, View<T> out) const override { copy(x, out); }

private:
    kern::WaveletBlock block(int level) const {
        kern::WaveletBlock blk{};
        blk.H = shape_[-2];
        blk.W = shape_[-1];
        blk.h = blk.H >> level;
        blk.w = blk.W >> level;
        blk.batch = shape_.size() / (blk.H * blk.W);
        return blk;
    }
    void check(const char* what, View<const T> in, View<T> out) const {
        require(in.size() == shape_.size() && out.size() == shape_.size(),
                std::string("wavelet2d ") + what + ": got arrays of " + in.shape().str() + " and " +
                    out.shape().str() + ", expected " + shape_.str());
        require(in.device() == device_ && out.device() == device_,
                std::string("wavelet2d ") + what + ": arrays are not on the operator's device");
        require(in.data() != out.data(), std::string("wavelet2d ") + what + ": input and output must not alias");
    }
    T* scratch() const {
        if (tmp_.empty()) tmp_ = Array<T>(shape_, device_);
        return tmp_.data();
    }
    Shape shape_;
    int levels_;
    Device device_;
    mutable std::mutex mutex_;
    mutable Array<T> tmp_;
};

}  // namespace

template <class T>
LinOpPtr<T> wavelet2d(const Shape& shape, int levels, Device device) {
    return std::make_shared<Wavelet2dOp<T>>(shape, levels, device);
}

template LinOpPtr<float> wavelet2d<float>(const Shape&, int, Device);
template LinOpPtr<complex64> wavelet2d<complex64>(const Shape&, int, Device);

}  // namespace lumen
