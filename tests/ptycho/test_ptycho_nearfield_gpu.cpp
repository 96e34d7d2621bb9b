// CPU-vs-GPU parity of what issue 11 added to the ptychography model: the near-field (Fresnel)
// propagator (forward, adjoint, loss gradients) and the noise-normalised residual sums. Skips
// without a GPU. (A file of its own so that it merges apart from test_ptycho_gpu.cpp.)
#include <cmath>

#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

Array<float> random_positions(index_t J, index_t H, index_t W, index_t m) {
    Array<float> u = test::random_real(Shape{J, 2}, 78);
    Array<float> p(Shape{J, 2});
    for (index_t j = 0; j < J; ++j) {
        p[2 * j] = float(0.5 * (u[2 * j] + 1.0) * double(H - m - 1));
        p[2 * j + 1] = float(0.5 * (u[2 * j + 1] + 1.0) * double(W - m - 1));
    }
    return p;
}

}  // namespace

class PtychoGpuPropagation : public ::testing::TestWithParam<bool> {};

TEST_P(PtychoGpuPropagation, ModelAndResidualMatchTheCpu) {
    LUMEN_REQUIRE_GPU();
    const bool near = GetParam();
    const index_t H = 70, W = 66, m = 32, J = 21;
    const Array<float> pos = random_positions(J, H, W, m);
    const ModelOptions mo{8, true, near ? 0.05 : 0.0, near ? 0.03 : 0.0};
    Model cpu(Shape{H, W}, Shape{m, m}, pos, Device::cpu, mo);
    Model gpu(Shape{H, W}, Shape{m, m}, pos, Device::cuda, mo);
    const Array<complex64> probe = test::random_complex(Shape{m, m}, 11), obj = test::random_complex(Shape{H, W}, 12);
    const Array<complex64> obj_d = obj.to(Device::cuda);
    cpu.set_probe(probe);
    gpu.set_probe(probe.to(Device::cuda));
    Array<complex64> psi(cpu.data_shape()), psi_d(gpu.data_shape(), Device::cuda);
    cpu.far_field(obj, psi);
    gpu.far_field(obj_d, psi_d);
    EXPECT_LT(test::max_rel_diff(psi, psi_d.to(Device::cpu)), 1e-4);
    Array<float> y(cpu.data_shape()), y_d(gpu.data_shape(), Device::cuda);
    cpu.intensities(test::random_complex(Shape{H, W}, 13), y);
    gpu.intensities(test::random_complex(Shape{H, W}, 13).to(Device::cuda), y_d);
    EXPECT_LT(test::max_rel_diff(y, y_d.to(Device::cpu)), 1e-4);
    cpu.set_data(y);
    gpu.set_data(y_d);
    Array<complex64> go(Shape{H, W}), gp(Shape{m, m}), go_d(Shape{H, W}, Device::cuda), gp_d(Shape{m, m}, Device::cuda);
    EXPECT_NEAR(gpu.loss(Loss::amplitude, obj_d, go_d, gp_d) / cpu.loss(Loss::amplitude, obj, go, gp), 1.0, 1e-5);
    EXPECT_LT(test::max_rel_diff(go, go_d.to(Device::cpu)), 1e-4);
    EXPECT_LT(test::max_rel_diff(gp, gp_d.to(Device::cpu)), 1e-4);
    EXPECT_LT(adjoint_test(*object_operator(gpu), 5), 1e-5);
    // The residual sums (per-pixel residuals and their Poisson expectations).
    const Model::Residual rc = cpu.residual(obj), rg = gpu.residual(obj_d);
    EXPECT_NEAR(rg.squared / rc.squared, 1.0, 1e-5);
    EXPECT_NEAR(rg.expected / rc.expected, 1.0, 1e-5);
    EXPECT_EQ(rg.pixels, rc.pixels);
    // The same sums from the gradient pass, and the object gradient's illumination preconditioner.
    Model::Residual fc, fg;
    cpu.loss(Loss::amplitude, obj, go, {}, {}, fc);
    gpu.loss(Loss::amplitude, obj_d, go_d, {}, {}, fg);
    EXPECT_NEAR(fg.ratio() / fc.ratio(), 1.0, 1e-5);
    EXPECT_NEAR(fg.ratio() / rc.ratio(), 1.0, 1e-5);
    EXPECT_NEAR(gpu.precondition_object(go_d, 0.1, 2.0) / cpu.precondition_object(go, 0.1, 2.0), 1.0, 1e-5);
    EXPECT_LT(test::max_rel_diff(go, go_d.to(Device::cpu)), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(FarAndNear, PtychoGpuPropagation, ::testing::Values(false, true));
