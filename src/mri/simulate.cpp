// The MRI simulator; per-pixel math in kernels/mri/phantom.hpp.
#include "lumen/mri/simulate.hpp"

#include <cmath>
#include <random>
#include <string>

#include "kernels/mri/phantom.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/sense.hpp"
#include "src/executor.hpp"

namespace lumen::mri {

namespace {

kern::PhantomF make_phantom(index_t h, index_t w, index_t rh, index_t rw, float axis_scale, complex64* out) {
    // Modified Shepp-Logan (Toft): value, semi-axes a (x), b (y), centre, rotation in degrees.
    const float table[10][6] = {
        {1.0f, 0.69f, 0.92f, 0.0f, 0.0f, 0.0f},        {-0.8f, 0.6624f, 0.874f, 0.0f, -0.0184f, 0.0f},
        {-0.2f, 0.11f, 0.31f, 0.22f, 0.0f, -18.0f},    {-0.2f, 0.16f, 0.41f, -0.22f, 0.0f, 18.0f},
        {0.1f, 0.21f, 0.25f, 0.0f, 0.35f, 0.0f},       {0.1f, 0.046f, 0.046f, 0.0f, 0.1f, 0.0f},
        {0.1f, 0.046f, 0.046f, 0.0f, -0.1f, 0.0f},     {0.1f, 0.046f, 0.023f, -0.08f, -0.605f, 0.0f},
        {0.1f, 0.023f, 0.023f, 0.0f, -0.606f, 0.0f},   {0.1f, 0.023f, 0.046f, 0.06f, -0.605f, 0.0f},
    };
    kern::PhantomF f{};
    f.count = 10;
    for (int e = 0; e < 10; ++e) {
        const float phi = table[e][5] * kPiF / 180.0f;
        f.ellipses[e] = kern::Ellipse{table[e][0], table[e][1], table[e][2], table[e][3], table[e][4], std::cos(phi),
                                      std::sin(phi)};
    }
    f.axis_scale = axis_scale;
    f.h = h;
    f.w = w;
    f.half_h = float(rh) / 2.0f;
    f.half_w = float(rw) / 2.0f;
    f.supersample = 4;
    f.out = out;
    return f;
}

}  // namespace

Array<float> truth_target(View<const complex64> image, View<const complex64> sensitivities, index_t recon_height,
                          index_t recon_width) {
    require(image.rank() == 3, "truth image must be [slices][H][W], got shape " + image.shape().str());
    const index_t slices = image.dim(0), h = image.dim(1), w = image.dim(2);
    const bool per_slice = sensitivities.rank() == 4;
    require((sensitivities.rank() == 3 && sensitivities.dim(1) == h && sensitivities.dim(2) == w) ||
                (per_slice && sensitivities.dim(0) == slices && sensitivities.dim(2) == h && sensitivities.dim(3) == w),
            "truth sensitivities of shape " + sensitivities.shape().str() + " do not match the truth image " +
                image.shape().str() + "; expected [coils][H][W] or [slices][coils][H][W]");
    // Host views are read in place, one slice (and its maps) at a time; device views are copied once.
    Array<complex64> x_host, s_host;
    if (image.device() != Device::cpu) x_host = Array<complex64>::copy_of(image, Device::cpu);
    if (sensitivities.device() != Device::cpu) s_host = Array<complex64>::copy_of(sensitivities, Device::cpu);
    const View<const complex64> x = image.device() == Device::cpu ? image : x_host.view();
    const View<const complex64> s = sensitivities.device() == Device::cpu ? sensitivities : s_host.view();
    Array<float> full(Shape{slices, h, w});
    for (index_t sl = 0; sl < slices; ++sl)
        sense_magnitude(x.item(sl), per_slice ? s.item(sl) : s, full.view().item(sl));
    return center_crop(full.view(), recon_height, recon_width);
}

void SimulationOptions::validate() const {
    require_option(height >= 16 && height <= 4096, "SimulationOptions.height",
                   "the k-space height must be 16 to 4096, got " + std::to_string(height));
    require_option(width >= 16 && width <= 4096, "SimulationOptions.width",
                   "the k-space width must be 16 to 4096, got " + std::to_string(width));
    require_option(coils >= 1 && coils <= 64, "SimulationOptions.coils", "must be 1 to 64, got " + std::to_string(coils));
    require_option(slices >= 1 && slices <= 512, "SimulationOptions.slices",
                   "must be 1 to 512, got " + std::to_string(slices));
    require_option(std::isfinite(noise) && noise >= 0.0, "SimulationOptions.noise", "must be a non-negative number");
    require_option(std::isfinite(scale) && scale > 0.0, "SimulationOptions.scale", "must be a positive number");
    require_option(double(height) * double(width) * double(coils) * double(slices) <= 2.0e9, "SimulationOptions.height",
                   "the k-space size times coils and slices is too large for one file (over 2e9 samples)");
    const index_t rh = recon_height > 0 ? recon_height : std::min(height / 2, width);
    const index_t rw = recon_width > 0 ? recon_width : rh;
    require_option(rh <= height && rh >= 8, "SimulationOptions.recon_height",
                   "the reconstruction height must be at least 8 and fit in the k-space size " + std::to_string(height) +
                       "x" + std::to_string(width) + ", got " + std::to_string(rh));
    require_option(rw <= width && rw >= 8, "SimulationOptions.recon_width",
                   "the reconstruction width must be at least 8 and fit in the k-space size " + std::to_string(height) +
                       "x" + std::to_string(width) + ", got " + std::to_string(rw));
}

SimulatedScan simulate(const SimulationOptions& o) {
    o.validate();
    SimulatedScan scan;
    const index_t h = o.height, w = o.width, C = o.coils, S = o.slices;
    scan.recon_height = o.recon_height > 0 ? o.recon_height : std::min(h / 2, w);
    scan.recon_width = o.recon_width > 0 ? o.recon_width : scan.recon_height;
    const index_t rh = scan.recon_height, rw = scan.recon_width;

    scan.image = Array<complex64>(Shape{S, h, w});
    for (index_t s = 0; s < S; ++s) {
        // Slices are sections through ellipsoids: cross-sections shrink away from the centre.
        const double z = S > 1 ? -0.3 + 0.6 * double(s) / double(S - 1) : 0.0;
        const auto axis_scale = float(std::sqrt(1.0 - z * z));
        auto f = make_phantom(h, w, rh, rw, axis_scale, scan.image.data() + s * h * w);
        detail::for_each_cpu(h * w, f);
    }
    scale(complex64(float(o.scale)), scan.image.view());

    scan.sensitivities = Array<complex64>(Shape{C, h, w});
    if (C == 1) fill(scan.sensitivities.view(), complex64(1.0f));
    else
        detail::for_each_cpu(C * h * w,
                         kern::CoilSensitivityF{h, w, C, float(rh) / 2.0f, float(rw) / 2.0f, 1.25f, 0.5f,
                                                scan.sensitivities.data()});

    scan.kspace = Array<complex64>(Shape{S, C, h, w});
    const FftPlan plan({h, w}, C, Device::cpu);
    std::mt19937_64 gen(o.seed);
    // Box-Muller from raw 64-bit draws: portable across standard libraries.
    auto uniform = [&gen] { return (double(gen() >> 11) + 0.5) * (1.0 / 9007199254740992.0); };
    for (index_t s = 0; s < S; ++s) {
        View<complex64> ks(scan.kspace.data() + s * C * h * w, Shape{C, h, w});
        View<const complex64> xs(scan.image.data() + s * h * w, Shape{h, w});
        Array<float> full(Shape{h, w});
        fill(full.view(), 1.0f);
        // Coil images S_c x (the forward SENSE operator without mask), then F.
        const SenseOperator A(scan.sensitivities.view(), full.view(), Device::cpu);
        A.apply(xs, ks);
        if (o.noise > 0.0) {
            const double rms = std::sqrt(norm2_squared(ks) / double(ks.size()));
            const double sigma = o.noise * rms / std::sqrt(2.0);
            for (index_t i = 0; i < ks.size(); ++i) {
                const double r = std::sqrt(-2.0 * std::log(uniform())), t = 2.0 * kPi * uniform();
                ks[i] += complex64(float(sigma * r * std::cos(t)), float(sigma * r * std::sin(t)));
            }
        }
    }
    scan.target = truth_target(scan.image.view(), scan.sensitivities.view(), rh, rw);

    // fastMRI's reconstruction_rss: RSS of the inverse FFT of the (noisy) fully sampled k-space.
    Array<float> full_rss(Shape{S, h, w});
    Array<complex64> coil_images(Shape{C, h, w});
    for (index_t s = 0; s < S; ++s) {
        coil_images.assign(scan.kspace.view().item(s));
        plan.inverse_centered(coil_images.view());
        rss(coil_images.view(), full_rss.view().item(s));
    }
    scan.rss = center_crop(full_rss.view(), rh, rw);
    return scan;
}

}  // namespace lumen::mri
