// The density-and-noise sweep of issue 17 on lumen's own simulator: every method with its
// defaults on the metal phantom at several insert densities and count levels, and every iterative
// method's PSNR at each iteration (to find its best iteration count). Used by test_stopping.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "lumen/ct/recon.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/metrics.hpp"

namespace lumen::ct::sweep {

// PSNR (peak = max of the truth) over the voxels farther than two voxels from any voxel of the
// truth above `dense`: the soft tissue where metal streaks show.
inline double psnr_away_from(const Array<float>& truth, View<const float> x, float dense) {
    const index_t nx = truth.dim(2), ny = truth.dim(1), nz = truth.dim(0);
    double peak = 0, se = 0;
    index_t count = 0;
    for (float v : truth) peak = std::max(peak, double(v));
    for (index_t z = 0; z < nz; ++z)
        for (index_t y = 0; y < ny; ++y)
            for (index_t xx = 0; xx < nx; ++xx) {
                bool near = false;
                for (index_t dz = -2; dz <= 2 && !near; ++dz)
                    for (index_t dy = -2; dy <= 2 && !near; ++dy)
                        for (index_t dx = -2; dx <= 2 && !near; ++dx) {
                            const index_t zz = z + dz, yy = y + dy, x2 = xx + dx;
                            if (zz < 0 || yy < 0 || x2 < 0 || zz >= nz || yy >= ny || x2 >= nx) continue;
                            near = truth[(zz * ny + yy) * nx + x2] > dense;
                        }
                if (near) continue;
                const index_t i = (z * ny + y) * nx + xx;
                se += double(x[i] - truth[i]) * double(x[i] - truth[i]);
                ++count;
            }
    return 10.0 * std::log10(peak * peak / (se / double(count)));
}

struct Case {
    double metal_mu;  // attenuation of the inserts per mm
    double i0;        // counts per unattenuated pixel
};

struct Run {
    std::string name;              // "fdk", "sirt", ..., "nonlinear-poisson"
    double whole = 0, away = 0;    // PSNR of the default's result (whole volume / away from inserts)
    int iterations = 0;            // where the default stopped
    std::string stop_reason;
    double best_whole = 0;         // best whole-volume PSNR over iterations 1..cap (iterative methods)
    int best_iteration = 0;
    std::vector<double> whole_per_iteration, misfit_per_iteration;  // of the run past the default
};

struct Options {
    index_t size = 24;
    index_t views = 36;
    int cap_factor = 2;      // the best-count search runs to cap_factor x the default's stop (at least 20)
};

// Runs one case: the default of every method (tv and nonlinear included; the log-based ones with
// the one-photon clamp they need on photon-starved rays), then each iterative method on with the
// rule off, to find its best iteration count.
inline std::vector<Run> run_case(const Case& c, const Options& opt) {
    SimulationOptions so;
    so.size = opt.size;
    so.views = opt.views;
    so.phantom = PhantomKind::metal;
    so.metal_mu = c.metal_mu;
    so.i0 = c.i0;
    const Scan s = simulate(so, Device::cpu);
    std::vector<Run> runs;
    struct M {
        const char* name;
        Method method;
        Objective objective;
    };
    const M methods[] = {{"fdk", Method::fdk, Objective::least_squares},
                         {"sirt", Method::sirt, Objective::least_squares},
                         {"cgls", Method::cgls, Objective::least_squares},
                         {"tv", Method::tv, Objective::least_squares},
                         {"nonlinear", Method::nonlinear, Objective::least_squares},
                         {"nonlinear-poisson", Method::nonlinear, Objective::poisson}};
    for (const M& m : methods) {
        Run r;
        r.name = m.name;
        ReconOptions o;
        o.method = m.method;
        o.objective = m.objective;
        o.min_transmission = 1.0 / c.i0;  // one photon: what the log-based methods need here
        const ReconResult d = reconstruct(s, o);
        double peak = 0;
        for (float v : s.truth) peak = std::max(peak, double(v));
        r.whole = psnr(s.truth, d.volume, peak);
        r.away = psnr_away_from(s.truth, d.volume, 0.1f);
        r.iterations = d.solver.iterations;
        r.stop_reason = d.solver.stop_reason;
        if (m.method != Method::fdk) {
            // The rule stays on with a tau no misfit reaches, so that the misfit of every
            // iteration is recorded.
            ReconOptions all = o;
            all.discrepancy_tau = 1e-12;
            all.iterations = std::max(20, opt.cap_factor * std::max(r.iterations, 1));
            all.inspect = [&](const IterationInfo&, View<const float> x) {
                r.whole_per_iteration.push_back(psnr(s.truth, x, peak));
                return true;
            };
            const ReconResult a = reconstruct(s, all);
            for (const IterationInfo& h : a.solver.history) r.misfit_per_iteration.push_back(h.misfit);
            for (std::size_t k = 0; k < r.whole_per_iteration.size(); ++k)
                if (k == 0 || r.whole_per_iteration[k] > r.best_whole) {
                    r.best_whole = r.whole_per_iteration[k];
                    r.best_iteration = int(k) + 1;
                }
        }
        runs.push_back(std::move(r));
    }
    return runs;
}

inline const Run& find(const std::vector<Run>& runs, const std::string& name) {
    for (const Run& r : runs)
        if (r.name == name) return r;
    return runs.front();
}

// One markdown row per method: "whole / away (iterations, reason; best whole at its best count)".
inline std::string table_row(const Case& c, const std::vector<Run>& runs) {
    char buf[4096];
    int n = std::snprintf(buf, sizeof buf, "| %.2g /mm, %.0e |", c.metal_mu, c.i0);
    for (const Run& r : runs) {
        if (r.name == "fdk")
            n += std::snprintf(buf + n, sizeof buf - std::size_t(n), " %.1f / %.1f |", r.whole, r.away);
        else
            n += std::snprintf(buf + n, sizeof buf - std::size_t(n), " %.1f / %.1f (%d%s; best %.1f at %d) |", r.whole,
                               r.away, r.iterations, r.stop_reason == "discrepancy" ? "" : ", cap", r.best_whole,
                               r.best_iteration);
    }
    return buf;
}

}  // namespace lumen::ct::sweep
