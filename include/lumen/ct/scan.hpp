// CT scans on disk: DXchange datasets plus lumen's cone-beam geometry group (docs/ct.md).
//
//   /exchange/data        (n_angles, nv, nu) raw intensities (any numeric type)
//   /exchange/data_white  optional flat fields, (frames, nv, nu) or (nv, nu)
//   /exchange/data_dark   optional dark fields, (frames, nv, nu) or (nv, nu)
//   /exchange/theta       (n_angles,) projection angles in degrees
//   /lumen/geometry       attributes: type ("cone" | "parallel"), dso_mm, dsd_mm (cone), du_mm,
//                         dv_mm, offset_u_mm, offset_v_mm (optional, 0), nx, ny, nz, voxel_mm
//                         (optional voxel_x_mm / voxel_y_mm / voxel_z_mm, offset_x_mm /
//                         offset_y_mm / offset_z_mm), i0 (flat level when there is no data_white);
//                         nu, nv are written too (files without /exchange/data need them)
//   /lumen/truth/volume   optional ground truth (nz, ny, nx), attenuation per mm (simulations)
#pragma once

#include <map>
#include <string>

#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"

namespace lumen::io {
class H5File;
class H5Writer;
}  // namespace lumen::io

namespace lumen::ct {

struct Scan {
    std::string path;     // where it was read from (for messages); empty for in-memory scans
    Geometry geometry;
    Array<float> data;    // raw intensities [n_angles][nv][nu], host
    Array<float> white;   // flat-field frames [frames][nv][nu], host; empty when absent
    Array<float> dark;    // dark-field frames [frames][nv][nu], host; empty when absent
    double i0 = 0.0;      // flat level used when `white` is empty (> 0)
    Array<float> truth;   // [nz][ny][nx] or empty
};

// Reads and checks the geometry: /lumen/geometry attributes and /exchange/theta (degrees ->
// radians). n_angles, nu, nv come from `projection_shape` (n_angles, nv, nu), or, when it is empty
// (a file without projections), from theta's length and the attributes nu, nv. Every missing or
// invalid field is an Error(bad_input) naming the file and the attribute.
Geometry read_geometry(const io::H5File& file, const Shape& projection_shape);

// Reads a whole scan (data, flat and dark fields, geometry, optional truth) and checks shapes,
// finiteness and non-negative intensities. Throws Error(bad_input) with the file, the dataset,
// what was found and what was expected.
Scan read_scan(const std::string& path);

// Writes the geometry: /lumen/geometry attributes and /exchange/theta (degrees).
void write_geometry(io::H5Writer& out, const Geometry& geometry);

// Writes a scan in the layout above (datasets as float32), with `attributes` as string
// attributes of /lumen (e.g. how it was simulated). Atomic (H5Writer).
void write_scan(const std::string& path, const Scan& scan, const std::map<std::string, std::string>& attributes = {});

// Normalised transmission t = (I - dark) / (white - dark) (frames averaged), or (I - dark) / i0
// without flat fields, on `device`. Throws when the flat field does not exceed the dark field.
Array<float> transmission(const Scan& scan, Device device);

// Line integrals -log(t). With min_transmission <= 0 any t <= 0 is an Error(bad_input) naming the
// first such pixel (view, row, column) and suggesting --clamp-transmission; with
// min_transmission > 0, t is clamped to at least that value first.
Array<float> line_integrals(View<const float> transmission, double min_transmission, const std::string& context);

}  // namespace lumen::ct
