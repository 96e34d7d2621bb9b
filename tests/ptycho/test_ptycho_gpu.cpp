// CPU-vs-GPU parity of the ptychography model (atomic overlap-add, gathers, batched cuFFT, Fourier
// shifts, losses) and of the reconstructions. Skips without a GPU.
#include <cmath>

#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

Array<float> positions(index_t J, index_t H, index_t W, index_t m, bool subpixel) {
    Array<float> u = test::random_real(Shape{J, 2}, 77);
    Array<float> p(Shape{J, 2});
    for (index_t j = 0; j < J; ++j) {
        const double r = 0.5 * (u[2 * j] + 1.0) * double(H - m - 1), c = 0.5 * (u[2 * j + 1] + 1.0) * double(W - m - 1);
        p[2 * j] = float(subpixel ? r : std::round(r));
        p[2 * j + 1] = float(subpixel ? c : std::round(c));
    }
    return p;
}

template <class T>
Array<T> host(const Array<T>& a) { return a.to(Device::cpu); }

}  // namespace

class PtychoGpu : public ::testing::TestWithParam<bool> {};

TEST_P(PtychoGpu, ModelMatchesTheCpu) {
    LUMEN_REQUIRE_GPU();
    const bool subpixel = GetParam();
    const index_t H = 90, W = 84, m = 32, J = 37;
    const Array<float> pos = positions(J, H, W, m, subpixel);
    Model cpu(Shape{H, W}, Shape{m, m}, pos, Device::cpu, ModelOptions{16, true});
    Model gpu(Shape{H, W}, Shape{m, m}, pos, Device::cuda, ModelOptions{16, true});
    const Array<complex64> probe = test::random_complex(Shape{m, m}, 1), obj = test::random_complex(Shape{H, W}, 2);
    const Array<complex64> probe_d = probe.to(Device::cuda), obj_d = obj.to(Device::cuda);
    cpu.set_probe(probe);
    gpu.set_probe(probe_d);

    Array<complex64> psi(cpu.data_shape()), psi_d(gpu.data_shape(), Device::cuda);
    cpu.far_field(obj, psi);
    gpu.far_field(obj_d, psi_d);
    EXPECT_LT(test::max_rel_diff(psi, host(psi_d)), 1e-4);

    Array<complex64> back(Shape{H, W}), back_d(Shape{H, W}, Device::cuda);
    cpu.adjoint_object(psi, back);
    gpu.adjoint_object(psi_d, back_d);
    EXPECT_LT(test::max_rel_diff(back, host(back_d)), 1e-4);

    Array<complex64> pb(Shape{m, m}), pb_d(Shape{m, m}, Device::cuda);
    cpu.adjoint_probe(psi, obj, pb);
    gpu.adjoint_probe(psi_d, obj_d, pb_d);
    EXPECT_LT(test::max_rel_diff(pb, host(pb_d)), 1e-4);

    EXPECT_LT(test::max_rel_diff(cpu.illumination(), host(gpu.illumination())), 1e-5);
    EXPECT_LT(test::max_rel_diff(cpu.object_power(obj), host(gpu.object_power(obj_d))), 1e-5);
    EXPECT_NEAR(gpu.lipschitz_object() / cpu.lipschitz_object(), 1.0, 1e-5);

    Array<float> y(cpu.data_shape()), y_d(gpu.data_shape(), Device::cuda);
    cpu.intensities(test::random_complex(Shape{H, W}, 3), y);
    gpu.intensities(test::random_complex(Shape{H, W}, 3).to(Device::cuda), y_d);
    EXPECT_LT(test::max_rel_diff(y, host(y_d)), 1e-4);
    cpu.set_data(y);
    gpu.set_data(y_d);
    for (Loss l : {Loss::amplitude, Loss::intensity, Loss::poisson}) {
        Array<complex64> go(Shape{H, W}), gp(Shape{m, m}), go_d(Shape{H, W}, Device::cuda), gp_d(Shape{m, m}, Device::cuda);
        const double f = cpu.loss(l, obj, go, gp), f_d = gpu.loss(l, obj_d, go_d, gp_d);
        EXPECT_NEAR(f_d / f, 1.0, 1e-5) << loss_name(l);
        EXPECT_LT(test::max_rel_diff(go, host(go_d)), 1e-4) << loss_name(l);
        EXPECT_LT(test::max_rel_diff(gp, host(gp_d)), 1e-4) << loss_name(l);
    }
    EXPECT_LT(adjoint_test(*object_operator(gpu), 5), 1e-5);
    EXPECT_LT(adjoint_test(*probe_operator(gpu, obj_d), 6), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Positions, PtychoGpu, ::testing::Values(false, true));

TEST(PtychoGpuRecon, ReconstructionsMatchTheCpu) {
    LUMEN_REQUIRE_GPU();
    SimulationOptions so;
    so.frame = 32;
    so.positions = 49;
    so.photons = 1e5;
    const Scan scan = simulate(so);
    for (Method method : {Method::awf, Method::wf, Method::epie, Method::rpie}) {
        for (bool blind : {false, true}) {
            ReconOptions o;
            o.method = method;
            o.iterations = 10;
            o.refine_probe = blind;
            o.device = Device::cpu;
            const ReconResult c = reconstruct(scan, o);
            o.device = Device::cuda;
            const ReconResult g = reconstruct(scan, o);
            // Float rounding differs (atomics, cuFFT); ten iterations keep it small.
            EXPECT_LT(test::max_rel_diff(c.object, g.object), 2e-3) << method_name(method) << " blind " << blind;
            EXPECT_LT(test::max_rel_diff(c.probe, g.probe), 2e-3) << method_name(method) << " blind " << blind;
            EXPECT_NEAR(g.solver.history.back().objective / c.solver.history.back().objective, 1.0, 1e-3);
        }
    }
}

TEST(PtychoGpuRecon, SimulationMatchesTheCpu) {
    LUMEN_REQUIRE_GPU();
    SimulationOptions so;
    so.frame = 32;
    so.positions = 49;
    so.poisson = false;
    const Scan c = simulate(so, Device::cpu), g = simulate(so, Device::cuda);
    EXPECT_LT(test::max_rel_diff(c.intensities, g.intensities), 1e-4);
}
