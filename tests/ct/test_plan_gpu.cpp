// ct::Reconstructor on device views: the transmission and the volume on the GPU, the work on the
// GPU, against the CPU plan (another summation order: a tolerance), and reused across scans.
#include "lumen/ct/recon.hpp"
#include "lumen/ct/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ct;

TEST(CtPlanGpu, DeviceViewsMatchTheCpuPlan) {
    LUMEN_REQUIRE_GPU();
    SimulationOptions so;
    so.size = 24;
    so.views = 30;
    const Scan a = simulate(so, Device::cpu);
    so.seed = 5;
    const Scan b = simulate(so, Device::cpu);
    const CountNoise na = count_noise(a), nb = count_noise(b);
    const Array<float> ta = transmission(a, Device::cpu), tb = transmission(b, Device::cpu);
    const Array<float> ta_d = ta.to(Device::cuda), tb_d = tb.to(Device::cuda);
    for (Method m : {Method::fdk, Method::sirt, Method::tv, Method::nonlinear}) {
        for (Objective objective : {Objective::least_squares, Objective::poisson}) {
            if (objective == Objective::poisson && m != Method::nonlinear) continue;
            SCOPED_TRACE(std::string(method_name(m)) + " " + objective_name(objective));
            ReconOptions o;
            o.method = m;
            o.objective = objective;
            o.iterations = m == Method::fdk ? 0 : 5;
            Reconstructor cpu(a.geometry, o);
            o.device = Device::cuda;
            Reconstructor gpu(a.geometry, o);
            Array<float> vc(a.geometry.volume_shape());
            Array<float> vg(a.geometry.volume_shape(), Device::cuda), vg_host(a.geometry.volume_shape());
            for (int pass = 0; pass < 2; ++pass) {  // the second call reuses the GPU plan on another scan
                const bool first = pass == 0;
                const ReconInfo ic = cpu.reconstruct(first ? ta : tb, first ? &na : &nb, vc);
                const ReconInfo ig = gpu.reconstruct(first ? ta_d : tb_d, first ? &na : &nb, vg);
                EXPECT_LT(test::max_rel_diff(vc, vg), 2e-3);
                EXPECT_EQ(ic.solver.stop_reason, ig.solver.stop_reason);
                // Host views on a GPU plan: the same work, copied at the ends.
                gpu.reconstruct(first ? ta : tb, first ? &na : &nb, vg_host);
                EXPECT_LT(test::max_rel_diff(vg, vg_host), 1e-4);
            }
        }
    }
}
