// CT files: scans on disk (DXchange datasets plus lumen's cone-beam geometry group, docs/ct.md),
// and the reconstructions lumen writes (/volume with the same geometry group, PNG previews).
//
//   /exchange/data        (n_angles, nv, nu) raw intensities (any numeric type)
//   /exchange/data_white  optional flat fields, (frames, nv, nu) or (nv, nu)
//   /exchange/data_dark   optional dark fields, (frames, nv, nu) or (nv, nu)
//   /exchange/theta       (n_angles,) projection angles in degrees (or as its units attribute says)
//   /lumen/geometry       attributes: type ("cone" | "parallel"), dso_mm, dsd_mm (cone), du_mm,
//                         dv_mm, offset_u_mm, offset_v_mm (optional, 0), nx, ny, nz, voxel_mm
//                         (optional voxel_x_mm / voxel_y_mm / voxel_z_mm, offset_x_mm /
//                         offset_y_mm / offset_z_mm), i0 (flat level when there is no data_white);
//                         nu, nv are written too (files without /exchange/data need them)
//   /lumen/truth/volume   optional ground truth (nz, ny, nx), attenuation per mm (simulations)
//
// Files from other tools (TomoPy, dxchange) carry no /lumen/geometry, may store theta in radians,
// count angles clockwise or mirror a detector axis: ReadOptions says so (docs/ct.md, "Scans from
// other tools").
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/ct/scan.hpp"
#include "lumen/io/output.hpp"

namespace lumen::io {
class H5File;
class H5Writer;
}  // namespace lumen::io

namespace lumen::ct {

// The units of /exchange/theta: as the file says (its units attribute, else degrees unless the
// values span about pi or 2 pi), or degrees or radians whatever it says.
enum class ThetaUnits { file, degrees, radians };
// "deg"/"degrees", "rad"/"radians", "file" or ""; Error(invalid_option) naming
// ReadOptions.theta_units otherwise.
ThetaUnits parse_theta_units(const std::string& text);

// What a file leaves out or stores in another convention. Geometry values (including the centre)
// describe the file as stored; the flips then map it into lumen's frame.
struct ReadOptions {
    // Geometry attributes by their /lumen/geometry names (type, du_mm, dv_mm, dso_mm, dsd_mm, nx,
    // ny, nz, voxel_mm, offset_u_mm, ...) as text (e.g. from an app's options): they take precedence over
    // geometry_file, which takes precedence over the scan's own /lumen/geometry. Without any
    // /lumen/geometry, the volume defaults to the detector's field of view (nx = ny = nu, nz = nv,
    // voxel = du / magnification).
    std::map<std::string, std::string> geometry;
    // HDF5 with a /lumen/geometry group, or text with one "name = value" per line ('#' comments).
    std::string geometry_file;
    ThetaUnits theta_units = ThetaUnits::file;  // degrees or radians: overrides /exchange/theta@units
    bool clockwise = false;          // the file's angles turn clockwise seen from +z: negated
    bool flip_u = false;             // the file's columns run along -u: reversed on reading
    bool flip_v = false;             // the file's rows run along -v: reversed on reading
    // The rotation axis's detector column in the file's numbering (0-based, pixel centres; TomoPy's
    // `center`); NaN: from the geometry. Sets offset_u = ((nu - 1) / 2 - column) du.
    double centre_column = std::nan("");
    bool estimate_centre = false;    // ignore any offset_u the geometry gives: estimate it
    // Only detector rows [row_first, row_first + rows) of lumen's frame (after flip_v) are read from
    // /exchange/data and the flat and dark fields (HDF5 hyperslabs; Scan::row_first); rows < 0: all.
    // A distributed FDK reads only the rows its slab projects to (docs/scaling.md).
    index_t row_first = 0, rows = -1;
    bool truth = true;               // read /lumen/truth/volume when present
};

// Reads and checks the geometry: /lumen/geometry attributes and /exchange/theta (degrees ->
// radians). n_angles, nu, nv come from `projection_shape` (n_angles, nv, nu), or, when it is empty
// (a file without projections), from theta's length and the attributes nu, nv. Every missing or
// invalid field is an Error(bad_input) naming the file and the attribute.
Geometry read_geometry(const io::H5File& file, const Shape& projection_shape);
// The same with ReadOptions (other sources of the geometry, theta units, clockwise angles); the
// flips and the centre are applied by read_scan. `axis_given` (optional) says whether a source
// set offset_u_mm; `conventions` (optional) receives how theta and the geometry were read.
Geometry read_geometry(const io::H5File& file, const Shape& projection_shape, const ReadOptions& options,
                       bool* axis_given = nullptr,
                       std::vector<std::pair<std::string, std::string>>* conventions = nullptr);

// Reads a whole scan (data, flat and dark fields, geometry, optional truth; only some detector
// rows with ReadOptions::rows) and checks shapes,
// finiteness and non-negative intensities. Throws Error(bad_input) with the file, the dataset,
// what was found and what was expected.
Scan read_scan(const std::string& path);
Scan read_scan(const std::string& path, const ReadOptions& options);
// The geometry read_scan would give (flips and centre applied), without reading any projection.
Geometry read_scan_geometry(const std::string& path, const ReadOptions& options);

// Radians per stored unit of /exchange/theta: `units` is the option (ThetaUnits::file: use
// `attribute`, the file's theta@units, "" when absent). Without either, degrees (the DXchange
// convention) unless the values span about pi or 2 pi, then radians with a warning
// (check "ct.theta_units"); units that contradict the span warn too. `where` names the dataset.
double theta_scale(ThetaUnits units, const std::string& attribute, const std::vector<double>& values,
                   const std::string& where, std::string* description = nullptr);

// Writes the geometry: /lumen/geometry attributes and /exchange/theta (degrees).
void write_geometry(io::H5Writer& out, const Geometry& geometry);

// Writes a scan in the layout above (datasets as float32), with `attributes` as string
// attributes of /lumen (e.g. how it was simulated). Atomic (H5Writer).
void write_scan(const std::string& path, const Scan& scan, const std::map<std::string, std::string>& attributes = {});

// Writes /volume, /history, /lumen/geometry and root attributes (method, its parameters,
// lumen_version, device, ranks, and quality when given) and, unless png_prefix is empty, PNG previews of
// the three central slices: PREFIX_axial.png (z = nz/2, +y up), PREFIX_coronal.png (y = ny/2,
// +z up), PREFIX_sagittal.png (x = nx/2, +z up). All of them or none: the .h5 and the PNGs are
// committed together, after all were written and the volume was found finite (Error(failure)
// otherwise). Returns the PNG paths.
std::vector<std::string> write_reconstruction(const std::string& path, const Geometry& geometry,
                                              const ReconResult& result, const std::string& device_name,
                                              const Quality* quality, const std::string& png_prefix);
// The same, staged in `set` (committed by the caller, e.g. with other files); `ranks`: the MPI
// ranks that shared the reconstruction (root attribute ranks, docs/scaling.md).
std::vector<std::string> write_reconstruction(io::OutputSet& set, const std::string& path, const Geometry& geometry,
                                              const ReconResult& result, const std::string& device_name,
                                              const Quality* quality, const std::string& png_prefix, int ranks = 1);

}  // namespace lumen::ct
