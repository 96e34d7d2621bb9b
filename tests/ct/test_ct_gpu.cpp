// CT on the GPU against the CPU path: the projector pair (and its adjointness on the GPU), the
// FDK back projector and the whole FDK, phantoms, normalisation, and the nonlinear method.
#include <cmath>

#include "lumen/ct/fdk.hpp"
#include "lumen/ct/phantom.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/linalg.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {
Geometry odd_geometry() {
    Geometry g = default_cone_geometry(40, 1.0, 37, 4.5);
    g.volume.nx = 37;
    g.volume.nz = 29;
    g.volume.voxel_z = 1.3;
    g.volume.offset_x = 1.5;
    g.offset_u = 2.2;
    g.nu = 45;
    g.nv = 31;
    return g;
}
}  // namespace

TEST(CtGpu, ProjectorPairMatchesCpuAndIsAdjoint) {
    LUMEN_REQUIRE_GPU();
    for (BeamType type : {BeamType::cone, BeamType::parallel}) {
        Geometry g = odd_geometry();
        g.type = type;
        const Projector cpu(g, Device::cpu), gpu(g, Device::cuda);
        Array<float> x = test::random_real(g.volume_shape(), 1), y = test::random_real(g.projection_shape(), 2);
        Array<float> ax(g.projection_shape()), aty(g.volume_shape());
        Array<float> ax_d(g.projection_shape(), Device::cuda), aty_d(g.volume_shape(), Device::cuda);
        cpu.apply(x, ax);
        cpu.apply_adjoint(y, aty);
        const Array<float> xd = x.to(Device::cuda), yd = y.to(Device::cuda);
        gpu.apply(xd, ax_d);
        gpu.apply_adjoint(yd, aty_d);
        EXPECT_LT(test::max_rel_diff(ax, ax_d.to(Device::cpu)), 1e-5);
        EXPECT_LT(test::max_rel_diff(aty, aty_d.to(Device::cpu)), 1e-4);  // atomics: another summation order
        const double lhs = dot<float>(ax_d, yd), rhs = dot<float>(xd, aty_d);
        EXPECT_LT(std::abs(lhs - rhs) / std::abs(lhs), 1e-4);
        EXPECT_LT(adjoint_test<float>(gpu, 9), 1e-4);
    }
}

TEST(CtGpu, FdkMatchesCpu) {
    LUMEN_REQUIRE_GPU();
    const Geometry g = default_cone_geometry(48, 1.0, 90);
    const auto phantom = scale_phantom(shepp_logan_table(true), 22.0, 0.02);
    const Array<float> p = project_analytic(phantom, g, 1, false, Device::cpu);
    const Array<float> p_gpu = project_analytic(phantom, g, 1, false, Device::cuda);
    EXPECT_LT(test::max_rel_diff(p, p_gpu.to(Device::cpu)), 1e-5);
    const Array<float> v = voxelize(phantom, g.volume, 2, Device::cpu), v_gpu = voxelize(phantom, g.volume, 2, Device::cuda);
    EXPECT_EQ(test::max_rel_diff(v, v_gpu.to(Device::cpu)), 0.0);
    for (FilterWindow w : {FilterWindow::ram_lak, FilterWindow::hann}) {
        FdkOptions o;
        o.window = w;
        Array<float> vc(g.volume_shape()), vg(g.volume_shape(), Device::cuda);
        fdk(Projector(g, Device::cpu), p, vc, o);
        fdk(Projector(g, Device::cuda), p_gpu, vg, o);
        EXPECT_LT(test::max_rel_diff(vc, vg.to(Device::cpu)), 1e-4);
    }
}

TEST(CtGpu, SimulationNormalisationAndNonlinearMatchCpu) {
    LUMEN_REQUIRE_GPU();
    SimulateOptions so;
    so.size = 24;
    so.views = 30;
    so.phantom = "metal";
    const Scan s = simulate(so, Device::cuda);
    const Scan s_cpu = simulate(so, Device::cpu);
    EXPECT_LT(test::max_rel_diff(s.truth, s_cpu.truth), 1e-6);
    const Array<float> t = transmission(s, Device::cpu), t_gpu = transmission(s, Device::cuda);
    EXPECT_LT(test::max_rel_diff(t, t_gpu.to(Device::cpu)), 1e-6);
    const Array<float> b = line_integrals(t, 0.0, "cpu"), b_gpu = line_integrals(t_gpu, 0.0, "gpu");
    EXPECT_LT(test::max_rel_diff(b, b_gpu.to(Device::cpu)), 1e-5);
    for (Method m : {Method::sirt, Method::nonlinear}) {
        ReconOptions o;
        o.method = m;
        o.iterations = 5;
        o.device = Device::cpu;
        const ReconResult rc = reconstruct(s.geometry, t, o);
        o.device = Device::cuda;
        const ReconResult rg = reconstruct(s.geometry, t, o);
        EXPECT_LT(test::max_rel_diff(rc.volume, rg.volume), 2e-3) << method_name(m);
    }
}
