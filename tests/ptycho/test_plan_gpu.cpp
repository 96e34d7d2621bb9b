// ptycho::Reconstructor on device views: measurements, starting probe and estimates on the GPU,
// against the CPU plan, reused on other measurements. The tolerances are those of
// tests/ptycho/test_ptycho_gpu.cpp, which says how far rounding carries: AWF after 10
// iterations, ePIE (probe held) after one sweep.
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

TEST(PtychoPlanGpu, DeviceViewsMatchTheCpuPlan) {
    LUMEN_REQUIRE_GPU();
    SimulationOptions so;
    so.frame = 32;
    so.positions = 49;
    so.seed = 3;
    const Scan a = simulate(so);
    so.photons = 2e5;
    const Scan b = simulate(so);
    for (Method m : {Method::awf, Method::epie}) {
        SCOPED_TRACE(method_name(m));
        ReconOptions o;
        o.method = m;
        o.iterations = m == Method::awf ? 10 : 1;
        o.refine_probe = m == Method::awf;
        Reconstructor cpu(a, o);
        o.device = Device::cuda;
        Reconstructor gpu(a, o);
        for (const Scan* s : {&a, &b}) {
            const Array<float> y_d = s->intensities.to(Device::cuda);
            const Array<complex64> p0_d = s->probe.to(Device::cuda);
            Array<complex64> oc(cpu.object_shape()), pc(cpu.probe_shape());
            Array<complex64> og(gpu.object_shape(), Device::cuda), pg(gpu.probe_shape(), Device::cuda);
            cpu.reconstruct(s->intensities, s->mask, s->probe, oc, pc);
            gpu.reconstruct(y_d, s->mask, p0_d, og, pg);
            EXPECT_LT(test::max_rel_diff(oc, og), 2e-3);
            EXPECT_LT(test::max_rel_diff(pc, pg), 2e-3);
        }
    }
}
