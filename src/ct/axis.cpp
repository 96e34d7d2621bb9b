// The rotation axis and the opposing-view checks (include/lumen/ct/axis.hpp); the per-ray
// comparison is kern::ct::OpposingRayF.
#include "lumen/ct/axis.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/ct/consistency.hpp"
#include "lumen/core/checks.hpp"
#include "lumen/ct/fdk.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::num;

// The rows compared and the sorted angles, prepared once for many offsets.
struct Prepared {
    std::vector<float> rows, var;  // [views][nr][nu]
    index_t nr = 0;
    std::vector<double> sorted;
    std::vector<index_t> order;
    bool full = false;
    double max_gap = 0, edge_tol = 0;
    std::vector<index_t> compared;  // views that have opposites (at most about 400 x rows)
};

// The fractional detector rows compared.
std::vector<double> compared_rows(const Geometry& g) {
    const index_t nv = g.nv;
    std::vector<double> rows_at;
    if (g.type == BeamType::parallel) {
        const index_t nr = std::min<index_t>(nv, 16);
        for (index_t k = 0; k < nr; ++k) rows_at.push_back(nr == 1 ? 0.5 * double(nv - 1) : double(k) * double(nv - 1) / double(nr - 1));
    } else {
        // Only the mid-plane (v = 0) has exactly opposing rays in a circular cone beam.
        const double mid = 0.5 * double(nv - 1) - g.offset_v / g.dv;
        if (mid >= 0 && mid <= double(nv - 1)) rows_at.push_back(mid);
    }
    return rows_at;
}

// b and var hold detector rows [row_first, row_first + held) of every view (held < 0: all).
Prepared prepare(const Geometry& g, const Array<float>& b, const Array<float>& var, index_t row_first = 0,
                 index_t held = -1) {
    Prepared p;
    const index_t views = g.n_angles(), nv = g.nv, nu = g.nu;
    if (held < 0) held = nv;
    const std::vector<double> rows_at = compared_rows(g);  // fractional detector rows
    p.nr = index_t(rows_at.size());
    if (p.nr == 0 || views < 2) return p;
    const DetectorRows need = axis_rows(g);
    require(need.first >= row_first && need.end() <= row_first + held,
            "rotation axis check: detector rows [" + std::to_string(need.first) + ", " + std::to_string(need.end()) +
                ") are compared but rows [" + std::to_string(row_first) + ", " + std::to_string(row_first + held) +
                ") were read");
    p.rows.resize(std::size_t(views * p.nr * nu));
    if (!var.empty()) p.var.resize(p.rows.size());
    for (index_t v = 0; v < views; ++v)
        for (index_t k = 0; k < p.nr; ++k) {
            const index_t r0 = index_t(std::floor(rows_at[std::size_t(k)]));
            const index_t r1 = std::min(r0 + 1, nv - 1);
            const double w = rows_at[std::size_t(k)] - double(r0);
            for (index_t j = 0; j < nu; ++j) {
                const index_t a = (v * held + r0 - row_first) * nu + j, c = (v * held + r1 - row_first) * nu + j,
                              o = (v * p.nr + k) * nu + j;
                p.rows[std::size_t(o)] = float((1 - w) * b[a] + w * b[c]);
                if (!var.empty()) p.var[std::size_t(o)] = float((1 - w) * var[a] + w * var[c]);
            }
        }
    // Angles reduced into [min, min + 2 pi), sorted.
    const double lo = *std::min_element(g.angles.begin(), g.angles.end());
    std::vector<double> reduced(g.angles.size());
    for (std::size_t i = 0; i < reduced.size(); ++i)
        reduced[i] = lo + std::fmod(std::fmod(g.angles[i] - lo, 2 * kPi) + 2 * kPi, 2 * kPi);
    p.order.resize(reduced.size());
    std::iota(p.order.begin(), p.order.end(), index_t(0));
    std::sort(p.order.begin(), p.order.end(), [&](index_t a, index_t c) { return reduced[std::size_t(a)] < reduced[std::size_t(c)]; });
    for (index_t i : p.order) p.sorted.push_back(reduced[std::size_t(i)]);
    const double step = angular_coverage(g.angles) / double(views);
    p.full = is_full_scan(g.angles);
    // A 180-degree parallel scan of n views ends one step short of the opposite of its first view
    // (TomoPy's tooth: 0 to 179 degrees): within a step, the end view stands in for it.
    p.edge_tol = 1.01 * step;
    p.max_gap = 2.5 * step;
    // Views that can have an opposite: all of a cone beam's (the fan widens the opposite angles),
    // for a parallel beam those whose view + 180 degrees was measured (2 of TomoPy's tooth's 181).
    std::vector<index_t> candidates;
    for (index_t v = 0; v < views; ++v) {
        if (g.type == BeamType::cone || p.full) {
            candidates.push_back(v);
            continue;
        }
        const double b = lo + std::fmod(std::fmod(g.angles[std::size_t(v)] + kPi - lo, 2 * kPi) + 2 * kPi, 2 * kPi);
        const double last = p.sorted.back();
        if (b <= last + p.edge_tol || p.sorted.front() + 2 * kPi - b <= p.edge_tol) candidates.push_back(v);
    }
    // At most about 400 views x rows compared per offset: the search stays well under a second.
    const std::size_t stride = std::max<std::size_t>(1, (candidates.size() * std::size_t(p.nr) + 399) / 400);
    for (std::size_t i = 0; i < candidates.size(); i += stride) p.compared.push_back(candidates[i]);
    return p;
}

OpposingFit fit_at(const Geometry& g, const Prepared& p, double offset_u) {
    OpposingFit f;
    f.offset_u = offset_u;
    f.column = 0.5 * double(g.nu - 1) - offset_u / g.du;
    if (p.nr == 0 || p.compared.empty()) return f;
    const index_t compared = index_t(p.compared.size());
    const kern::ct::OpposingRayF ray{p.rows.data(), p.var.empty() ? nullptr : p.var.data(), g.angles.data(),
                                     p.sorted.data(), p.order.data(), p.compared.data(), g.n_angles(), p.nr, g.nu, p.full,
                                     p.max_gap, p.edge_tol, offset_u, g.du,
                                     g.type == BeamType::cone ? g.dsd : 0.0};
    const kern::ct::PairSums s =
        detail::reduce<kern::ct::PairSums>(Device::cpu, compared * p.nr * g.nu, ray, kern::ct::PairSumOp{});
    f.pairs = index_t(s.count);
    f.mismatch = s.energy > 0 ? s.sq / s.energy : (s.count > 0 ? 0.0 : 1.0);
    f.chi2 = s.count > 0 ? s.chi / s.count : 0.0;
    return f;
}

// Rays without enough opposite partners (an offset near the detector's edge) do not count as a fit.
bool usable(const OpposingFit& f, index_t most) { return f.pairs > 0 && f.pairs * 4 >= most; }

OpposingFit search(const Geometry& g, const Prepared& p) {
    const double centre = 0.5 * double(g.nu - 1);
    auto at_column = [&](double c) { return fit_at(g, p, (centre - c) * g.du); };
    const double half = 0.25 * double(g.nu);
    const double coarse = std::max(1.0, double(g.nu) / 512.0);
    std::vector<OpposingFit> fits;
    index_t most = 0;
    for (double c = centre - half; c <= centre + half + 1e-9; c += coarse) {
        fits.push_back(at_column(c));
        most = std::max(most, fits.back().pairs);
    }
    OpposingFit best;
    for (const OpposingFit& f : fits)
        if (usable(f, most) && (best.pairs == 0 || f.mismatch < best.mismatch)) best = f;
    if (best.pairs == 0) return best;
    // Refine around the coarse minimum, then a parabola through the finest neighbours.
    const double c0 = best.column, h = 0.05;
    std::vector<OpposingFit> fine;
    for (double d = -coarse; d <= coarse + 1e-9; d += h) fine.push_back(at_column(c0 + d));
    std::size_t k = 0;
    for (std::size_t i = 0; i < fine.size(); ++i)
        if (usable(fine[i], most) && fine[i].mismatch < fine[k].mismatch) k = i;
    best = fine[k];
    if (k > 0 && k + 1 < fine.size()) {
        const double a = fine[k - 1].mismatch, b = best.mismatch, c = fine[k + 1].mismatch;
        const double denom = a - 2 * b + c;
        if (denom > 0) {
            const double shift = 0.5 * (a - c) / denom;
            if (std::abs(shift) <= 1.0) best = at_column(best.column + shift * h);
        }
    }
    return best;
}

}  // namespace

DetectorRows axis_rows(const Geometry& g) {
    const std::vector<double> rows_at = compared_rows(g);
    if (rows_at.empty()) return {0, std::min<index_t>(g.nv, 1)};
    index_t lo = g.nv, hi = 0;
    for (double r : rows_at) {
        const index_t r0 = index_t(std::floor(r));
        lo = std::min(lo, r0);
        hi = std::max(hi, std::min(r0 + 1, g.nv - 1) + 1);
    }
    return {lo, hi - lo};
}

OpposingFit opposing_fit(const Geometry& g, const Array<float>& b, const Array<float>& var, double offset_u) {
    return fit_at(g, prepare(g, b, var), offset_u);
}

OpposingFit estimate_axis(const Geometry& g, const Array<float>& b, const Array<float>& var) {
    return search(g, prepare(g, b, var));
}

AxisReport resolve_axis(Scan& scan, const Array<float>& t) {
    Geometry& g = scan.geometry;
    require(t.shape() == scan.held_shape(), "resolve_axis: transmission does not match the scan's rows");
    // Line integrals for comparison only: rays without signal are clamped and have infinite
    // variance, so they drop out.
    Array<float> b(t.shape());
    for (index_t i = 0; i < t.size(); ++i) b[i] = -std::log(std::max(t[i], 1e-6f));
    const Array<float> var = line_integral_variance(scan);
    const Prepared p = prepare(g, b, var, scan.row_first, scan.rows());
    AxisReport rep;
    rep.best = search(g, p);
    const double middle = 0.5 * double(g.nu - 1);
    const std::string coverage = num(angular_coverage(g.angles) * 180.0 / kPi) + " deg";
    // Columns shown to the user count the file's columns, as ReadOptions::centre_column does.
    auto file_column = [&](double c) { return scan.flip_u ? double(g.nu - 1) - c : c; };
    auto col = [&](double c) { return num(std::round(file_column(c) * 100.0) / 100.0); };

    if (!scan.axis_given) {
        if (rep.best.pairs == 0) {
            rep.source = "unchecked";
            warn("ct.rotation_axis", "the geometry does not place the rotation axis and the views (" + coverage +
                                         ") hold no opposing rays to find it: assuming the detector's middle "
                                         "(column " + col(middle) + "); set ReadOptions.centre_column if it is elsewhere");
        } else {
            rep.source = "estimated";
            g.offset_u = rep.best.offset_u;
            report_check("ct.rotation_axis", true,
                         "the geometry does not place the rotation axis: estimated at detector column " +
                             col(rep.best.column) + " (middle " + col(middle) + ") from opposing views; override with "
                             "ReadOptions.centre_column");
        }
    } else {
        rep.source = "file";
        const OpposingFit given = fit_at(g, p, g.offset_u);
        const bool off = rep.best.pairs > 0 && std::abs(rep.best.column - given.column) > 1.0 &&
                         rep.best.mismatch < 0.7 * given.mismatch;
        if (off)
            warn("ct.rotation_axis", "the geometry places the rotation axis at detector column " + col(given.column) +
                                         " but opposing views agree best at column " + col(rep.best.column) +
                                         " (mismatch " + num(given.mismatch) + " vs " + num(rep.best.mismatch) +
                                         "); set ReadOptions.centre_column to " + col(rep.best.column) +
                                         " or ReadOptions.estimate_centre");
        else
            report_check("ct.rotation_axis", true,
                         "rotation axis at detector column " + col(given.column) +
                             (rep.best.pairs > 0 ? ", where opposing views agree (best " + col(rep.best.column) + ")"
                                                 : " (not checked: no opposing rays)"));
    }
    rep.offset_u = g.offset_u;
    rep.used = fit_at(g, p, g.offset_u);

    // Well above the noise even at the best offset: the geometry does not describe the data.
    // Measured: 0.5 on simulated scans (the opposite is interpolated from two views, which halves
    // its variance), 2.1 on the TomoPy tooth (its last view is 1 degree short of opposite), 19 for
    // a simulated full turn stored as 324 degrees, 43 for one read with the rotation reversed.
    constexpr double k_chi2_warn = 10.0;
    const bool inconsistent = rep.used.pairs > 0 && rep.used.chi2 > k_chi2_warn;
    const std::string inconsistent_text =
        "opposing views disagree by " + num(rep.used.chi2) + " x the Poisson noise (mismatch " +
        num(rep.used.mismatch) + ", " + std::to_string(rep.used.pairs) +
        " rays): the geometry does not describe the data (distances, pixel pitch, angles, the axis), or "
        "the data are not photon counts";
    if (rep.used.pairs == 0) {
        report_check("ct.opposing_views", true,
                     "not checked: the views (" + coverage + ") hold no opposing rays (a check needs 180 deg plus the fan)");
    } else if (g.type == BeamType::parallel) {
        if (inconsistent) warn("ct.opposing_views", inconsistent_text);
        else report_check("ct.opposing_views", true,
                     "opposing views agree: mismatch " + num(rep.used.mismatch) + ", " + num(rep.used.chi2) +
                         " x the Poisson noise (" + std::to_string(rep.used.pairs) + " rays); a parallel beam cannot "
                         "show a reversed rotation or a mirrored u axis (either only mirrors the image)");
    } else {
        Geometry reversed = g;
        for (double& a : reversed.angles) a = -a;
        const OpposingFit alt = search(reversed, prepare(reversed, b, var, scan.row_first, scan.rows()));
        rep.alternative_mismatch = alt.pairs > 0 ? alt.mismatch : -1.0;
        if (alt.pairs > 0 && 3.0 * alt.mismatch < rep.used.mismatch)
            warn("ct.opposing_views",
                 "opposing views disagree with the geometry (mismatch " + num(rep.used.mismatch) + ", " +
                     num(rep.used.chi2) + " x the Poisson noise) but agree with the rotation reversed (mismatch " +
                     num(alt.mismatch) + "): the scan turns clockwise or its u axis is mirrored. Reconstruct with "
                     "ReadOptions.clockwise (or ReadOptions.flip_u, which gives the mirror image)");
        else if (inconsistent)
            warn("ct.opposing_views", inconsistent_text);
        else
            report_check("ct.opposing_views", true,
                         "opposing views agree with the geometry: mismatch " + num(rep.used.mismatch) + " (reversed "
                         "rotation: " + (alt.pairs > 0 ? num(alt.mismatch) : std::string("n/a")) + "), " +
                             num(rep.used.chi2) + " x the Poisson noise (" + std::to_string(rep.used.pairs) + " rays)");
    }
    rep.column = file_column(middle - g.offset_u / g.du);
    rep.used.column = file_column(rep.used.column);
    if (rep.best.pairs > 0) rep.best.column = file_column(rep.best.column);
    return rep;
}

}  // namespace lumen::ct
