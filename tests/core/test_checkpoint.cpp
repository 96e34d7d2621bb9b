// Checkpoints in memory (issue #10; lumen/core/progress.hpp): every iterative CT and
// ptychography method, stopped at an iteration by a requested stop and started again from the
// state it saved there, ends bitwise where an uninterrupted run ends (the CPU path runs the same
// operations on the same values: static OpenMP splits, FFTW_ESTIMATE plans).
#include <cstring>
#include <string>
#include <vector>

#include "lumen/ct/recon.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

template <class T>
bool bitwise_equal(const Array<T>& a, const Array<T>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(T)) == 0;
}

// Runs `recon` three ways: uninterrupted; stopped by a requested stop after iteration `stop_at`
// (saving its state); resumed from that state. Returns {uninterrupted, resumed} results and the
// saved state's stop reason through the callbacks.
struct Runs {
    SolverState saved;
    std::string stopped_reason;
    int saves = 0;
};

const ct::Scan& ct_scan() {
    static const ct::Scan s = [] {
        ct::SimulationOptions o;
        o.size = 16;
        o.views = 24;
        o.seed = 5;
        return ct::simulate(o, Device::cpu);
    }();
    return s;
}

ct::ReconOptions ct_options(ct::Method m) {
    ct::ReconOptions o;
    o.method = m;
    o.iterations = 12;
    o.stop = ct::Stop::iterations;
    o.cgls_restart = 5;  // the stop at 7 falls inside the second cycle
    o.tv_inner = 2;
    o.power_iterations = 5;
    return o;
}

class CtCheckpoint : public ::testing::TestWithParam<ct::Method> {};

TEST_P(CtCheckpoint, ResumedRunEqualsUninterruptedBitwise) {
    const ct::Method m = GetParam();
    const ct::ReconResult full = ct::reconstruct(ct_scan(), ct_options(m));

    constexpr int stop_at = 7;
    Runs runs;
    ct::ReconOptions first = ct_options(m);
    int seen = 0;
    first.progress = [&](const ProgressInfo& p) {
        seen = p.iteration.iteration;
        return true;
    };
    first.checkpoint.stop_requested = [&] { return seen == stop_at; };
    first.checkpoint.save = [&](const SolverState& s) {
        runs.saved = s;
        ++runs.saves;
    };
    const ct::ReconResult stopped = ct::reconstruct(ct_scan(), first);
    EXPECT_EQ(stopped.solver.stop_reason, "interrupted");
    ASSERT_EQ(runs.saves, 1);
    EXPECT_EQ(runs.saved.iteration, stop_at);
    EXPECT_EQ(runs.saved.method, std::string("ct.") + ct::method_name(m));
    ASSERT_EQ(runs.saved.history.size(), std::size_t(stop_at));

    ct::ReconOptions second = ct_options(m);
    second.checkpoint.resume = &runs.saved;
    const ct::ReconResult resumed = ct::reconstruct(ct_scan(), second);
    EXPECT_EQ(resumed.solver.iterations, full.solver.iterations);
    EXPECT_TRUE(bitwise_equal(resumed.volume, full.volume))
        << ct::method_name(m) << ": max relative difference "
        << test::max_rel_diff(resumed.volume.view(), full.volume.view());
    ASSERT_EQ(resumed.solver.history.size(), full.solver.history.size());
    for (std::size_t i = 0; i < full.solver.history.size(); ++i)
        EXPECT_EQ(resumed.solver.history[i].objective, full.solver.history[i].objective) << "iteration " << i + 1;
}

TEST_P(CtCheckpoint, EveryNSavesAtTheMultiplesAndChangesNothing) {
    const ct::Method m = GetParam();
    const ct::ReconResult full = ct::reconstruct(ct_scan(), ct_options(m));
    ct::ReconOptions o = ct_options(m);
    std::vector<int> saved_at;
    o.checkpoint.every = 4;
    o.checkpoint.save = [&](const SolverState& s) { saved_at.push_back(s.iteration); };
    const ct::ReconResult r = ct::reconstruct(ct_scan(), o);
    EXPECT_EQ(saved_at, (std::vector<int>{4, 8, 12}));
    EXPECT_TRUE(bitwise_equal(r.volume, full.volume));
}

TEST(CtCheckpointRefusal, StateOfAnotherMethodIsRefused) {
    SolverState s;
    s.method = "ct.sirt";
    s.iteration = 3;
    ct::ReconOptions o = ct_options(ct::Method::cgls);
    o.checkpoint.resume = &s;
    try {
        ct::reconstruct(ct_scan(), o);
        FAIL() << "a sirt state resumed by cgls";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ct.sirt"), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Methods, CtCheckpoint,
                         ::testing::Values(ct::Method::sirt, ct::Method::cgls, ct::Method::tv, ct::Method::nonlinear),
                         [](const ::testing::TestParamInfo<ct::Method>& i) { return std::string(ct::method_name(i.param)); });

// ---- ptychography

const ptycho::Scan& ptycho_scan() {
    static const ptycho::Scan s = [] {
        ptycho::SimulationOptions o;
        o.frame = 16;
        o.positions = 25;
        o.photons = 1e5;
        o.poisson = false;
        o.seed = 4;
        return ptycho::simulate(o);
    }();
    return s;
}

ptycho::ReconOptions ptycho_options(ptycho::Method m) {
    ptycho::ReconOptions o;
    o.method = m;
    o.iterations = 10;
    o.refine_probe = true;
    o.probe_delay = 4;  // AWF/WF: two phases; the stops below fall in each
    return o;
}

struct PtychoCase {
    ptycho::Method method;
    int stop_at;
};

class PtychoCheckpoint : public ::testing::TestWithParam<PtychoCase> {};

TEST_P(PtychoCheckpoint, ResumedRunEqualsUninterruptedBitwise) {
    const PtychoCase c = GetParam();
    const ptycho::ReconResult full = ptycho::reconstruct(ptycho_scan(), ptycho_options(c.method));
    Runs runs;
    ptycho::ReconOptions first = ptycho_options(c.method);
    int seen = 0;
    first.progress = [&](const ProgressInfo& p) {
        seen = p.iteration.iteration;
        return true;
    };
    first.checkpoint.stop_requested = [&] { return seen == c.stop_at; };
    first.checkpoint.save = [&](const SolverState& s) {
        runs.saved = s;
        ++runs.saves;
    };
    const ptycho::ReconResult stopped = ptycho::reconstruct(ptycho_scan(), first);
    EXPECT_EQ(stopped.solver.stop_reason, "interrupted");
    ASSERT_EQ(runs.saves, 1);
    EXPECT_EQ(runs.saved.iteration, c.stop_at);

    ptycho::ReconOptions second = ptycho_options(c.method);
    second.checkpoint.resume = &runs.saved;
    const ptycho::ReconResult resumed = ptycho::reconstruct(ptycho_scan(), second);
    EXPECT_TRUE(bitwise_equal(resumed.object, full.object))
        << "object: max relative difference " << test::max_rel_diff(resumed.object.view(), full.object.view());
    EXPECT_TRUE(bitwise_equal(resumed.probe, full.probe))
        << "probe: max relative difference " << test::max_rel_diff(resumed.probe.view(), full.probe.view());
    ASSERT_EQ(resumed.solver.history.size(), full.solver.history.size());
    for (std::size_t i = 0; i < full.solver.history.size(); ++i)
        EXPECT_EQ(resumed.solver.history[i].objective, full.solver.history[i].objective) << "iteration " << i + 1;
}

INSTANTIATE_TEST_SUITE_P(Methods, PtychoCheckpoint,
                         ::testing::Values(PtychoCase{ptycho::Method::awf, 2}, PtychoCase{ptycho::Method::awf, 4},
                                           PtychoCase{ptycho::Method::awf, 7}, PtychoCase{ptycho::Method::wf, 6},
                                           PtychoCase{ptycho::Method::epie, 3}, PtychoCase{ptycho::Method::rpie, 6}),
                         [](const ::testing::TestParamInfo<PtychoCase>& i) {
                             return std::string(ptycho::method_name(i.param.method)) + "_at_" +
                                    std::to_string(i.param.stop_at);
                         });

}  // namespace
