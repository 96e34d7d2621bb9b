// A CT scan in memory: raw intensities with their flat and dark fields, the geometry and an
// optional truth, and what follows from them without any file: the normalised intensities, the
// line integrals and the counts' variance. Files (DXchange + /lumen/geometry) are read and written
// by lumen/ct/io.hpp.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"

namespace lumen::ct {

struct Scan {
    std::string path;     // where it was read from (for messages); empty for in-memory scans
    Geometry geometry;
    Array<float> data;    // raw intensities [n_angles][nv][nu], host
    Array<float> white;   // flat-field frames [frames][nv][nu], host; empty when absent
    Array<float> dark;    // dark-field frames [frames][nv][nu], host; empty when absent
    double i0 = 0.0;      // flat level used when `white` is empty (> 0)
    Array<float> truth;   // [nz][ny][nx] or empty
    // False when nothing (file, geometry file, command line) placed the rotation axis: offset_u is
    // then 0 and should be estimated from the data (lumen/ct/axis.hpp).
    bool axis_given = true;
    // True when the file's columns were reversed on reading (ReadOptions::flip_u, lumen/ct/io.hpp):
    // columns shown to the user (and ReadOptions::centre_column) count the file's columns, lumen's
    // frame counts the other way.
    bool flip_u = false;
    // How the file was read (theta units, rotation, flips, where the geometry came from), as
    // (name, value) for `info` and the output's attributes.
    std::vector<std::pair<std::string, std::string>> conventions;
    // The first detector row `data`, `white` and `dark` hold (ReadOptions::rows): they hold rows
    // [row_first, row_first + rows()) of every frame; `geometry` still describes the whole detector.
    index_t row_first = 0;
    index_t rows() const { return data.rank() == 3 ? data.dim(1) : geometry.nv; }
    // The shape the held rows have: (n_angles, rows(), nu).
    Shape held_shape() const { return Shape{geometry.n_angles(), rows(), geometry.nu}; }
};

// Normalised transmission t = (I - dark) / (white - dark) (frames averaged), or (I - dark) / i0
// without flat fields, on `device`, of the rows the scan holds (Scan::held_shape). Throws when the flat field does not exceed the dark field.
Array<float> transmission(const Scan& scan, Device device);

// Line integrals -log(t). With min_transmission <= 0 any t <= 0 is an Error(bad_input) naming the
// first such pixel (view, row, column) and suggesting a clamp (ReconOptions.min_transmission); with
// min_transmission > 0, t is clamped to at least that value first.
Array<float> line_integrals(View<const float> transmission, double min_transmission, const std::string& context);

// The Poisson variance of each line integral -log t, from the raw counts: I / (I - dark)^2 plus the
// flat field's share white / (frames (white - dark)^2), Scan::held_shape() on the host; infinite
// where I <= dark (no information). Assumes the data are photon counts (a detector gain g scales
// the true variance by g).
Array<float> line_integral_variance(const Scan& scan);

}  // namespace lumen::ct
