// Simulated ptychographic scans with known ground truth (docs/ptychography.md, "Simulation").
#pragma once

#include <cstdint>
#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/ptycho/scan.hpp"

namespace lumen::ptycho {

enum class ScanPattern { raster, spiral };
// "raster" or "spiral" (or "fermat"); anything else is Error(invalid_option) for SimulationOptions.scan.
ScanPattern parse_scan_pattern(const std::string& text);

struct SimulationOptions {
    index_t frame = 64;             // detector frames frame x frame (the probe window)
    index_t positions = 100;        // number of scan positions (raster: rounded to a square grid)
    ScanPattern scan = ScanPattern::raster;
    double beam_diameter = 0;       // pixels; 0: frame / 2
    double overlap = 0.7;           // linear overlap 1 - step / beam diameter, in [0, 0.95]
    double jitter = -1;             // raster: uniform jitter +-jitter pixels; < 0: 10 % of the step
    double photons = 1e6;           // mean photons per frame
    bool poisson = true;            // Poisson noise (false: noiseless expected intensities)
    double position_error = 0;      // rms error (pixels, per axis) of the recorded positions
    bool integer_positions = false; // round the true positions to whole pixels
    double phase_range = 1.5;       // object phase spans [-phase_range / 2, phase_range / 2] rad
    double min_amplitude = 0.4;     // object amplitude spans [min_amplitude, 1]
    double energy_kev = 8.0;
    double distance_m = 2.0;
    double detector_pixel_m = 75e-6;
    bool store_probe = true;        // write the true probe as the file's illumination
    // Near-field (Fresnel) frames: images at `distance_m` with pixels `detector_pixel_m` (the
    // object pixel), propagated with the Fresnel transfer function (Scan::near_field).
    bool near_field = false;
    // Partially coherent probe (docs/ptychography.md, "Mixed-state probes"): the beam of a source
    // of finite size, an incoherent mixture of copies of the probe displaced laterally with a
    // Gaussian spread of rms `source_blur` pixels per axis (0: frame / 32), decomposed into
    // orthogonal modes of which the `probe_modes` strongest make the data (Scan::true_probe_modes).
    // 1: one coherent probe.
    index_t probe_modes = 1;
    double source_blur = 0;
    // A thick object (docs/ptychography.md, "Multi-slice"): `slices` slices `slice_distance_m`
    // apart, each a test object of its own (seed + n, moved by n/3 of the grid, so that no two
    // slices share a feature), amplitude min_amplitude^(1/N) to 1 and phase span phase_range / N,
    // so that their product spans about what one slice would. The data come from the multi-slice
    // model; the truth holds the slices and their product (Scan::true_slices, true_object).
    index_t slices = 1;
    double slice_distance_m = 0;
    std::uint64_t seed = 1;

    // Throws Error(invalid_option) naming the field ("SimulationOptions.frame") when a field is out
    // of range. simulate() calls it.
    void validate() const;
};

// A complex test object [H][W]: amplitude and phase from two different generated patterns
// (discs, bars and a Siemens star for the amplitude; smooth blobs and ramps for the phase).
Array<complex64> make_test_object(const Shape& shape, double min_amplitude, double phase_range, std::uint64_t seed);
// A focused-beam probe seen out of focus: a circular pupil (radius frame / 8 frequency bins)
// with a defocus chosen so that the beam is about `diameter` pixels wide, centred in the frame.
// Scaled so that sum |P|^2 = 1.
Array<complex64> make_probe(index_t frame, double diameter);
// Scan positions (row, column of the window corner, >= 0) for a beam of `diameter` pixels with
// the given linear overlap; raster with uniform jitter, or a Fermat spiral.
Array<float> make_scan(index_t count, ScanPattern pattern, double diameter, double overlap, double jitter,
                       std::uint64_t seed);

// The K strongest orthogonal modes [K][frame][frame] of the partially coherent beam described
// above (SimulationOptions::source_blur), by descending power, total power 1.
Array<complex64> make_probe_modes(index_t frame, double diameter, index_t modes, double source_blur);

// The whole simulation: object, probe, scan, intensities (with Poisson noise at the given photon
// count), recorded positions with errors, truth. The forward model runs on `device`. Validates the
// options first.
Scan simulate(const SimulationOptions& options, Device device = Device::cpu);

}  // namespace lumen::ptycho
