// Circular cone-beam (and parallel-beam) CT geometry. docs/ct.md has the picture; in short:
//
//  - World axes x, y, z in millimetres; z is the rotation axis. The volume is indexed
//    [iz][iy][ix]; voxel (ix, iy, iz) is centred at
//        x = offset_x + (ix - (nx - 1) / 2) * voxel_x     (same for y, z).
//  - At angle 0 the source sits on the -y axis at (0, -dso, 0) and the beam travels along +y;
//    the detector plane is perpendicular to y at y = dsd - dso. The angle turns the source and
//    detector together counter-clockwise seen from +z (x towards y):
//        source(theta) = (dso sin theta, -dso cos theta, 0).
//  - Detector u (columns, fastest axis of a projection) points along +x at angle 0
//    (u_hat = (cos theta, sin theta, 0)); v (rows) points along +z. Pixel (iu, iv) is centred at
//        u = offset_u + (iu - (nu - 1) / 2) * du,   v = offset_v + (iv - (nv - 1) / 2) * dv
//    measured from the point where the central ray (source -> rotation axis, perpendicular to
//    the detector) meets the detector. Seen from the source, u runs to the right and v up.
//  - Parallel beam: rays along the beam direction (-sin theta, cos theta, 0) through the
//    detector point u * u_hat + v * z_hat; dso and dsd are not used.
#pragma once

#include <string>
#include <vector>

#include "lumen/core/array.hpp"

namespace lumen::ct {

enum class BeamType { cone, parallel };

// "cone" or "parallel"; anything else is Error(bad_input) naming `what`.
BeamType parse_beam_type(const std::string& text, const std::string& what = "beam type");
const char* beam_type_name(BeamType t) noexcept;

struct VolumeGrid {
    index_t nx = 0, ny = 0, nz = 0;
    double voxel_x = 1.0, voxel_y = 1.0, voxel_z = 1.0;     // mm
    double offset_x = 0.0, offset_y = 0.0, offset_z = 0.0;  // centre of the grid, mm

    Shape shape() const { return Shape{nz, ny, nx}; }
    index_t size() const { return nx * ny * nz; }
};

// Detector rows [first, first + count) of a projection.
struct DetectorRows {
    index_t first = 0, count = 0;
    index_t end() const { return first + count; }
};

struct Geometry {
    BeamType type = BeamType::cone;
    double dso = 0.0;  // source to rotation axis, mm (cone only)
    double dsd = 0.0;  // source to detector, mm (cone only)
    index_t nu = 0, nv = 0;           // detector columns, rows
    double du = 1.0, dv = 1.0;        // pixel pitch, mm
    double offset_u = 0.0, offset_v = 0.0;  // detector shift, mm (see above)
    std::vector<double> angles;       // radians, one per projection, any order and range
    VolumeGrid volume;

    index_t n_angles() const { return index_t(angles.size()); }
    Shape projection_shape() const { return Shape{n_angles(), nv, nu}; }
    Shape volume_shape() const { return volume.shape(); }
    // dsd / dso for cone beam, 1 for parallel beam.
    double magnification() const;

    // Throws Error(bad_input) naming the offending field (and `context`, e.g. the file) for
    // non-positive distances or sizes, a detector behind the source, a source inside the volume,
    // no angles or non-finite values.
    void validate(const std::string& context = "CT geometry") const;
    // One line for logs: "cone, dso 500 mm, dsd 1000 mm, detector 256 x 256 at 1 x 1 mm, 360 views
    // over 360 deg, volume 256 x 256 x 256 at 1 mm".
    std::string describe() const;
};

// n equally spaced angles from start over `arc` radians (arc = 2 pi: full circle without repeating
// the first angle; a shorter arc includes both end points).
std::vector<double> equally_spaced_angles(index_t n, double arc, double start = 0.0);

// The angular span covered by a scan: max - min plus one mean angular step (radians).
double angular_coverage(const std::vector<double>& angles);

// A cone-beam geometry for an n^3 volume of `voxel` mm with the detector (nu = nv = n) sized to
// cover the cylinder inscribed in the volume; dso = 4 n voxel, dsd = 2 dso. For tests and
// `simulate` defaults.
Geometry default_cone_geometry(index_t n, double voxel, index_t views, double arc = 2.0 * kPi);

}  // namespace lumen::ct
