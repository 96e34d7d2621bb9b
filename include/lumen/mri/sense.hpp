// Cartesian multi-coil MRI operators (docs/mri.md, "Operators").
//
// k-space and images use fastMRI's layout: one slice of k-space is [coils][H][W] with W (the last
// axis) the phase-encode direction that 1-D masks select; the image of a slice is [H][W] on the
// same grid. F is the centred unitary DFT of lumen::FftPlan (fastMRI's fft2c / ifft2c). 3-D
// images [D][H][W] with a 3-D F work the same way.
//
//   forward   A x     = { M . F(S_c . x) }_c
//   adjoint   A^H y   = sum_c conj(S_c) . F^H(M . y_c)
//   normal    A^H A x = sum_c conj(S_c) . F^H(M . F(S_c . x))      (M is 0/1, so M^2 = M)
//
// Single-coil data are the one-coil case with S = 1.
#pragma once

#include <memory>
#include <mutex>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/fft.hpp"
#include "lumen/linop.hpp"

namespace lumen::mri {

// The SENSE operator for one slice (or one 3-D volume): domain = image shape ([H][W] or [D][H][W]),
// range = [coils] + image shape. The FFT plan (batched over the coils) and a scratch buffer are
// made once in the constructor and reused by every apply. The const methods are safe to call from
// several threads at once: a call that finds the scratch buffer in use works in a buffer of its
// own (and FftPlan is thread-safe). set_maps() / set_mask() swap in the next slice's maps and mask
// without new plans; like any non-const method they must not run while another thread applies.
class SenseOperator final : public LinearOperator<complex64> {
public:
    // maps [coils][...image], mask [...image] (0/1); both are copied to `device`.
    SenseOperator(View<const complex64> maps, View<const float> mask, Device device);

    Shape domain_shape() const override { return image_shape_; }
    Shape range_shape() const override { return maps_.shape(); }
    Device device() const override { return device_; }
    void apply(View<const complex64> x, View<complex64> y) const override;
    void apply_adjoint(View<const complex64> y, View<complex64> x) const override;
    // Fused: two batched FFTs and one pass each for expansion, mask and combination.
    void apply_normal(View<const complex64> x, View<complex64> out) const override;

    void set_maps(View<const complex64> maps);
    void set_mask(View<const float> mask);
    View<const complex64> maps() const { return maps_.view(); }
    View<const float> mask() const { return mask_.view(); }
    index_t coils() const { return maps_.dim(0); }

private:
    Shape image_shape_;
    Device device_;
    Array<complex64> maps_;
    Array<float> mask_;
    FftPlan plan_;
    mutable Array<complex64> scratch_;
    // Held while a call uses scratch_ (a pointer, so that the operator stays movable).
    std::unique_ptr<std::mutex> scratch_busy_ = std::make_unique<std::mutex>();
};

// Centred unitary FFTs over the last `rank` axes (2 or 3), batched over the leading ones: thin
// conveniences over FftPlan for one-off use (operators keep their own plans).
void fft_centered(View<complex64> data, int rank = 2);
void ifft_centered(View<complex64> data, int rank = 2);

// Root-sum-of-squares over coils: coil_images [coils][...], out [...].
void rss(View<const complex64> coil_images, View<float> out);
// out = |x| * sqrt(sum_c |maps_c|^2): the RSS of the coil images maps * x.
void sense_magnitude(View<const complex64> x, View<const complex64> maps, View<float> out);
// sum_c conj(maps_c) * coil_images_c.
void coil_combine(View<const complex64> coil_images, View<const complex64> maps, View<complex64> out);
// out = mask * in, mask [...image] broadcast over the leading (coil) axis; in and out may alias.
void apply_mask(View<const complex64> in, View<const float> mask, View<complex64> out);
// 1 where any coil has a non-zero sample: kspace [coils][...] -> mask [...].
void mask_from_data(View<const complex64> kspace, View<float> mask);

// Centre crop (or zero-pad, when the target is larger) over the last two axes, batched over the
// leading ones, with fastMRI's offsets: start = (H - h) / 2, (W - w) / 2 (floor).
Array<float> center_crop(View<const float> in, index_t height, index_t width);
Array<complex64> center_crop(View<const complex64> in, index_t height, index_t width);

// The crop of the last two axes as a linear operator from [..][H][W] to [..][h][w] (h <= H,
// w <= W); its adjoint zero-pads. Used to reconstruct on a grid padded for the wavelet transform.
LinOpPtr<complex64> crop_operator(const Shape& padded, index_t height, index_t width, Device device);

}  // namespace lumen::mri
