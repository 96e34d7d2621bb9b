// Defaults that need no tuning (issue 17): every iterative CT method stops by the discrepancy
// principle, and with defaults only the density-and-noise sweep holds the claims of the issue.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lumen/ct/run.hpp"
#include "tests/ct/sweep.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {
bool verbose() { return std::getenv("LUMEN_SWEEP_VERBOSE") != nullptr; }

const Scan& noisy_scan() {
    static const Scan s = [] {
        SimulationOptions so;
        so.size = 16;
        so.views = 24;
        so.i0 = 2e3;
        return simulate(so, Device::cpu);
    }();
    return s;
}
}  // namespace

TEST(CtStopping, EveryIterativeMethodStopsOnTheMisfitThatRunReports) {
    // The misfit the rule stops on is the noise-normalised residual that `recon` reports
    // (noise_normalised_residual), here without a model error so that the two are the same sum:
    // measured by the solvers from their residual (sirt, cgls, tv) or by projecting the volume
    // (nonlinear, both objectives).
    const Scan& s = noisy_scan();
    struct M {
        Method method;
        Objective objective;
    };
    for (const M m : {M{Method::sirt, Objective::least_squares}, M{Method::cgls, Objective::least_squares},
                      M{Method::tv, Objective::least_squares}, M{Method::nonlinear, Objective::least_squares},
                      M{Method::nonlinear, Objective::poisson}}) {
        ReconOptions o;
        o.method = m.method;
        o.objective = m.objective;
        o.model_error = 0.0;
        o.cgls_restart = 0;  // the misfit of the last iterate, not of its projection onto x >= 0
        o.iterations = 300;
        const ReconResult r = reconstruct(s, o);
        const std::string what = std::string(method_name(m.method)) + " " + objective_name(m.objective);
        ASSERT_FALSE(r.solver.history.empty()) << what;
        const double last = r.solver.history.back().misfit;
        const double reported = noise_normalised_residual(s, r.volume, Device::cpu);
        EXPECT_NEAR(last, reported, 2e-3 * reported) << what;
        if (r.solver.stop_reason == "discrepancy") {
            EXPECT_LE(last, r.solver.discrepancy_tau) << what;
            if (r.solver.history.size() > 1) {
                EXPECT_GT(r.solver.history[r.solver.history.size() - 2].misfit, r.solver.discrepancy_tau) << what;
            }
        }
        RecordProperty(what + "_iterations", r.solver.iterations);
        RecordProperty(what + "_stop", r.solver.stop_reason);
        // Run exactly as many as asked for with the rule off.
        o.stop = Stop::iterations;
        o.iterations = 3;
        const ReconResult fixed = reconstruct(s, o);
        EXPECT_EQ(fixed.solver.iterations, 3) << what;
        EXPECT_EQ(fixed.solver.stop_reason, "max_iterations") << what;
        EXPECT_TRUE(std::isnan(fixed.solver.history.back().misfit)) << what;
    }
}

TEST(CtStopping, WithoutCountsTheRunStopsAtTheCap) {
    const Scan& s = noisy_scan();
    const Array<float> t = transmission(s, Device::cpu);
    ReconOptions o;
    o.method = Method::cgls;
    o.iterations = 7;
    const ReconResult r = reconstruct(s.geometry, t, o);
    EXPECT_EQ(r.solver.iterations, 7);
    EXPECT_EQ(r.solver.stop_reason, "max_iterations");
    o.method = Method::nonlinear;
    o.objective = Objective::poisson;
    try {
        reconstruct(s.geometry, t, o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ReconOptions.objective: poisson needs the counts"), std::string::npos) << e.what();
    }
    o.objective = Objective::least_squares;
    o.discrepancy_tau = -1.0;
    EXPECT_THROW(reconstruct(s, o), Error);
}

TEST(CtStopping, PoissonGradientMatchesFiniteDifferences) {
    const Scan& s = noisy_scan();
    const Geometry& g = s.geometry;
    const Projector A(g, Device::cpu);
    const CountNoise noise = count_noise(s);
    const Array<float> t = transmission(s, Device::cpu);
    Array<float> x = s.truth.clone();
    for (float& v : x) v = 0.9f * v + 0.001f;
    Array<float> grad(g.volume_shape()), dummy(g.volume_shape()), work(g.projection_shape());
    poisson_loss(A, t, noise.gain, noise.dark, x, grad, work);
    Array<float> d(g.volume_shape());
    for (index_t i = 0; i < d.size(); ++i) d[i] = 0.001f * float((i * 7919) % 13 - 6);
    const double h = 0.05;
    Array<float> xp = x.clone(), xm = x.clone();
    for (index_t i = 0; i < x.size(); ++i) {
        xp[i] += float(h) * d[i];
        xm[i] -= float(h) * d[i];
    }
    const double fp = poisson_loss(A, t, noise.gain, noise.dark, xp, dummy, work);
    const double fm = poisson_loss(A, t, noise.gain, noise.dark, xm, dummy, work);
    double analytic = 0;
    for (index_t i = 0; i < x.size(); ++i) analytic += double(grad[i]) * d[i];
    EXPECT_NEAR(analytic, (fp - fm) / (2 * h), 2e-3 * std::abs(analytic));
    // At the truth the deviance is about half a chi-square per ray: of the order of the rays.
    const double at_truth = poisson_loss(A, t, noise.gain, noise.dark, s.truth, dummy, work);
    EXPECT_GT(at_truth, 0.2 * double(t.size()));
    EXPECT_LT(at_truth, 5.0 * double(t.size()));
}

TEST(CtSweep, Measure) {
    if (!verbose()) GTEST_SKIP() << "set LUMEN_SWEEP_VERBOSE=1 to print the per-iteration figures";
    sweep::Options opt;
    if (const char* n = std::getenv("LUMEN_SWEEP_SIZE")) opt.size = std::atoi(n);
    if (const char* v = std::getenv("LUMEN_SWEEP_VIEWS")) opt.views = std::atoi(v);
    const sweep::Case cases[] = {{0.25, 1e4}, {0.25, 2e3}, {0.5, 1e4}, {1.0, 1e4}, {2.0, 1e4}, {2.0, 2e3}};
    for (const sweep::Case& c : cases) {
        const auto runs = sweep::run_case(c, opt);
        std::printf("%s\n", sweep::table_row(c, runs).c_str());
        for (const sweep::Run& r : runs) {
            if (r.whole_per_iteration.empty()) continue;
            std::printf("  %-18s", r.name.c_str());
            for (std::size_t k = 0; k < r.whole_per_iteration.size(); ++k)
                std::printf(" %zu:%.1f/%.2f", k + 1, r.whole_per_iteration[k], r.misfit_per_iteration[k]);
            std::printf("\n");
        }
        std::fflush(stdout);
    }
}

TEST(CtSweep, MeasureTvWeights) {
    if (!verbose()) GTEST_SKIP() << "set LUMEN_SWEEP_VERBOSE=1 to print the figures";
    for (double i0 : {1e4, 2e3}) {
        SimulationOptions so;
        so.size = 32;
        so.views = 45;
        so.phantom = PhantomKind::metal;
        so.metal_mu = 0.25;
        so.i0 = i0;
        const Scan s = simulate(so, Device::cpu);
        double peak = 0;
        for (float v : s.truth) peak = std::max(peak, double(v));
        const CountNoise noise = count_noise(s);
        double mean_var = 0, mean_b = 0, n = 0;
        const Array<float> t = transmission(s, Device::cpu);
        for (index_t i = 0; i < t.size(); ++i)
            if (std::isfinite(noise.variance[i]) && t[i] > 0) {
                mean_var += noise.variance[i];
                mean_b += -std::log(t[i]);
                n += 1;
            }
        std::printf("i0 %g: rms sigma %.4g, mean b %.4g\n", i0, std::sqrt(mean_var / n), mean_b / n);
        for (double w : {0.001, 0.003, 0.01, 0.03, 0.1}) {
            ReconOptions o;
            o.method = Method::tv;
            o.tv_weight = w;
            o.stop = Stop::iterations;
            o.iterations = 40;
            o.min_transmission = 1.0 / i0;
            std::vector<double> p;
            o.inspect = [&](const IterationInfo&, View<const float> x) {
                p.push_back(psnr(s.truth, x, peak));
                return true;
            };
            const ReconResult r = reconstruct(s, o);
            std::printf("  w %.3g: 10 it %.1f, 20 it %.1f, 40 it %.1f, best %.1f\n", w, p[9], p[19], p[39],
                        *std::max_element(p.begin(), p.end()));
        }
        std::fflush(stdout);
    }
}

TEST(CtSweep, MeasureModelError) {
    if (!verbose()) GTEST_SKIP() << "set LUMEN_SWEEP_VERBOSE=1 to print the figures";
    // The misfit of the truth itself: 1 + the model error's share (voxel model against exact
    // pixel-integrated line integrals), and the model error per ray that this implies.
    const index_t size = std::getenv("LUMEN_SWEEP_SIZE") ? std::atoi(std::getenv("LUMEN_SWEEP_SIZE")) : 32;
    for (double mu : {0.25, 2.0})
        for (double i0 : {1e4, 2e3, 1e5}) {
            SimulationOptions so;
            so.size = size;
            so.views = 45;
            so.phantom = PhantomKind::metal;
            so.metal_mu = mu;
            so.i0 = i0;
            const Scan s = simulate(so, Device::cpu);
            index_t rays = 0;
            const double m = noise_normalised_residual(s, s.truth, Device::cpu, &rays);
            const CountNoise noise = count_noise(s);
            double inv = 0;
            for (float v : noise.variance)
                if (std::isfinite(v) && v > 0) inv += 1.0 / v;
            const double e2 = (m - 1.0) / (inv / double(rays));
            std::printf("mu %.2g i0 %.0e: misfit of the truth %.3f over %lld rays, model error rms %.4g\n", mu, i0, m,
                        (long long)rays, std::sqrt(std::max(e2, 0.0)));
            std::fflush(stdout);
        }
}

namespace {

// The claims of issue 17 on one case, with defaults only (docs/ct.md, "Stopping and defaults":
// the measured table). Measured at 24^3, 36 views, 1e4 counts (whole volume, dB): 0.25 /mm FDK
// 39.7, SIRT 42.2 (50 it., best 42.6), CGLS 40.6 (6, best 40.5), TV 44.0 (10, best 44.0),
// nonlinear 42.5 (15, best 42.8), Poisson 42.4 (11, best 42.8); 2 /mm FDK 39.5, SIRT 42.4 (cap
// 100, best 43.1), CGLS 41.4 (cap 15, best 41.5), TV 43.0 (cap 10, best 43.6), nonlinear 40.9
// (cap 40, best 41.5), Poisson 41.3 (cap 25, best 41.4).
void check_case(const sweep::Case& c, const std::vector<sweep::Run>& runs) {
    const std::string where = std::to_string(c.metal_mu) + " /mm, I0 " + std::to_string(c.i0);
    const double fdk = sweep::find(runs, "fdk").whole;
    const double sirt = sweep::find(runs, "sirt").whole, cgls = sweep::find(runs, "cgls").whole;
    for (const char* nl : {"nonlinear", "nonlinear-poisson"}) {
        const double v = sweep::find(runs, nl).whole;
        EXPECT_GT(v, fdk + 1.0) << nl << " at " << where;
        // At least as good as the best unregularised linearised method on the whole volume: holds
        // at low density only. At 2 /mm SIRT's 100 iterations (and CGLS) are 1 to 1.5 dB better on
        // the whole volume at this size, while the nonlinear method is 3 dB better away from the
        // inserts (the margin checked below); docs/ct.md reports it as not holding.
        if (c.metal_mu <= 0.5) {
            EXPECT_GE(v, std::max({fdk, sirt, cgls}) - 0.3) << nl << " at " << where;
        }
    }
    for (const sweep::Run& r : runs) {
        if (r.name == "fdk") continue;
        EXPECT_GE(r.whole, r.best_whole - 1.0) << r.name << " at " << where << ": default stopped at " << r.iterations
                                               << " (" << r.stop_reason << "), best at " << r.best_iteration;
    }
    EXPECT_GE(cgls, fdk) << where;
}

}  // namespace

TEST(CtSweep, DefaultsNeedNoTuning) {
    // 24^3 from 36 views, metal phantom: the insert density grows at 1e4 counts; LUMEN_CT_SWEEP=full
    // adds 0.5 and 1 /mm and 2e3 counts at both ends (about 3x longer). A minute or more on two
    // cores: run by the ctest entry ct_sweep (label sweep; `ctest -LE sweep` leaves it out).
    if (!std::getenv("LUMEN_CT_SWEEP")) GTEST_SKIP() << "LUMEN_CT_SWEEP=quick or full runs the sweep";
    const bool full = std::string(std::getenv("LUMEN_CT_SWEEP")) == "full";
    std::vector<sweep::Case> cases = {{0.25, 1e4}, {2.0, 1e4}};
    if (full) cases = {{0.25, 1e4}, {0.25, 2e3}, {0.5, 1e4}, {1.0, 1e4}, {2.0, 1e4}, {2.0, 2e3}};
    const sweep::Options opt;
    double previous_margin = -1e9, previous_mu = 0;
    for (const sweep::Case& c : cases) {
        const auto runs = sweep::run_case(c, opt);
        std::printf("%s\n", sweep::table_row(c, runs).c_str());
        check_case(c, runs);
        if (c.i0 == 1e4) {
            // The nonlinear margin away from the inserts over the best linearised method grows with density.
            double best_away = 0;
            for (const char* m : {"fdk", "sirt", "cgls"}) best_away = std::max(best_away, sweep::find(runs, m).away);
            const double margin = sweep::find(runs, "nonlinear").away - best_away;
            RecordProperty("margin_away_" + std::to_string(c.metal_mu), std::to_string(margin));
            // Measured: -0.1 dB at 0.25 /mm, +3.2 dB at 2 /mm.
            if (c.metal_mu > previous_mu && previous_mu > 0) {
                EXPECT_GT(margin, previous_margin + 0.5) << c.metal_mu;
            }
            previous_margin = margin;
            previous_mu = c.metal_mu;
        }
    }
}
