// SENSE operator and coil-image utilities; the per-element math is in kernels/mri/sense_ops.hpp.
#include "lumen/mri/sense.hpp"

#include <mutex>
#include <string>

#include "kernels/mri/sense_ops.hpp"
#include "src/executor.hpp"

namespace lumen::mri {

namespace {

Shape image_shape_of(const Shape& maps) {
    require(maps.rank() == 3 || maps.rank() == 4,
            "SENSE operator: coil maps must be [coils][H][W] or [coils][D][H][W], got shape " + maps.str());
    return maps.drop_front();
}

void check_shape(const char* what, const Shape& got, const Shape& expected) {
    require(got == expected, std::string("SENSE operator: ") + what + " has shape " + got.str() + ", expected " +
                                 expected.str());
}

}  // namespace

SenseOperator::SenseOperator(View<const complex64> maps, View<const float> mask, Device device)
    : image_shape_(image_shape_of(maps.shape())),
      device_(device),
      maps_(Array<complex64>::copy_of(maps, device)),
      mask_(Array<float>::copy_of(mask, device)),
      plan_(FftPlan::for_shape(maps.shape(), image_shape_.rank(), device)),
      scratch_(maps.shape(), device) {
    require(maps.dim(0) >= 1, "SENSE operator: at least one coil is needed");
    check_shape("the mask", mask.shape(), image_shape_);
}

void SenseOperator::set_maps(View<const complex64> maps) {
    check_shape("the new coil maps", maps.shape(), maps_.shape());
    maps_.assign(maps);
}

void SenseOperator::set_mask(View<const float> mask) {
    check_shape("the new mask", mask.shape(), image_shape_);
    mask_.assign(mask);
}

namespace {
// The operator's scratch buffer when no other thread is using it, else a buffer of this call's
// own: concurrent applies of one operator never wait for each other, and a single thread never
// allocates. (A GPU buffer of its own is freed by cudaFree, which waits for the kernels using it.)
class ScratchLease {
public:
    ScratchLease(std::mutex& busy, Array<complex64>& shared) : lock_(busy, std::try_to_lock) {
        if (lock_.owns_lock()) {
            buffer_ = &shared;
        } else {
            own_ = Array<complex64>(shared.shape(), shared.device());
            buffer_ = &own_;
        }
    }
    View<complex64> view() { return buffer_->view(); }
    complex64* data() { return buffer_->data(); }

private:
    std::unique_lock<std::mutex> lock_;
    Array<complex64> own_;
    Array<complex64>* buffer_ = nullptr;
};

// Even sizes: centred FFT = s D F D (kernels/mri/sense_ops.hpp), so the plain FFT is used with the
// modulation folded into the element-wise passes. Odd sizes: the centred FFT of the plan.
struct Centring {
    kern::Checker checker;
    float sign = 1.0f;  // s = (-1)^(sum n_axis / 2)
};
Centring centring_for(const Shape& image) {
    Centring c;
    bool even = true;
    index_t half_sum = 0;
    for (int a = 0; a < image.rank(); ++a) {
        even = even && image[a] % 2 == 0;
        half_sum += image[a] / 2;
    }
    if (!even) return c;
    c.checker.on = 1;
    c.checker.w = image[-1];
    c.checker.h = image[-2];
    c.sign = (half_sum % 2) ? -1.0f : 1.0f;
    return c;
}
}  // namespace

// Even sizes fold the FFTs' unitary scale into the mask pass next to them (FftPlan::
// execute_unscaled), so no transform makes a pass of its own just to scale: in the normal operator
// 4 of 18 passes over the coil stack. Odd sizes keep the plan's centred transforms.
void SenseOperator::apply(View<const complex64> x, View<complex64> y) const {
    check_shape("the image", x.shape(), image_shape_);
    check_shape("the k-space", y.shape(), maps_.shape());
    detail::common_device("SENSE operator", x, y, maps_.view());
    const index_t n = image_shape_.size(), total = maps_.size();
    const Centring c = centring_for(image_shape_);
    detail::for_each(device_, total, kern::CoilExpandF{maps_.data(), x.data(), y.data(), n, c.checker});
    float scale = c.sign;
    if (c.checker.on) {
        plan_.execute_unscaled(y, FftDirection::forward);
        scale *= plan_.unitary_scale();
    } else {
        plan_.forward_centered(y);
    }
    detail::for_each(device_, total, kern::MaskF{mask_.data(), y.data(), y.data(), n, c.checker, scale});
}

void SenseOperator::apply_adjoint(View<const complex64> y, View<complex64> x) const {
    check_shape("the k-space", y.shape(), maps_.shape());
    check_shape("the image", x.shape(), image_shape_);
    detail::common_device("SENSE operator", x, y, maps_.view());
    const index_t n = image_shape_.size(), total = maps_.size();
    const Centring c = centring_for(image_shape_);
    ScratchLease scratch(*scratch_busy_, scratch_);
    const float scale = c.checker.on ? c.sign * plan_.unitary_scale() : c.sign;
    detail::for_each(device_, total, kern::MaskF{mask_.data(), y.data(), scratch.data(), n, c.checker, scale});
    if (c.checker.on) plan_.execute_unscaled(scratch.view(), FftDirection::inverse);
    else plan_.inverse_centered(scratch.view());
    detail::for_each(device_, n, kern::CoilCombineF{maps_.data(), scratch.data(), x.data(), n, coils(), c.checker});
}

void SenseOperator::apply_normal(View<const complex64> x, View<complex64> out) const {
    check_shape("the image", x.shape(), image_shape_);
    check_shape("the output image", out.shape(), image_shape_);
    detail::common_device("SENSE operator", x, out, maps_.view());
    const index_t n = image_shape_.size(), total = maps_.size();
    // D M D = M: the modulation between the two FFTs cancels.
    const Centring c = centring_for(image_shape_);
    ScratchLease scratch(*scratch_busy_, scratch_);
    detail::for_each(device_, total, kern::CoilExpandF{maps_.data(), x.data(), scratch.data(), n, c.checker});
    if (c.checker.on) plan_.execute_unscaled(scratch.view(), FftDirection::forward);
    else plan_.forward_centered(scratch.view());
    // Both transforms' 1/sqrt(N) in the one pass between them.
    const float s = plan_.unitary_scale();
    detail::for_each(device_, total,
                     kern::MaskF{mask_.data(), scratch.data(), scratch.data(), n, kern::Checker{}, c.checker.on ? s * s : 1.0f});
    if (c.checker.on) plan_.execute_unscaled(scratch.view(), FftDirection::inverse);
    else plan_.inverse_centered(scratch.view());
    detail::for_each(device_, n, kern::CoilCombineF{maps_.data(), scratch.data(), out.data(), n, coils(), c.checker});
}

void fft_centered(View<complex64> data, int rank) {
    FftPlan::for_shape(data.shape(), rank, data.device()).forward_centered(data);
}

void ifft_centered(View<complex64> data, int rank) {
    FftPlan::for_shape(data.shape(), rank, data.device()).inverse_centered(data);
}

namespace {
// Number of pixels of one image when `coil_shape` = [coils][...image] and `image` is [...image].
index_t pixels_per_coil(const char* what, const Shape& coil_shape, const Shape& image) {
    require(coil_shape.rank() >= 2 && coil_shape.drop_front() == image,
            std::string(what) + ": coil array of shape " + coil_shape.str() + " does not match image shape " +
                image.str() + " (expected [coils] + image shape)");
    return image.size();
}
}  // namespace

void rss(View<const complex64> coil_images, View<float> out) {
    const index_t n = pixels_per_coil("rss", coil_images.shape(), out.shape());
    const Device d = detail::common_device("rss", coil_images, out);
    detail::for_each(d, n, kern::RssF{coil_images.data(), out.data(), n, coil_images.dim(0)});
}

void sense_magnitude(View<const complex64> x, View<const complex64> maps, View<float> out) {
    const index_t n = pixels_per_coil("sense_magnitude", maps.shape(), x.shape());
    require(out.shape() == x.shape(), "sense_magnitude: output shape " + out.shape().str() + " does not match " +
                                          x.shape().str());
    const Device d = detail::common_device("sense_magnitude", x, maps, out);
    detail::for_each(d, n, kern::SenseMagnitudeF{x.data(), maps.data(), out.data(), n, maps.dim(0)});
}

void coil_combine(View<const complex64> coil_images, View<const complex64> maps, View<complex64> out) {
    const index_t n = pixels_per_coil("coil_combine", coil_images.shape(), out.shape());
    require(maps.shape() == coil_images.shape(), "coil_combine: maps of shape " + maps.shape().str() +
                                                     " do not match the coil images " + coil_images.shape().str());
    const Device d = detail::common_device("coil_combine", coil_images, maps, out);
    detail::for_each(d, n, kern::CoilCombineF{maps.data(), coil_images.data(), out.data(), n, maps.dim(0), kern::Checker{}});
}

void apply_mask(View<const complex64> in, View<const float> mask, View<complex64> out) {
    require(in.shape() == out.shape(), "apply_mask: input " + in.shape().str() + " and output " + out.shape().str() +
                                           " differ");
    require(mask.size() > 0 && in.size() % mask.size() == 0,
            "apply_mask: a mask of " + std::to_string(mask.size()) + " elements does not tile k-space of shape " +
                in.shape().str());
    const Device d = detail::common_device("apply_mask", in, mask, out);
    detail::for_each(d, in.size(), kern::MaskF{mask.data(), in.data(), out.data(), mask.size(), kern::Checker{}, 1.0f});
}

void mask_from_data(View<const complex64> kspace, View<float> mask) {
    const index_t n = pixels_per_coil("mask_from_data", kspace.shape(), mask.shape());
    const Device d = detail::common_device("mask_from_data", kspace, mask);
    detail::for_each(d, n, kern::MaskFromDataF{kspace.data(), mask.data(), n, kspace.dim(0)});
}

namespace {
template <class T>
Array<T> crop_impl(View<const T> in, index_t height, index_t width) {
    require(in.rank() >= 2, "center_crop: needs at least two axes, got shape " + in.shape().str());
    require(height >= 1 && width >= 1, "center_crop: target size must be positive");
    const index_t h = in.dim(-2), w = in.dim(-1);
    Shape s = in.shape();
    s[-2] = height;
    s[-1] = width;
    Array<T> out(s, in.device());
    // Floor division for negative offsets (padding) keeps crop and pad exact inverses of each other.
    auto floor_half = [](index_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
    detail::for_each(in.device(), out.size(),
                     kern::CropPadF<T>{in.data(), out.data(), h, w, height, width, floor_half(h - height),
                                       floor_half(w - width)});
    return out;
}

class CropOperator final : public LinearOperator<complex64> {
public:
    CropOperator(const Shape& padded, index_t h, index_t w, Device device) : padded_(padded), cropped_(padded),
                                                                              device_(device) {
        require(padded.rank() >= 2 && h <= padded[-2] && w <= padded[-1] && h >= 1 && w >= 1,
                "crop_operator: cannot crop " + padded.str() + " to " + std::to_string(h) + "x" + std::to_string(w));
        cropped_[-2] = h;
        cropped_[-1] = w;
    }
    Shape domain_shape() const override { return padded_; }
    Shape range_shape() const override { return cropped_; }
    Device device() const override { return device_; }
    void apply(View<const complex64> x, View<complex64> y) const override { run(x, y, padded_, cropped_, 1); }
    void apply_adjoint(View<const complex64> y, View<complex64> x) const override { run(y, x, cropped_, padded_, -1); }

private:
    void run(View<const complex64> in, View<complex64> out, const Shape& si, const Shape& so, int sign) const {
        require(in.shape() == si && out.shape() == so, "crop_operator: shapes " + in.shape().str() + " -> " +
                                                           out.shape().str() + " do not match the operator");
        const index_t dy = (padded_[-2] - cropped_[-2]) / 2, dx = (padded_[-1] - cropped_[-1]) / 2;
        detail::for_each(device_, out.size(),
                         kern::CropPadF<complex64>{in.data(), out.data(), si[-2], si[-1], so[-2], so[-1], sign * dy,
                                                   sign * dx});
    }
    Shape padded_, cropped_;
    Device device_;
};
}  // namespace

Array<float> center_crop(View<const float> in, index_t height, index_t width) { return crop_impl(in, height, width); }
Array<complex64> center_crop(View<const complex64> in, index_t height, index_t width) {
    return crop_impl(in, height, width);
}

LinOpPtr<complex64> crop_operator(const Shape& padded, index_t height, index_t width, Device device) {
    return std::make_shared<CropOperator>(padded, height, width, device);
}

}  // namespace lumen::mri
