// Per-view world frames shared by the projector set-up and the analytic phantom projection.
#pragma once

#include <cmath>

#include "lumen/ct/geometry.hpp"

namespace lumen::detail::ct {

struct V3 {
    double x, y, z;
};
inline V3 operator+(V3 a, V3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline V3 operator*(double s, V3 a) { return {s * a.x, s * a.y, s * a.z}; }
inline double dot(V3 a, V3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

// One view in world coordinates (mm): the source (cone), the beam direction (central ray, unit),
// where the central ray meets the detector (cone) or the origin (parallel), and the detector's
// unit axes. See include/lumen/ct/geometry.hpp for the conventions.
struct ViewFrame {
    V3 source, beam, centre, eu, ev;
};

inline ViewFrame frame_of(const lumen::ct::Geometry& g, double theta) {
    const double s = std::sin(theta), c = std::cos(theta);
    ViewFrame f;
    f.beam = {-s, c, 0.0};
    f.eu = {c, s, 0.0};
    f.ev = {0.0, 0.0, 1.0};
    if (g.type == lumen::ct::BeamType::cone) {
        f.source = {g.dso * s, -g.dso * c, 0.0};
        f.centre = f.source + g.dsd * f.beam;
    } else {
        f.source = {0.0, 0.0, 0.0};
        f.centre = {0.0, 0.0, 0.0};
    }
    return f;
}

// The centre of detector pixel (0, 0) of a view.
inline V3 first_pixel(const lumen::ct::Geometry& g, const ViewFrame& f) {
    const double u0 = g.offset_u - 0.5 * double(g.nu - 1) * g.du;
    const double v0 = g.offset_v - 0.5 * double(g.nv - 1) * g.dv;
    return f.centre + u0 * f.eu + v0 * f.ev;
}

}  // namespace lumen::detail::ct
