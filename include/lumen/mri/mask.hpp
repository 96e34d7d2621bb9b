// Cartesian sampling masks (docs/mri.md, "Masks").
//
// A mask marks which k-space samples were acquired: 1 = acquired, 0 = not. lumen stores and uses
// masks as float32 arrays of the k-space plane [H][W] (H = readout / ky in the DESIGN table, the
// second-to-last k-space axis; W = phase encode, the last axis). fastMRI's 1-D column masks are
// [W] and broadcast over every row (the readout is always fully sampled); expand_mask() turns one
// into the [H][W] plane.
//
// The 1-D masks follow fastMRI's definitions (fastmri/data/subsample.py) exactly, including its
// random number use: a mask made here with an integer seed equals the one fastMRI's
// RandomMaskFunc / EquiSpacedMaskFunc / EquispacedMaskFractionFunc (one centre fraction and one
// acceleration, seed=seed) makes for the same width (both draw from MT19937 seeded the same way).
#pragma once

#include <cstdint>
#include <string>

#include "lumen/core/array.hpp"

namespace lumen::mri {

enum class MaskKind {
    random,               // fastMRI RandomMaskFunc: each column with p = (W/acc - low) / (W - low)
    equispaced,           // fastMRI EquiSpacedMaskFunc: every acc-th column from a random offset
    equispaced_fraction,  // fastMRI EquispacedMaskFractionFunc: spacing adjusted so W/acc columns in all
    poisson,              // 2-D variable-density Poisson disc over the [H][W] plane, square calibration box
};

// "random", "equispaced", "equispaced-fraction", "poisson"; an unknown name is
// Error(invalid_option) naming MaskSpec.kind.
MaskKind parse_mask_kind(const std::string& text);
const char* mask_kind_name(MaskKind kind) noexcept;

struct MaskSpec {
    MaskKind kind = MaskKind::random;
    double acceleration = 4.0;
    // Fraction of the W columns in the fully sampled centre (1-D masks). <= 0: fastMRI's pairing
    // (0.08 for 4x, 0.04 for 8x; otherwise 0.32 / acceleration).
    double center_fraction = 0.0;
    // Side of the fully sampled square calibration box of Poisson masks (pixels).
    index_t calibration = 24;
    std::uint64_t seed = 0;

    // acceleration >= 1 (a whole number for equispaced), center_fraction <= 0 or in (0, 1],
    // calibration >= 0: Error(invalid_option) naming "MaskSpec.member". (Whether the centre fits
    // the acceleration depends on the k-space size: make_mask checks that.)
    void validate() const;
};

// fastMRI's number of fully sampled centre columns: round-half-even(W * center_fraction).
index_t num_low_frequencies(index_t width, double center_fraction);
// The default centre fraction for an acceleration (see MaskSpec::center_fraction).
double default_center_fraction(double acceleration);

// 1-D column masks [W] (values 0/1).
Array<float> random_column_mask(index_t width, double acceleration, double center_fraction, std::uint64_t seed);
Array<float> equispaced_column_mask(index_t width, double acceleration, double center_fraction, std::uint64_t seed);
Array<float> equispaced_fraction_column_mask(index_t width, double acceleration, double center_fraction,
                                             std::uint64_t seed);

// Variable-density Poisson-disc mask [H][W]: sample density falls off as 1 / (1 + s r) with r the
// normalised distance outside the calibration box; s is found by bisection so that the achieved
// acceleration is within 2 % of the request. Samples are accepted in a seeded random order when no
// earlier sample lies inside their (variable, elliptical) exclusion radius; corners (r > 1) are
// left empty; the centred calibration x calibration box is fully sampled.
Array<float> poisson_disc_mask(index_t height, index_t width, double acceleration, index_t calibration,
                               std::uint64_t seed);

// The mask described by `spec` for a k-space plane [H][W] (1-D kinds expanded over the rows).
// Validates spec; a centre or calibration box too large for the acceleration at this size is
// Error(invalid_option) naming MaskSpec.center_fraction or MaskSpec.calibration.
Array<float> make_mask(const MaskSpec& spec, index_t height, index_t width);

// A [W] column mask broadcast to [H][W]; a [H][W] mask is copied. Anything else: Error(bad_input)
// naming `what`.
Array<float> expand_mask(View<const float> mask, index_t height, index_t width, const std::string& what = "mask");

// Zeroes the columns outside [first, last) (fastMRI's zero-padded phase encodes that were never
// acquired, from the header's encoding limits). Mask [H][W].
void restrict_columns(View<float> mask, index_t first, index_t last);

// Number of sampled points / total, and its inverse (the achieved acceleration).
double sampled_fraction(View<const float> mask);
inline double achieved_acceleration(View<const float> mask) { return 1.0 / sampled_fraction(mask); }

// The fully sampled centred box of a [H][W] mask, grown from the centre one row or column at a
// time while it stays fully sampled, up to max_height x max_width. Its rows are
// [H/2 - rows/2, H/2 - rows/2 + rows) and likewise for the columns (fastMRI's centre block).
struct CalibrationBox {
    index_t rows = 0, cols = 0;
    index_t row0 = 0, col0 = 0;
};
CalibrationBox find_calibration_box(View<const float> mask, index_t max_height, index_t max_width);

}  // namespace lumen::mri
