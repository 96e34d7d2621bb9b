// ptycho::Reconstructor, the plan behind ptycho::reconstruct: writing into the caller's views gives
// the returned object and probe bit for bit for every method (and with the probe estimated from
// the data, far and near field), a plan reused on other measurements gives what a fresh plan
// gives, and views of the wrong shape or device are refused by name.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

Scan small_scan(double photons, bool near_field = false) {
    SimulationOptions o;
    o.frame = 16;
    o.positions = 25;
    o.photons = photons;
    o.near_field = near_field;
    o.seed = 3;
    return simulate(o);
}

struct Case {
    std::string name;
    ReconOptions options;
    bool drop_probe = false;  // estimate the probe from the data
};

std::vector<Case> every_method() {
    std::vector<Case> all;
    for (Method m : {Method::awf, Method::wf, Method::epie, Method::rpie}) {
        ReconOptions o;
        o.method = m;
        o.iterations = 4;
        all.push_back({method_name(m), o});
    }
    ReconOptions transposed;
    transposed.iterations = 3;
    transposed.orientation = 4;
    all.push_back({"awf, orientation 4", transposed});
    ReconOptions from_data;
    from_data.iterations = 8;
    from_data.loss = Loss::poisson;
    all.push_back({"awf poisson, probe from the data", from_data, true});
    return all;
}

Array<complex64> nan_filled(const Shape& shape) {
    Array<complex64> a(shape);
    fill(a.view(), complex64(std::numeric_limits<float>::quiet_NaN(), 0.0f));
    return a;
}

void expect_same(const ReconResult& returned, const ReconInfo& info, const Array<complex64>& object,
                 const Array<complex64>& probe) {
    EXPECT_TRUE(test::same_bits(returned.object, object));
    EXPECT_TRUE(test::same_bits(returned.probe, probe));
    EXPECT_EQ(info.solver.iterations, returned.solver.iterations);
    EXPECT_EQ(info.solver.stop_reason, returned.solver.stop_reason);
    EXPECT_EQ(info.refined_probe, returned.refined_probe);
    EXPECT_EQ(info.probe_from_data, returned.probe_from_data);
    EXPECT_EQ(info.residual.ratio(), returned.residual.ratio());
}

}  // namespace

TEST(PtychoPlan, ViewOutEqualsTheReturnedEstimatesBitwise) {
    for (bool near_field : {false, true}) {
        Scan scan = small_scan(1e5, near_field);
        for (const Case& c : every_method()) {
            if (near_field && !c.drop_probe) continue;
            SCOPED_TRACE(c.name + (near_field ? " (near field)" : ""));
            Array<complex64> stored_probe = scan.probe.clone();
            if (c.drop_probe) scan.probe = Array<complex64>();
            const ReconResult returned = reconstruct(scan, c.options);
            Reconstructor plan(scan, c.options);
            Array<complex64> object = nan_filled(plan.object_shape()), probe = nan_filled(plan.probe_shape());
            const ReconInfo info = plan.reconstruct(scan.intensities, scan.mask, scan.probe, object, probe);
            expect_same(returned, info, object, probe);
            EXPECT_TRUE(test::same_bits(returned.positions, plan.positions()));
            EXPECT_TRUE(test::same_bits(returned.illumination, plan.illumination()));
            if (returned.object.shape() == scan.true_object.shape()) {
                const Quality q = plan.compare_with_truth(object, probe, info.refined_probe, scan.true_object,
                                                          scan.true_probe);
                EXPECT_EQ(q.nrmse, returned.quality.nrmse);
                EXPECT_TRUE(std::isfinite(q.nrmse));
                if (info.refined_probe) {
                    EXPECT_EQ(q.nrmse_probe, returned.quality.nrmse_probe);
                }
            }
            scan.probe = std::move(stored_probe);
        }
    }
}

TEST(PtychoPlan, ReusedPlanEqualsFreshPlans) {
    // The same positions (the seed), other measurements (the dose, so the noise).
    const Scan a = small_scan(1e5), b = small_scan(2e4);
    ASSERT_TRUE(test::same_bits(a.positions, b.positions));
    for (const Case& c : every_method()) {
        SCOPED_TRACE(c.name);
        const View<const complex64> start_a = c.drop_probe ? View<const complex64>() : a.probe.view();
        const View<const complex64> start_b = c.drop_probe ? View<const complex64>() : b.probe.view();
        Reconstructor reused(a, c.options);
        Array<complex64> oa(reused.object_shape()), pa(reused.probe_shape());
        Array<complex64> ob(reused.object_shape()), pb(reused.probe_shape());
        reused.reconstruct(a.intensities, a.mask, start_a, oa, pa);
        const ReconInfo reused_info = reused.reconstruct(b.intensities, b.mask, start_b, ob, pb);
        Reconstructor fresh(b, c.options);
        Array<complex64> of(fresh.object_shape()), pf(fresh.probe_shape());
        const ReconInfo fresh_info = fresh.reconstruct(b.intensities, b.mask, start_b, of, pf);
        EXPECT_TRUE(test::same_bits(ob, of));
        EXPECT_TRUE(test::same_bits(pb, pf));
        EXPECT_EQ(reused_info.residual.ratio(), fresh_info.residual.ratio());
        EXPECT_FALSE(test::same_bits(oa, ob));  // the measurements differ
    }
}

TEST(PtychoPlan, RefusesViewsOfTheWrongShapeOrDevice) {
    const Scan s = small_scan(1e5);
    ReconOptions o;
    o.iterations = 1;
    Reconstructor plan(s, o);
    const Shape frame = plan.probe_shape();
    Array<complex64> object(plan.object_shape()), probe(frame);
    Array<complex64> wrong_probe(Shape{frame[0] + 1, frame[1]});
    Array<complex64> wrong_object(Shape{plan.object_shape()[0], plan.object_shape()[1] + 2});
    Array<float> wrong_mask(Shape{frame[0], frame[1] + 1});
    const View<const float> fewer_frames = s.intensities.view().items(0, s.n_positions() - 1);
    auto field = [](const std::function<void()>& f) { return test::error_field(ErrorCode::bad_input, f); };
    EXPECT_EQ(field([&] { plan.reconstruct(fewer_frames, s.mask, s.probe, object, probe); }), "intensities");
    EXPECT_EQ(field([&] { plan.reconstruct(s.intensities, wrong_mask, s.probe, object, probe); }), "mask");
    EXPECT_EQ(field([&] { plan.reconstruct(s.intensities, s.mask, wrong_probe, object, probe); }), "initial_probe");
    EXPECT_EQ(field([&] { plan.reconstruct(s.intensities, s.mask, s.probe, wrong_object, probe); }), "object");
    EXPECT_EQ(field([&] { plan.reconstruct(s.intensities, s.mask, s.probe, object, wrong_probe); }), "probe");
    if (!cuda_available()) {
        const View<complex64> device_object(object.data(), object.shape(), Device::cuda);
        EXPECT_EQ(test::error_field(ErrorCode::no_gpu,
                                    [&] { plan.reconstruct(s.intensities, s.mask, s.probe, device_object, probe); }),
                  "object");
    }
    ReconOptions bad;
    bad.batch = -1;
    EXPECT_EQ(test::invalid_option_field([&] { Reconstructor(s, bad); }), "ReconOptions.batch");
}
