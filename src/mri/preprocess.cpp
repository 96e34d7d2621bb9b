// Readout-oversampling removal and coil compression before ESPIRiT and the iterations
// (lumen/mri/preprocess.hpp); the per-sample math is in kernels/mri/preprocess.hpp.
#include "lumen/mri/preprocess.hpp"

#include <string>
#include <utility>
#include <vector>

#include "kernels/mri/preprocess.hpp"
#include "lumen/core/error.hpp"
#include "lumen/mri/sense.hpp"
#include "src/executor.hpp"
#include "src/mri/eigen.hpp"

namespace lumen::mri {

void PreprocessOptions::validate() const {
    require_option(coil_energy > 0.0 && coil_energy <= 1.0, "PreprocessOptions.coil_energy",
                   "the fraction of the data energy the virtual coils keep must be in (0, 1] (1: no compression), got " +
                       std::to_string(coil_energy));
    require_option(min_virtual_coils >= 1, "PreprocessOptions.min_virtual_coils",
                   "must be at least 1, got " + std::to_string(min_virtual_coils));
    require_option(virtual_coils >= 0, "PreprocessOptions.virtual_coils",
                   "must be at least 1 (0: chosen by the energy fraction), got " + std::to_string(virtual_coils));
}

bool mask_constant_along_readout(View<const float> mask) {
    require(mask.rank() == 2, "mask_constant_along_readout: expected a mask [H][W], got " + mask.shape().str());
    const Array<float> m = Array<float>::copy_of(mask, Device::cpu);
    const index_t H = m.dim(0), W = m.dim(1);
    for (index_t y = 1; y < H; ++y)
        for (index_t x = 0; x < W; ++x)
            if (m[y * W + x] != m[x]) return false;
    return true;
}

Array<complex64> crop_readout(View<const complex64> kspace, index_t rows) {
    require(kspace.rank() == 3, "crop_readout: expected k-space [coils][H][W], got " + kspace.shape().str());
    require(rows >= 1 && rows <= kspace.dim(1), "crop_readout: " + std::to_string(rows) +
                                                    " rows do not fit a readout of " + std::to_string(kspace.dim(1)));
    // The inverse and forward transforms along the phase encode (W) cancel; the 2-D transforms
    // are the one FFT wrapper's batched plans, and the crop is center_crop's (its offsets are the
    // output crop's, so the field of view kept is exactly the one written out).
    Array<complex64> image = Array<complex64>::copy_of(kspace, kspace.device());
    FftPlan::for_shape(image.shape(), 2, image.device()).inverse_centered(image.view());
    Array<complex64> cropped = center_crop(image.view(), rows, kspace.dim(2));
    FftPlan::for_shape(cropped.shape(), 2, cropped.device()).forward_centered(cropped.view());
    return cropped;
}

CoilCompression coil_compression(View<const complex64> kspace, const PreprocessOptions& options) {
    options.validate();
    require(kspace.rank() >= 2, "coil_compression: expected data [coils][...], got " + kspace.shape().str());
    const index_t C = kspace.dim(0);
    const int n = int(C);
    // The coils' Gram matrix (the SVD of the data through its eigen-decomposition), on the host.
    const Array<complex64> k = Array<complex64>::copy_of(kspace, Device::cpu);
    const std::vector<complex128> gram = detail::gram_matrix(k.data(), C, k.size() / C);
    const detail::HermitianEigen e = detail::hermitian_eigen(gram, n);
    CoilCompression cc;
    cc.coils = C;
    double total = 0.0;
    for (double v : e.values) {
        cc.energy.push_back(v > 0.0 ? v : 0.0);
        total += cc.energy.back();
    }
    index_t keep = C;
    if (options.virtual_coils > 0) {
        keep = std::min<index_t>(options.virtual_coils, C);
    } else if (options.coil_energy < 1.0 && total > 0.0) {
        double acc = 0.0;
        keep = 0;
        while (keep < C && acc < options.coil_energy * total) acc += cc.energy[std::size_t(keep++)];
        keep = std::min<index_t>(C, std::max<index_t>({keep, 1, options.min_virtual_coils}));
    }
    cc.virtual_coils = keep;
    double kept = 0.0;
    for (index_t v = 0; v < keep; ++v) kept += cc.energy[std::size_t(v)];
    cc.kept_fraction = total > 0.0 ? kept / total : 1.0;
    // Virtual coil v = u_v^H y (u_v the v-th eigenvector: the direction of the v-th largest energy).
    cc.matrix.resize(std::size_t(keep * C));
    for (index_t v = 0; v < keep; ++v)
        for (index_t c = 0; c < C; ++c) {
            const complex128 u = e.vectors[std::size_t(v * C + c)];
            cc.matrix[std::size_t(v * C + c)] = complex64(float(u.re), float(-u.im));
        }
    return cc;
}

Array<complex64> compress_coils(const CoilCompression& cc, View<const complex64> data) {
    require(data.rank() >= 2 && data.dim(0) == cc.coils, "compress_coils: data of shape " + data.shape().str() +
                                                              " do not have the compression's " +
                                                              std::to_string(cc.coils) + " coils");
    const Device dev = data.device();
    const index_t n = data.size() / cc.coils;
    Shape s = data.shape();
    s[0] = cc.virtual_coils;
    Array<complex64> out(s, dev);
    const Array<complex64> m = Array<complex64>::copy_of(
        View<const complex64>(cc.matrix.data(), Shape{cc.virtual_coils, cc.coils}), dev);
    detail::for_each(dev, n, kern::CoilMixF{m.data(), data.data(), out.data(), n, cc.coils, cc.virtual_coils});
    return out;
}

PreparedSlice prepare_slice(Array<complex64> kspace, View<const float> mask, View<const complex64> maps,
                            index_t recon_height, const PreprocessOptions& o, bool crop_allowed,
                            bool compress_allowed) {
    o.validate();
    require(kspace.rank() == 3 && mask.shape() == kspace.shape().drop_front(),
            "prepare_slice: expected k-space [coils][H][W] and a mask [H][W], got " + kspace.shape().str() + " and " +
                mask.shape().str());
    require(maps.empty() || maps.shape() == kspace.shape(),
            "prepare_slice: coil maps of shape " + maps.shape().str() + " for k-space of shape " + kspace.shape().str());
    PreparedSlice p;
    p.coils = p.virtual_coils = kspace.dim(0);
    const index_t H = kspace.dim(1), W = kspace.dim(2);
    if (o.readout_crop && crop_allowed && recon_height > 0 && recon_height < H && mask_constant_along_readout(mask)) {
        p.kspace = crop_readout(kspace.view(), recon_height);
        p.mask = center_crop(mask, recon_height, W);
        // Maps live in image space: their crop is the crop of the field of view.
        if (!maps.empty()) p.maps = center_crop(maps, recon_height, W);
        p.readout_cropped = true;
    } else {
        p.kspace = std::move(kspace);
        p.mask = Array<float>::copy_of(mask, mask.device());
        if (!maps.empty()) p.maps = Array<complex64>::copy_of(maps, maps.device());
    }
    if (o.compresses() && compress_allowed && p.coils > 1) {
        const CoilCompression cc = coil_compression(p.kspace.view(), o);
        if (cc.virtual_coils < p.coils) {
            p.kspace = compress_coils(cc, p.kspace.view());
            if (!p.maps.empty()) p.maps = compress_coils(cc, p.maps.view());
            p.virtual_coils = cc.virtual_coils;
            p.kept_fraction = cc.kept_fraction;
        }
    }
    return p;
}

}  // namespace lumen::mri
