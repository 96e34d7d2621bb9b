// Opposing rays of a circular scan (docs/ct.md, "Rotation axis and consistency"): in lumen's
// geometry the ray at detector coordinate u from angle beta is the ray at -u from
// beta + pi - 2 gamma, gamma = atan(u / dsd) (gamma = 0 for parallel beam), exactly for the
// mid-plane row of a cone beam and for every row of a parallel beam. Comparing each measured ray
// with its opposite (interpolated in angle and column) measures how well the data agree with the
// geometry: the rotation axis (offset_u) is where they agree best, and a wrong rotation direction
// or a mirrored u axis makes cone-beam rays disagree everywhere.
#pragma once

#include <math.h>

#include "kernels/common/kernel.hpp"

namespace lumen::kern::ct {

// Sums over ray pairs: squared difference, the pair's energy (for a scale-free mismatch), the
// squared difference over its noise variance, and the number of pairs.
struct PairSums {
    double sq = 0, energy = 0, chi = 0, count = 0;
};
struct PairSumOp {
    static LUMEN_HD PairSums identity() { return PairSums{}; }
    LUMEN_HD PairSums operator()(const PairSums& a, const PairSums& b) const {
        return PairSums{a.sq + b.sq, a.energy + b.energy, a.chi + b.chi, a.count + b.count};
    }
};

// One ray (view, row r, column j) of `rows` [views][nr][nu] (line integrals) against its opposite.
// `sorted` holds the angles reduced into [sorted[0], sorted[0] + 2 pi) in increasing order and
// `order` their views; `full` lets the interpolation wrap around; an opposite angle within
// `edge_tol` beyond either end uses the end view, larger gaps than `max_gap` are skipped.
struct OpposingRayF {
    const float* rows;
    const float* var;  // same layout, or null: chi stays 0
    const double* angles;
    const double* sorted;
    const index_t* order;
    const index_t* compared;  // the views compared with their opposites (index i runs over these)
    index_t views, nr, nu;
    bool full;
    double max_gap, edge_tol;
    double offset_u, du, dsd;  // dsd <= 0: parallel beam

    LUMEN_HD float at(index_t view, index_t r, double col, float* v) const {
        const index_t j0 = index_t(floor(col));
        const index_t j1 = j0 + 1 < nu ? j0 + 1 : j0;
        const double w = col - double(j0);
        const index_t base = (view * nr + r) * nu;
        if (var) *v = float((1 - w) * var[base + j0] + w * var[base + j1]);
        return float((1 - w) * rows[base + j0] + w * rows[base + j1]);
    }

    LUMEN_HD PairSums operator()(index_t i) const {
        PairSums s;
        const index_t j = i % nu, r = (i / nu) % nr, view = compared[i / (nu * nr)];
        const double centre = 0.5 * double(nu - 1);
        const double u = offset_u + (double(j) - centre) * du;
        const double gamma = dsd > 0 ? atan(u / dsd) : 0.0;
        const double two_pi = 2.0 * kPi;
        double b = angles[view] + 0.5 * two_pi - 2.0 * gamma;
        b = sorted[0] + fmod(fmod(b - sorted[0], two_pi) + two_pi, two_pi);
        const double col = (-u - offset_u) / du + centre;
        if (!(col >= 0.0 && col <= double(nu - 1))) return s;
        // Bracket b between sorted views k0 <= k1 (weight w on k1).
        index_t k0, k1;
        double w;
        const double last = sorted[views - 1];
        if (b >= last) {
            if (b - last <= edge_tol) {
                k0 = k1 = views - 1;
                w = 0;
            } else if (sorted[0] + two_pi - b <= edge_tol) {
                k0 = k1 = 0;
                w = 0;
            } else if (full && sorted[0] + two_pi - last <= max_gap) {
                k0 = views - 1;
                k1 = 0;
                w = (b - last) / (sorted[0] + two_pi - last);
            } else {
                return s;
            }
        } else {
            index_t lo = 0, hi = views - 1;  // sorted[lo] <= b < sorted[hi]
            while (hi - lo > 1) {
                const index_t mid = (lo + hi) / 2;
                if (sorted[mid] <= b) lo = mid;
                else hi = mid;
            }
            if (sorted[hi] - sorted[lo] > max_gap) return s;
            k0 = lo;
            k1 = hi;
            w = (b - sorted[lo]) / (sorted[hi] - sorted[lo]);
        }
        float v0 = 0, v1 = 0;
        const float p0 = at(order[k0], r, col, &v0);
        const float p1 = at(order[k1], r, col, &v1);
        const double opposite = (1 - w) * p0 + w * p1;
        const index_t self = (view * nr + r) * nu + j;
        const double d = double(rows[self]) - opposite;
        if (var) {
            // Rays without signal (infinite variance) say nothing: skip the pair.
            const double total = double(var[self]) + (1 - w) * v0 + w * v1;
            if (!(total > 0 && total < INFINITY)) return s;
            s.chi = d * d / total;
        }
        s.sq = d * d;
        s.energy = double(rows[self]) * rows[self] + opposite * opposite;
        s.count = 1;
        return s;
    }
};

}  // namespace lumen::kern::ct
