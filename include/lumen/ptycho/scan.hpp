// A ptychographic scan in memory (docs/ptychography.md, "Files"); no file access here (the CXI
// reader and writer are in lumen/ptycho/io.hpp).
//
// On disk positions are sample translations in metres; inside the library they are object
// pixels: row = y / dy, column = x / dx with the object pixel size of far-field ptychography
//   dx = lambda z / (nx px),  dy = lambda z / (ny py),  lambda = h c / E,
// (z: detector distance, px, py: detector pixel sizes, nx, ny: frame size), shifted so that the
// smallest row and column are 0. The window of position j then covers object rows
// [row_j, row_j + ny) and columns [col_j, col_j + nx).
#pragma once

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/ptycho/model.hpp"

namespace lumen::ptycho {

struct Geometry {
    double energy_j = 0;    // photon energy (J)
    double distance_m = 0;  // sample-detector distance (m)
    double pixel_x_m = 0;   // detector pixel size along columns (m)
    double pixel_y_m = 0;   // along rows (m)

    bool valid() const { return energy_j > 0 && distance_m > 0 && pixel_x_m > 0 && pixel_y_m > 0; }
    double wavelength_m() const;                     // h c / E
    double object_pixel_x_m(index_t frame_x) const;  // lambda z / (frame_x px)
    double object_pixel_y_m(index_t frame_y) const;
    // Photon energy in J from keV.
    static double joules_from_kev(double kev);
    // Photon energy in J from the wavelength in m (h c / lambda).
    static double joules_from_wavelength(double metres);
};

// A scan's layout: what a reconstruction's set-up depends on besides the positions, nothing
// measured (ptycho::Reconstructor takes it with the positions; Scan::layout() gives a scan's).
struct ScanLayout {
    Shape frame;            // [ny][nx] the detector frame, the probe's shape
    Shape object;           // [H][W]; empty: object_shape_for(the positions used, frame)
    Geometry geometry;      // may be invalid (unknown): the orientations then take square object pixels
    bool near_field = false;  // as Scan::near_field (needs a valid geometry)

    // The model's options: far field, or the near-field coefficients lambda z / (n p)^2 per axis
    // from the geometry (Error(bad_input) when a near-field layout has no geometry or frame).
    ModelOptions model_options(index_t batch = 0, bool subpixel = true) const;
    // `options` with a multi-slice object of `slices` slices `slice_distance_m` apart: the slice
    // coefficients lambda dz / (n p)^2 per axis, p the object pixel (docs/ptychography.md,
    // "Multi-slice"). slices 1 leaves the options as they are; more needs a valid geometry and a
    // distance > 0 (Error(invalid_option) naming ReconOptions.slice_distance otherwise).
    ModelOptions with_slices(ModelOptions options, index_t slices, double slice_distance_m) const;
    // The object pixel's aspect ratio dy / dx (1 without a geometry), which the transposing
    // orientations need.
    double pixel_aspect() const;
};

struct Scan {
    Array<float> intensities;   // [J][ny][nx] photons, detector order (zero frequency at the centre)
    Array<float> positions;     // [J][2] (row, column) object pixels, window top-left corners
    Array<float> mask;          // [ny][nx] 1 = measured, 0 = ignored; empty: all measured
    Array<complex64> probe;     // [ny][nx] initial probe (centred); empty: estimated from the data
    Geometry geometry;
    // Near-field (Fresnel) scan: the frames are (magnified) images of the illuminated sample, the
    // object pixel is the detector pixel (pixel sizes and distance as the effective geometry of a
    // magnifying setup), and the model propagates with the Fresnel transfer function.
    bool near_field = false;
    Shape object_shape;         // [H][W]
    // Ground truth (simulated scans; empty otherwise).
    Array<complex64> true_object;   // [H][W]
    Array<complex64> true_probe;    // [ny][nx] (a partially coherent probe: its strongest mode)
    Array<complex64> true_probe_modes;  // [K][ny][nx] a simulated partially coherent probe's modes; else empty
    Array<float> true_positions;    // [J][2] the positions the data were made with
    // A simulated multi-slice object: its slices [N][H][W] (true_object is their product, the
    // projection) and their distance. slice_distance_m is also what a file says (/lumen/slice_distance)
    // without a truth; 0: not said.
    Array<complex64> true_slices;
    double slice_distance_m = 0;

    // A rank's part of a distributed scan (read_cxi with ranks, docs/scaling.md): the intensities
    // are frames [first_frame, first_frame + intensities.dim(0)) of the positions' J. A whole
    // scan: 0, and intensities hold every frame.
    index_t first_frame = 0;
    bool partial() const { return first_frame != 0 || (!intensities.empty() && positions.rank() == 2 &&
                                                       intensities.dim(0) != positions.dim(0)); }

    index_t n_positions() const { return intensities.empty() ? 0 : positions.rank() == 2 ? positions.dim(0) : intensities.dim(0); }
    Shape probe_shape() const { return intensities.empty() ? Shape{} : intensities.shape().drop_front(); }
    bool has_truth() const { return !true_object.empty(); }
    // Its layout (frame, object shape, geometry, near_field), without the arrays.
    ScanLayout layout() const { return ScanLayout{probe_shape(), object_shape, geometry, near_field}; }
    // The model's options for this scan (ScanLayout::model_options).
    ModelOptions model_options(index_t batch = 0, bool subpixel = true) const { return layout().model_options(batch, subpixel); }
};

// Object-pixel positions from translations in metres: t is [J][3] (x, y, z); returns [J][2]
// (row, column), shifted so that the minimum row and column are 0.
Array<float> positions_from_translations(View<const float> translations_xyz, const Geometry& geometry,
                                         const Shape& probe_shape);

}  // namespace lumen::ptycho
