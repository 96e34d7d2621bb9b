// PNG previews of 2-D images for people who would rather look than read. 8-bit greyscale.
// Written atomically: staged in an OutputSet (lumen/io/output.hpp) and renamed when it commits;
// the overloads without a set commit each file at once.
#pragma once

#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/io/output.hpp"

namespace lumen::io {

// image: [ny][nx] (row 0 at the top). Values are mapped linearly from [lo, hi] to [0, 255]; when
// lo >= hi the 0.5th and 99.5th percentiles of the image are used.
void write_png(const std::string& path, View<const float> image, float lo = 0.0f, float hi = 0.0f);
// Magnitude of a complex image, auto-scaled.
void write_png_magnitude(const std::string& path, View<const complex64> image);
// Phase of a complex image, mapped from [-pi, pi] to [0, 255].
void write_png_phase(const std::string& path, View<const complex64> image);

// The same, staged in `set`: nothing reaches `path` before set.commit().
void write_png(OutputSet& set, const std::string& path, View<const float> image, float lo = 0.0f, float hi = 0.0f);
void write_png_magnitude(OutputSet& set, const std::string& path, View<const complex64> image);
void write_png_phase(OutputSet& set, const std::string& path, View<const complex64> image);

// Where an app's PNG previews go, the same for every app: PREFIX_<what>.png with PREFIX the
// `--png` value when given, else the output path without its extension; "" when `disabled`
// (--no-png).
std::string preview_prefix(const std::string& output_path, const std::string& requested, bool disabled);

}  // namespace lumen::io
