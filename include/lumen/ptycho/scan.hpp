// A ptychographic scan in memory and its CXI file (docs/ptychography.md, "Files").
//
// On disk positions are sample translations in metres; inside the library they are object
// pixels: row = y / dy, column = x / dx with the object pixel size of far-field ptychography
//   dx = lambda z / (nx px),  dy = lambda z / (ny py),  lambda = h c / E,
// (z: detector distance, px, py: detector pixel sizes, nx, ny: frame size), shifted so that the
// smallest row and column are 0. The window of position j then covers object rows
// [row_j, row_j + ny) and columns [col_j, col_j + nx).
#pragma once

#include <cstdint>
#include <string>

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
    Array<complex64> true_probe;    // [ny][nx]
    Array<float> true_positions;    // [J][2] the positions the data were made with

    index_t n_positions() const { return intensities.empty() ? 0 : intensities.dim(0); }
    Shape probe_shape() const { return intensities.empty() ? Shape{} : intensities.shape().drop_front(); }
    bool has_truth() const { return !true_object.empty(); }
    // The model's options for this scan: far field, or the near-field coefficients
    // lambda z / (n p)^2 per axis from the geometry.
    ModelOptions model_options(index_t batch = 0, bool subpixel = true) const;
};

// Which propagation a file's frames need: from_file reads /lumen/propagation ("near" or "far",
// written by lumen's simulator) and otherwise takes far field, as CXI ptychography files are.
enum class Propagation { from_file, far_field, near_field };
Propagation parse_propagation(const std::string& text, const std::string& option = "--propagation");

// CXI paths read and written by lumen.
namespace cxi {
inline constexpr const char* data = "/entry_1/data_1/data";
inline constexpr const char* translation = "/entry_1/sample_1/geometry_1/translation";
inline constexpr const char* distance = "/entry_1/instrument_1/detector_1/distance";
inline constexpr const char* x_pixel_size = "/entry_1/instrument_1/detector_1/x_pixel_size";
inline constexpr const char* y_pixel_size = "/entry_1/instrument_1/detector_1/y_pixel_size";
inline constexpr const char* mask = "/entry_1/instrument_1/detector_1/mask";
// The detector's axes in the lab frame (x, y, z; metres per pixel): row 0 for the data's slow axis
// (frame rows), row 1 for its fast axis (columns); stored (2, 3) as the CXI spec lays it out, or
// (3, 2) (columns are the vectors), globally or per frame ((N, 2, 3) / (N, 3, 2)).
inline constexpr const char* basis_vectors = "/entry_1/instrument_1/detector_1/basis_vectors";
// CXI pixel-mask bits that make a pixel unusable: invalid (0x1), saturated (0x2), hot (0x4), dead
// (0x8), shadowed (0x10), to be ignored (0x40), bad (0x80), missing (0x200), noisy (0x400). The
// other bits are information and keep the pixel: in a hit-finder's peak mask (0x20), outside
// resolution limits (0x100), artifact corrected (0x800), has signal (0x1000, "signal above
// background"), and any higher bit.
inline constexpr std::int64_t mask_bad_bits = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400;
inline constexpr const char* energy = "/entry_1/instrument_1/source_1/energy";
inline constexpr const char* wavelength = "/entry_1/instrument_1/source_1/wavelength";
inline constexpr const char* illumination = "/entry_1/instrument_1/source_1/illumination";
inline constexpr const char* propagation = "/lumen/propagation";
inline constexpr const char* truth_object = "/lumen/truth/object";
inline constexpr const char* truth_probe = "/lumen/truth/probe";
inline constexpr const char* truth_positions = "/lumen/truth/positions";
}  // namespace cxi

// Reads a CXI file. Translations may be (N, 3) or (3, N) (an ambiguous (3, 3) is read as
// (N, 3)); other paths as in cxi::. Frames (and the mask) are turned so that rows run along +y
// and columns along +x as the detector's basis_vectors say (none: already so); vectors that are
// not along x and y are refused. The mask keeps a pixel unless one of cxi::mask_bad_bits is set. Every problem is an Error(bad_input) naming the file and
// dataset: missing data or geometry, wrong ranks, positions that do not match the frames,
// negative or non-finite intensities, non-positive distances, pixel sizes or energy, a mask or
// probe of the wrong shape.
// Near field (`propagation`, or /lumen/propagation with from_file): positions are converted with the
// detector pixel sizes as the object pixel.
Scan read_cxi(const std::string& path, Propagation propagation = Propagation::from_file);

// Writes a scan as CXI (positions converted back to metres; /lumen/truth when present). Atomic.
void write_cxi(const std::string& path, const Scan& scan);

// Object-pixel positions from translations in metres: t is [J][3] (x, y, z); returns [J][2]
// (row, column), shifted so that the minimum row and column are 0.
Array<float> positions_from_translations(View<const float> translations_xyz, const Geometry& geometry,
                                         const Shape& probe_shape);

// A human-readable account of what the file holds and whether lumen can read it; throws the
// read error when it cannot.
std::string describe_cxi(const std::string& path);

}  // namespace lumen::ptycho
