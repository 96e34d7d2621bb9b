// ct::Reconstructor, the plan behind ct::reconstruct: writing into the caller's view gives the
// returned volume bit for bit for every method, a plan reused on another scan gives what a fresh
// plan gives, and views of the wrong shape or device are refused by name.
#include <cmath>
#include <limits>

#include "lumen/ct/recon.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/linalg.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {

Scan small_scan(std::uint64_t seed) {
    SimulationOptions so;
    so.size = 16;
    so.views = 12;
    so.seed = seed;
    return simulate(so, Device::cpu);
}

// Every method and objective, each with a few iterations (the discrepancy rule on).
std::vector<ReconOptions> every_method() {
    std::vector<ReconOptions> all;
    for (Method m : {Method::fdk, Method::sirt, Method::cgls, Method::tv, Method::nonlinear}) {
        ReconOptions o;
        o.method = m;
        o.iterations = m == Method::fdk ? 0 : 4;
        all.push_back(o);
    }
    ReconOptions poisson = all.back();
    poisson.objective = Objective::poisson;
    poisson.nonlinear_tv = 0.01;
    all.push_back(poisson);
    return all;
}

}  // namespace

TEST(CtPlan, ViewOutEqualsTheReturnedVolumeBitwise) {
    const Scan s = small_scan(1);
    const Array<float> t = transmission(s, Device::cpu);
    const CountNoise noise = count_noise(s);
    for (const ReconOptions& o : every_method()) {
        SCOPED_TRACE(std::string(method_name(o.method)) + " " + objective_name(o.objective));
        const ReconResult returned = reconstruct(s.geometry, t, &noise, o);
        Reconstructor plan(s.geometry, o);
        Array<float> volume(s.geometry.volume_shape());
        fill(volume.view(), std::numeric_limits<float>::quiet_NaN());  // every voxel is written
        const ReconInfo info = plan.reconstruct(t, &noise, volume);
        EXPECT_TRUE(test::same_bits(returned.volume, volume));
        EXPECT_EQ(info.solver.iterations, returned.solver.iterations);
        EXPECT_EQ(info.solver.stop_reason, returned.solver.stop_reason);
        EXPECT_EQ(info.parameters, returned.parameters);
    }
}

TEST(CtPlan, ReusedPlanEqualsFreshPlans) {
    const Scan a = small_scan(1), b = small_scan(7);
    const Array<float> ta = transmission(a, Device::cpu), tb = transmission(b, Device::cpu);
    const CountNoise na = count_noise(a), nb = count_noise(b);
    for (const ReconOptions& o : every_method()) {
        SCOPED_TRACE(std::string(method_name(o.method)) + " " + objective_name(o.objective));
        Reconstructor reused(a.geometry, o);
        Array<float> va(a.geometry.volume_shape()), vb(b.geometry.volume_shape());
        reused.reconstruct(ta, &na, va);
        reused.reconstruct(tb, &nb, vb);
        Array<float> fresh_b(b.geometry.volume_shape());
        Reconstructor(b.geometry, o).reconstruct(tb, &nb, fresh_b);
        EXPECT_TRUE(test::same_bits(vb, fresh_b));
        // The two scans differ (their noise), so the second call did not return the first's result.
        EXPECT_FALSE(test::same_bits(va, vb));
        // And the first call after the second again gives the first's result.
        Array<float> va_again(a.geometry.volume_shape());
        reused.reconstruct(ta, &na, va_again);
        EXPECT_TRUE(test::same_bits(va, va_again));
    }
}

TEST(CtPlan, RefusesViewsOfTheWrongShapeOrDevice) {
    const Scan s = small_scan(1);
    const Array<float> t = transmission(s, Device::cpu);
    Reconstructor plan(s.geometry, ReconOptions{});
    Shape wrong = s.geometry.volume_shape();
    wrong[0] += 1;
    Array<float> too_big(wrong), volume(s.geometry.volume_shape());
    EXPECT_EQ(test::error_field(ErrorCode::bad_input, [&] { plan.reconstruct(t, too_big); }), "volume");
    EXPECT_EQ(test::error_field(ErrorCode::bad_input, [&] { plan.reconstruct(too_big, volume); }), "transmission");
    EXPECT_EQ(test::error_field(ErrorCode::bad_input, [&] { plan.reconstruct(t, View<float>()); }), "volume");
    if (!cuda_available()) {
        // A device view without a GPU is refused before anything touches its memory.
        const View<float> device_volume(volume.data(), volume.shape(), Device::cuda);
        EXPECT_EQ(test::error_field(ErrorCode::no_gpu, [&] { plan.reconstruct(t, device_volume); }), "volume");
    }
    // The options are validated when the plan is made.
    ReconOptions bad;
    bad.iterations = -1;
    EXPECT_EQ(test::invalid_option_field([&] { Reconstructor(s.geometry, bad); }), "ReconOptions.iterations");
}
