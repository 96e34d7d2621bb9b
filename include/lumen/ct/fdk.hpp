// FDK (Feldkamp-Davis-Kress) filtered back projection for circular cone beam, and plain FBP for
// parallel beam (the same code with unit cosine and depth weights):
//
//   f(x) = sum_i  dbeta_i * w_i(u) * (dso / U)^2 * [ tau * (h * (c . p_i)) ](u(x), v(x))
//
// c = dsd / sqrt(dsd^2 + u^2 + v^2) (cosine pre-weight), h the band-limited ramp (Ram-Lak)
// kernel sampled at the virtual-detector pitch tau = du * dso / dsd, applied along detector rows
// by FFT with zero padding to at least 2 nu - 1 and multiplied by a window; dbeta_i the angular
// step of view i; w_i = 1/2 for a full circle (every ray is measured twice) or Parker's weights
// for a short scan. The result is attenuation per mm.
#pragma once

#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"
#include "lumen/ct/projector.hpp"

namespace lumen::ct {

enum class FilterWindow { ram_lak, shepp_logan, cosine, hamming, hann };
// "ram-lak", "shepp-logan", "cosine", "hamming", "hann"; Error(invalid_option) naming the field
// FdkOptions.window otherwise.
FilterWindow parse_filter_window(const std::string& text);
const char* filter_window_name(FilterWindow w) noexcept;

enum class ShortScan { automatic, parker, off };
// "auto", "parker", "off"; Error(invalid_option) naming FdkOptions.short_scan otherwise.
ShortScan parse_short_scan(const std::string& text);

struct FdkOptions {
    FilterWindow window = FilterWindow::ram_lak;
    double cutoff = 1.0;                     // fraction of the Nyquist frequency kept (0, 1]
    ShortScan short_scan = ShortScan::automatic;  // automatic: Parker weights unless a full circle

    // Throws Error(invalid_option) naming the field ("FdkOptions.cutoff") when one is out of range.
    void validate() const;
};

// The padded row length used for filtering: the smallest 2^a 3^b 5^c >= 2 nu - 1.
index_t fdk_padded_length(index_t nu);

// The real, even spectrum tau * DFT(h) (length `padded`, FFT order) times the window.
std::vector<float> ramp_filter_spectrum(index_t padded, double tau, FilterWindow window, double cutoff);

// Per-view angular integration steps (radians): midpoints between sorted neighbours, wrapping
// around for a full circle.
std::vector<double> angular_steps(const std::vector<double>& angles);
// True when the views cover a full circle (to 0.1%).
bool is_full_scan(const std::vector<double>& angles);

// Per view and detector column, the redundancy weight: 1/2 for a full circle, Parker's weights
// (generalised to over-scans) for a short scan, [n_angles][nu]. Throws Error(bad_input) when a
// short scan covers less than 180 degrees plus the fan angle.
std::vector<float> redundancy_weights(const Geometry& geometry, ShortScan mode);

// The detector rows FDK's back projection of slices [z_begin, z_end) reads, over every view: the
// slab's 8 corners (the xy extent of the volume, z from the first slice's lower face to the last
// slice's upper face) projected at every angle (v = z dsd / U, U the depth along the central ray,
// linear-fractional, so its extremes over the box are at corners), then the bilinear
// interpolation's next row and one row more either side against rounding, rounded out to even
// rows (the filter packs rows in pairs; whole pairs keep every row's rounding the whole detector's),
// clipped to the detector. Parallel beam: v = z. Empty (count 0) for an empty slab.
DetectorRows fdk_detector_rows(const Geometry& geometry, index_t z_begin, index_t z_end);

// FDK of line integrals [n_angles][nv][nu] into volume [nz][ny][nx] (overwritten), both on the
// projector's device. The projections are not modified. Only slices [z_begin, z_end) are
// reconstructed (z_end < 0: to the last; the other slices are zero), each voxel exactly as in a
// whole-volume call: a distributed FDK reconstructs one slab per process (docs/scaling.md).
// `line_integrals` may hold only detector rows [row_first, row_first + rows) of every view
// ([n_angles][rows][nu]); they must include fdk_detector_rows of the slab (Error otherwise), and
// only they are weighted and filtered (the filter runs along rows, so rows are independent). With
// row_first even, every voxel is the whole detector's to the bit.
void fdk(const Projector& projector, View<const float> line_integrals, View<float> volume, const FdkOptions& options,
         index_t z_begin = 0, index_t z_end = -1, index_t row_first = 0);

}  // namespace lumen::ct
