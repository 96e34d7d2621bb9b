// CT on the GPU against the CPU path: the projector pair (and its adjointness on the GPU), the
// FDK back projector and the whole FDK, phantoms, normalisation, and the nonlinear method.
#include <algorithm>
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
    // Voxelisation: each voxel is the mean over s^3 sub-voxel points of the values of the
    // ellipsoids containing the point (kernels/ct/phantom.hpp). nvcc fuses multiply-adds in the
    // point's coordinates and in |q|^2 where the host compiler (x86-64 without -mfma) does not, so
    // a point within rounding (~1e-16 relative) of an ellipsoid's surface may fall inside on one
    // device and outside on the other. Exact equality is therefore not promised: a voxel may
    // differ by whole flipped points, |value| / s^3 each, and only a few voxels may differ.
    // (Emulated on the CPU, src/ct/phantom.cpp compiled with -mfma -ffp-contract=fast against
    // without: no voxel of this phantom differed, at 48^3 or at 128^3.)
    const int s = 2;
    const Array<float> v = voxelize(phantom, g.volume, s, Device::cpu), v_gpu = voxelize(phantom, g.volume, s, Device::cuda);
    const Array<float> vg = v_gpu.to(Device::cpu);
    double max_value = 0;
    for (const Ellipsoid& e : phantom) max_value = std::max(max_value, std::abs(e.value));
    const double one_point = max_value / double(s * s * s);
    index_t differing = 0;
    double worst = 0;
    for (index_t i = 0; i < v.size(); ++i) {
        const double d = std::abs(double(v[i]) - double(vg[i]));
        worst = std::max(worst, d);
        if (d > 1e-6 * one_point) ++differing;  // beyond the rounding of the final float
    }
    EXPECT_LE(worst, 2.0 * one_point + 1e-6 * one_point) << "more than two sub-voxel points flipped in a voxel";
    EXPECT_LE(differing, v.size() / 1000) << "voxels differing by a flipped point: " << differing << " of " << v.size();
    for (FilterWindow w : {FilterWindow::ram_lak, FilterWindow::hann}) {
        FdkOptions o;
        o.window = w;
        Array<float> vc(g.volume_shape()), vg(g.volume_shape(), Device::cuda);
        fdk(Projector(g, Device::cpu), p, vc, o);
        fdk(Projector(g, Device::cuda), p_gpu, vg, o);
        EXPECT_LT(test::max_rel_diff(vc, vg.to(Device::cpu)), 1e-4);
    }
    // A slab of slices (a distributed FDK's part, docs/scaling.md): the CUDA kernel's z offset.
    {
        const index_t z0 = g.volume.nz / 4, z1 = g.volume.nz / 2;
        Array<float> vc(g.volume_shape()), vg(g.volume_shape(), Device::cuda);
        fdk(Projector(g, Device::cpu), p, vc, FdkOptions{}, z0, z1);
        fdk(Projector(g, Device::cuda), p_gpu, vg, FdkOptions{}, z0, z1);
        const Array<float> vgh = vg.to(Device::cpu);
        EXPECT_LT(test::max_rel_diff(vc, vgh), 1e-4);
        const index_t plane = g.volume.nx * g.volume.ny;
        index_t outside = 0;
        for (index_t i = 0; i < vgh.size(); ++i) outside += (i / plane < z0 || i / plane >= z1) && vgh[i] != 0.0f;
        EXPECT_EQ(outside, 0);
    }
}

TEST(CtGpu, SimulationNormalisationAndNonlinearMatchCpu) {
    LUMEN_REQUIRE_GPU();
    SimulationOptions so;
    so.size = 24;
    so.views = 30;
    so.phantom = PhantomKind::metal;
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
