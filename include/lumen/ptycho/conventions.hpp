// The conventions other tools write ptychographic scans in, and the plausibility checks that catch
// a file in another one (docs/ptychography.md, "Conventions and checks"; docs/conventions.md).
//
// Every check reports through lumen::report_check (lumen/core/checks.hpp) with an id
// "ptycho.<name>"; a check never changes a result.
#pragma once

#include <array>
#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/ptycho/scan.hpp"

namespace lumen::ptycho {

// ---- orientation of the scan translations ---------------------------------------------------

// The eight flips and transposes of the translations, coded as PtyPy codes its orientations:
// bit 2 (4) swaps x and y first, then bit 0 (1) negates x and bit 1 (2) negates y. 0 is lumen's
// own convention (x along the frame's columns, y along its rows, as the file says).
inline constexpr int orientation_count = 8;
// Error(invalid_option) for `field` unless 0 <= orientation < 8.
void require_orientation(int orientation, const std::string& field = "ReconOptions.orientation");
// "as stored", "x negated", "y negated", "x and y negated", "x and y swapped", ...
std::string orientation_name(int orientation);
// Applies an orientation to positions [J][2] (row, column) in object pixels and shifts them so
// that the smallest row and column are 0. dy_over_dx = object pixel height / width: the
// transposes swap metres, not pixels.
Array<float> orient_positions(View<const float> positions, int orientation, double dy_over_dx = 1.0);

// ---- frame order and content ---------------------------------------------------------------

struct FrameStats {
    // Fractions of the mean pattern's power within a quarter frame of the centre [ny/2][nx/2]
    // and of the corner [0][0] (cyclically). Far-field frames in detector order have their bright
    // field at the centre; frames in FFT order (as tike and numpy's fft2 store them) in the corner.
    double centre = 0, corner = 0;
    // Fraction of the mean pattern's power in its brightest 10 % of pixels: far-field patterns
    // concentrate their power in the bright field (0.6 to 1 in simulations and the APS scan);
    // near-field (Fresnel) frames are images of the illuminated sample (about 0.1 to 0.3).
    double bright = 0;
    bool fft_order() const { return corner > 2.0 * centre; }
    bool far_field_like() const { return bright >= 0.4; }
};
// intensities [J][ny][nx]; mask [ny][nx] (1 = measured) or empty.
// Distributed (`ranks`): each rank passes its frames; the statistics are of all of them.
FrameStats frame_stats(View<const float> intensities, View<const float> mask = {},
                       const Communicator& ranks = single_rank());
// Reorders a scan's frames and mask from FFT order (zero frequency at [0][0]) to detector order
// (zero frequency at [ny/2][nx/2]), the order lumen's readers expect (fftshift per frame).
void frames_to_detector_order(Scan& scan);

// ---- overlap and coverage --------------------------------------------------------------------

struct ScanOverlap {
    double step = 0;            // median distance from a position to its nearest neighbour (pixels)
    double probe_diameter = 0;  // 2 sqrt(2) x the rms radius of |P|^2 (a uniform disc's diameter)
    double overlap = 0;         // linear overlap 1 - step / probe_diameter
    double span = 0;            // the larger of the scan's row and column extents (pixels)
};
ScanOverlap scan_overlap(View<const float> positions, View<const complex64> probe);

// The linear overlap outside which a scan is implausible: below 0 the probe windows do not
// touch (positions too far apart: wrong units, or a step 10x too large); above 0.95 they hardly
// move (a step 10x too small). Published practice is 0.4 to 0.8 (docs/ptychography.md).
inline constexpr double overlap_low = 0.0, overlap_high = 0.95;

// Reports ptycho.overlap (and ptycho.coverage: the whole scan moves less than one probe
// diameter) for these positions and this probe.
void check_overlap(View<const float> positions, View<const complex64> probe);
// Reports the checks that need only the file: ptycho.frames_centred, ptycho.far_field,
// ptycho.mask (a mask marking most pixels bad), and (with_overlap) ptycho.overlap /
// ptycho.coverage when the scan has a probe (reconstruct() reports those for its starting probe).
// Distributed (`ranks`): the frame statistics of every rank's frames.
void check_scan(const Scan& scan, bool with_overlap = true, const Communicator& ranks = single_rank());

// ---- orientation fit -------------------------------------------------------------------------

struct OrientationFit {
    int chosen = 0;                                // the orientation in use
    int best = 0;                                  // the candidate with the lowest loss
    std::array<double, orientation_count> loss{};  // amplitude loss after the iterations, per candidate
    index_t frames = 0;
    int iterations = 0;
    // loss[best] / loss[chosen]
    double ratio() const {
        return loss[std::size_t(chosen)] > 0 ? loss[std::size_t(best)] / loss[std::size_t(chosen)] : 1.0;
    }
};

// Tries every orientation of the file's positions (as stored, before any orientation is
// applied) cheaply: `frames` positions nearest the scan's centre, `iterations` object-only AWF
// iterations from a flat object with `probe`, and compares the amplitude losses. Positions [J][2]
// in object pixels; intensities [J][ny][nx] detector order; mask (1 = measured) or empty.
OrientationFit fit_orientation(View<const float> positions, View<const float> intensities, View<const float> mask,
                               View<const complex64> probe, int chosen, double dy_over_dx, Device device,
                               index_t frames = 100, int iterations = 12, const ModelOptions& model = {});
// The loss ratio below which another orientation counts as the better fit.
inline constexpr double orientation_margin = 0.85;
// Reports ptycho.orientation from a fit.
void report_orientation(const OrientationFit& fit);

}  // namespace lumen::ptycho
