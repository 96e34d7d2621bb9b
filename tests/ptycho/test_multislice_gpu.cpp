// CPU-vs-GPU parity of the multi-slice model (docs/ptychography.md, "Multi-slice"): intensities,
// the loss, the gradients of every slice and of the probe (two modes), and the per-slice step
// bounds. Skips without a GPU.
#include <cmath>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

TEST(PtychoMultisliceGpu, ModelGradientsAndBoundsMatchTheCpu) {
    LUMEN_REQUIRE_GPU();
    const index_t H = 70, W = 66, m = 32, J = 21, N = 3, K = 2;
    const Array<float> u = test::random_real(Shape{J, 2}, 91);
    Array<float> pos(Shape{J, 2});
    for (index_t j = 0; j < J; ++j) {
        pos[2 * j] = float(0.5 * (u[2 * j] + 1.0) * double(H - m - 1));
        pos[2 * j + 1] = float(0.5 * (u[2 * j + 1] + 1.0) * double(W - m - 1));
    }
    ModelOptions mo;
    mo.batch = 8;
    mo.modes = K;
    mo.slices = N;
    mo.slice_fresnel_y = 0.01;
    mo.slice_fresnel_x = 0.008;
    Model cpu(Shape{H, W}, Shape{m, m}, pos, Device::cpu, mo);
    Model gpu(Shape{H, W}, Shape{m, m}, pos, Device::cuda, mo);
    Array<complex64> obj = test::random_complex(Shape{N, H, W}, 92);
    for (index_t i = 0; i < obj.size(); ++i) obj[i] = complex64(1.0f, 0.0f) + obj[i] * 0.3f;
    const Array<complex64> probe = test::random_complex(Shape{K, m, m}, 93), obj_d = obj.to(Device::cuda);
    cpu.set_probe(probe);
    gpu.set_probe(probe.to(Device::cuda));
    Array<float> y(cpu.data_shape()), y_d(gpu.data_shape(), Device::cuda);
    const Array<complex64> other = test::random_complex(Shape{N, H, W}, 94);
    cpu.intensities(other, y);
    gpu.intensities(other.to(Device::cuda), y_d);
    EXPECT_LT(test::max_rel_diff(y, y_d.to(Device::cpu)), 1e-4);
    cpu.set_data(y);
    gpu.set_data(y_d);
    Array<complex64> go(Shape{N, H, W}), gp(Shape{K, m, m});
    Array<complex64> go_d(Shape{N, H, W}, Device::cuda), gp_d(Shape{K, m, m}, Device::cuda);
    EXPECT_NEAR(gpu.loss(Loss::amplitude, obj_d, go_d, gp_d) / cpu.loss(Loss::amplitude, obj, go, gp), 1.0, 1e-5);
    EXPECT_LT(test::max_rel_diff(go, go_d.to(Device::cpu)), 1e-4);
    EXPECT_LT(test::max_rel_diff(gp, gp_d.to(Device::cpu)), 1e-4);
    const std::vector<double> bc = cpu.lipschitz_slices(obj), bg = gpu.lipschitz_slices(obj_d);
    ASSERT_EQ(bg.size(), bc.size());
    for (std::size_t n = 0; n < bc.size(); ++n) EXPECT_NEAR(bg[n] / bc[n], 1.0, 1e-4) << "slice " << n + 1;
    EXPECT_NEAR(gpu.lipschitz_probe(obj_d) / cpu.lipschitz_probe(obj), 1.0, 1e-4);
}
