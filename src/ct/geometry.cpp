// CT geometry: validation, description and defaults. Conventions in include/lumen/ct/geometry.hpp.
#include "lumen/ct/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "lumen/core/error.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::num;
}  // namespace

BeamType parse_beam_type(const std::string& text, const std::string& what) {
    if (text == "cone") return BeamType::cone;
    if (text == "parallel") return BeamType::parallel;
    throw Error(ErrorCode::bad_input, what + " is '" + text + "', expected 'cone' or 'parallel'");
}

const char* beam_type_name(BeamType t) noexcept { return t == BeamType::cone ? "cone" : "parallel"; }

double Geometry::magnification() const { return type == BeamType::cone ? dsd / dso : 1.0; }

void Geometry::validate(const std::string& context) const {
    const std::string w = context + ": ";
    auto positive = [&](double v, const char* name) {
        require(std::isfinite(v) && v > 0.0, w + name + " is " + num(v) + ", expected a positive number");
    };
    auto finite = [&](double v, const char* name) {
        require(std::isfinite(v), w + name + " is " + num(v) + ", expected a finite number");
    };
    require(nu > 0 && nv > 0, w + "detector size is " + std::to_string(nu) + " x " + std::to_string(nv) +
                                  " (nu x nv), expected positive sizes");
    positive(du, "du_mm (detector column pitch)");
    positive(dv, "dv_mm (detector row pitch)");
    finite(offset_u, "offset_u_mm");
    finite(offset_v, "offset_v_mm");
    require(!angles.empty(), w + "no projection angles (theta is empty)");
    for (std::size_t i = 0; i < angles.size(); ++i)
        require(std::isfinite(angles[i]), w + "angle " + std::to_string(i) + " is not finite");
    require(volume.nx > 0 && volume.ny > 0 && volume.nz > 0,
            w + "volume size is " + std::to_string(volume.nx) + " x " + std::to_string(volume.ny) + " x " +
                std::to_string(volume.nz) + " (nx x ny x nz), expected positive sizes");
    positive(volume.voxel_x, "voxel size along x (voxel_mm)");
    positive(volume.voxel_y, "voxel size along y (voxel_mm)");
    positive(volume.voxel_z, "voxel size along z (voxel_mm)");
    finite(volume.offset_x, "volume offset_x_mm");
    finite(volume.offset_y, "volume offset_y_mm");
    finite(volume.offset_z, "volume offset_z_mm");
    // The projector works in 32-bit index arithmetic per axis and 64-bit overall.
    require(volume.nx < (1 << 20) && volume.ny < (1 << 20) && volume.nz < (1 << 20) && nu < (1 << 20) &&
                nv < (1 << 20),
            w + "a size exceeds 2^20: volume nx " + std::to_string(volume.nx) + ", ny " + std::to_string(volume.ny) +
                ", nz " + std::to_string(volume.nz) + ", detector nu " + std::to_string(nu) + ", nv " +
                std::to_string(nv));
    if (type == BeamType::cone) {
        positive(dso, "dso_mm (source to rotation axis)");
        positive(dsd, "dsd_mm (source to detector)");
        require(dsd > dso, w + "dsd_mm (" + num(dsd) + ") must exceed dso_mm (" + num(dso) +
                               "): the detector lies beyond the rotation axis");
        // The source must stay outside the volume for every angle: it circles the z axis at
        // radius dso, the volume's farthest point from the axis is at radius r.
        const double rx = std::abs(volume.offset_x) + 0.5 * double(volume.nx) * volume.voxel_x;
        const double ry = std::abs(volume.offset_y) + 0.5 * double(volume.ny) * volume.voxel_y;
        const double r = std::sqrt(rx * rx + ry * ry);
        require(dso > r, w + "dso_mm (" + num(dso) + ") must exceed the volume's radius about the rotation axis (" +
                             num(r) + " mm): the source would pass through the volume");
    }
}

std::string Geometry::describe() const {
    std::string s = beam_type_name(type);
    if (type == BeamType::cone) s += ", dso " + num(dso) + " mm, dsd " + num(dsd) + " mm";
    s += ", detector " + std::to_string(nu) + " x " + std::to_string(nv) + " at " + num(du) + " x " + num(dv) + " mm";
    if (offset_u != 0.0 || offset_v != 0.0) s += " (offset " + num(offset_u) + ", " + num(offset_v) + " mm)";
    s += ", " + std::to_string(angles.size()) + " views over " + num(angular_coverage(angles) * 180.0 / kPi) + " deg";
    s += ", volume " + std::to_string(volume.nx) + " x " + std::to_string(volume.ny) + " x " + std::to_string(volume.nz);
    if (volume.voxel_x == volume.voxel_y && volume.voxel_y == volume.voxel_z) s += " at " + num(volume.voxel_x) + " mm";
    else s += " at " + num(volume.voxel_x) + " x " + num(volume.voxel_y) + " x " + num(volume.voxel_z) + " mm";
    return s;
}

std::vector<double> equally_spaced_angles(index_t n, double arc, double start) {
    require(n > 0, "equally_spaced_angles: the number of views must be positive, got " + std::to_string(n));
    std::vector<double> a(static_cast<std::size_t>(n));
    const bool full = std::abs(arc - 2.0 * kPi) < 1e-9;
    const double step = (full || n == 1) ? arc / double(n) : arc / double(n - 1);
    for (index_t i = 0; i < n; ++i) a[std::size_t(i)] = start + step * double(i);
    return a;
}

double angular_coverage(const std::vector<double>& angles) {
    if (angles.empty()) return 0.0;
    if (angles.size() == 1) return 0.0;
    const auto [lo, hi] = std::minmax_element(angles.begin(), angles.end());
    const double span = *hi - *lo;
    return span + span / double(angles.size() - 1);
}

Geometry default_cone_geometry(index_t n, double voxel, index_t views, double arc) {
    Geometry g;
    g.type = BeamType::cone;
    g.volume.nx = g.volume.ny = g.volume.nz = n;
    g.volume.voxel_x = g.volume.voxel_y = g.volume.voxel_z = voxel;
    g.dso = 4.0 * double(n) * voxel;
    g.dsd = 2.0 * g.dso;
    g.nu = g.nv = n;
    // The fan that just covers the cylinder of radius r inscribed in the volume: half-width at the
    // detector r * dsd / sqrt(dso^2 - r^2). Rows get the same pitch (square pixels).
    const double r = 0.5 * double(n) * voxel;
    const double width = 2.0 * r * g.dsd / std::sqrt(g.dso * g.dso - r * r);
    g.du = g.dv = width / double(n);
    g.angles = equally_spaced_angles(views, arc);
    return g;
}

}  // namespace lumen::ct
