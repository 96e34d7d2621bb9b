// mri::SliceReconstructor on device views: k-space, mask, maps and the results on the GPU, against
// the CPU (another summation order: a tolerance), reused across slices.
#include "lumen/mri/recon.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

TEST(MriPlanGpu, DeviceViewsMatchTheCpu) {
    LUMEN_REQUIRE_GPU();
    constexpr index_t C = 4, H = 32, W = 32;
    SimulationOptions so;
    so.height = H;
    so.width = W;
    so.coils = C;
    so.slices = 2;
    so.recon_height = 16;
    so.noise = 0.05;
    const SimulatedScan s = simulate(so);
    Array<float> mask(Shape{H, W});
    for (index_t i = 0; i < mask.size(); ++i) mask[i] = (i % W) % 2 == 0 || (i % W) >= W / 2 - 4 ? 1.0f : 0.0f;
    const Array<complex64> k_d = s.kspace.to(Device::cuda), maps_d = s.sensitivities.to(Device::cuda);
    const Array<float> mask_d = mask.to(Device::cuda);
    for (Method m : {Method::zero_filled, Method::cg_sense, Method::l1_wavelet, Method::tv}) {
        SCOPED_TRACE(method_name(m));
        ReconOptions o;
        o.method = m;
        o.iterations = 5;
        o.wavelet_levels = 2;
        SliceReconstructor cpu(o);
        o.device = Device::cuda;
        SliceReconstructor gpu(o);
        const bool sense = m != Method::zero_filled;
        for (index_t slice = 0; slice < 2; ++slice) {
            Array<float> mag(Shape{H, W}), mag_d(Shape{H, W}, Device::cuda);
            Array<complex64> image, image_d;
            if (sense) {
                image = Array<complex64>(Shape{H, W});
                image_d = Array<complex64>(Shape{H, W}, Device::cuda);
            }
            cpu.reconstruct(s.kspace.view().item(slice), mask, s.sensitivities, mag, image);
            gpu.reconstruct(k_d.view().item(slice), mask_d, maps_d, mag_d, image_d);
            EXPECT_LT(test::max_rel_diff(mag, mag_d), 1e-3);
            if (sense) {
                EXPECT_LT(test::max_rel_diff(image, image_d), 1e-3);
            }
        }
    }
}
