// PNG previews of 2-D images for people who would rather look than read. Written atomically
// (temporary file, then rename). 8-bit greyscale.
#pragma once

#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::io {

// image: [ny][nx] (row 0 at the top). Values are mapped linearly from [lo, hi] to [0, 255]; when
// lo >= hi the 0.5th and 99.5th percentiles of the image are used.
void write_png(const std::string& path, View<const float> image, float lo = 0.0f, float hi = 0.0f);
// Magnitude of a complex image, auto-scaled.
void write_png_magnitude(const std::string& path, View<const complex64> image);
// Phase of a complex image, mapped from [-pi, pi] to [0, 255].
void write_png_phase(const std::string& path, View<const complex64> image);

// Where an app's PNG previews go, the same for every app: PREFIX_<what>.png with PREFIX the
// `--png` value when given, else the output path without its extension; "" when `disabled`
// (--no-png).
std::string preview_prefix(const std::string& output_path, const std::string& requested, bool disabled);

}  // namespace lumen::io
