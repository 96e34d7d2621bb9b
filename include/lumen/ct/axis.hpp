// The rotation axis and the consistency of opposing views (docs/ct.md, "Rotation axis and
// consistency checks"). Real scans rarely say where the rotation axis projects onto the detector;
// with the axis assumed central every edge doubles. Opposing rays (kernels/ct/consistency.hpp)
// must agree: the axis is the detector offset where they agree best, and a cone-beam scan whose
// rotation direction or u axis is mirrored relative to the geometry disagrees at every offset.
#pragma once

#include <string>

#include "lumen/core/array.hpp"
#include "lumen/ct/scan.hpp"

namespace lumen::ct {

// How well opposing rays agree for one offset_u.
struct OpposingFit {
    double offset_u = 0.0;    // mm, lumen's offset_u (the axis projects at u = 0)
    double column = 0.0;      // the axis's detector column (0-based, lumen's frame)
    double mismatch = 0.0;    // sum (p - p')^2 / sum (p^2 + p'^2): 0 for perfect agreement
    double chi2 = 0.0;        // mean (p - p')^2 / (var + var'): about 1 when only noise differs (counts)
    index_t pairs = 0;        // rays compared (each pair counted from both ends)
};

// The rows compared: every row of a parallel beam (at most 16, evenly spaced), the mid-plane row
// (v = 0, interpolated) of a cone beam. `line_integrals` and `variance` (may be empty) are
// [n_angles][nv][nu] on the host.
OpposingFit opposing_fit(const Geometry& geometry, const Array<float>& line_integrals, const Array<float>& variance,
                         double offset_u);

// The detector rows opposing_fit and resolve_axis read (the hull of the rows compared and their
// interpolation's next rows): a scan holding only these (ReadOptions::rows) is enough to resolve its
// axis, as a distributed FDK does (docs/scaling.md).
DetectorRows axis_rows(const Geometry& geometry);

// Searches offset_u over the middle half of the detector (1 pixel steps, then 0.05 pixel, then a
// parabola). pairs == 0 when the views hold no opposing rays (less than 180 degrees plus the fan).
OpposingFit estimate_axis(const Geometry& geometry, const Array<float>& line_integrals, const Array<float>& variance);

// What resolve_axis did, for `info`, the summary and the output's attributes.
struct AxisReport {
    std::string source;        // "file" (geometry/option), "estimated", or "unchecked" (no opposing rays)
    double column = 0.0;       // the axis column used, counting the file's columns (as ReadOptions::centre_column does)
    double offset_u = 0.0;     // mm, the offset used
    OpposingFit used;          // the fit at the offset used (column: the file's numbering)
    OpposingFit best;          // the best offset found (pairs == 0: none; column: the file's numbering)
    double alternative_mismatch = -1.0;  // cone beam: best mismatch with the rotation reversed (-1: not tried)
};

// Estimates the axis when the scan does not give one (scan.axis_given false) and sets
// scan.geometry.offset_u; then reports the checks (lumen/core/checks.hpp):
//   ct.rotation_axis   the axis used; warns when the file's axis is more than 1 pixel from where
//                      opposing views agree best
//   ct.opposing_views  warns when opposing views agree much better (3x) with the rotation reversed
//                      (equivalently a mirrored u axis): cone beam only, parallel beam cannot tell;
//                      and, for either beam, when they differ by more than 10x the Poisson noise
//                      at the axis used (the geometry does not describe the data)
// `transmission` is the scan's normalised intensities on the host (of the rows the scan holds,
// which must include axis_rows).
AxisReport resolve_axis(Scan& scan, const Array<float>& transmission);

}  // namespace lumen::ct
