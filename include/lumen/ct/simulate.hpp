// Simulated CT scans: a phantom, exact (analytic) or voxel-model projections, Beer-Lambert
// intensities with a given I0, Poisson noise, flat and dark fields, and the truth.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "lumen/ct/geometry.hpp"
#include "lumen/ct/phantom.hpp"
#include "lumen/ct/scan.hpp"

namespace lumen::ct {

struct SimulateOptions {
    // Volume n^3 at voxel_mm, cone beam (or parallel) with `views` angles over arc_deg.
    index_t size = 64;
    double voxel_mm = 1.0;
    index_t views = 180;
    double arc_deg = 360.0;
    BeamType type = BeamType::cone;
    // Geometry overrides (<= 0: default_cone_geometry's choice; parallel beam: pitch = voxel).
    double dso_mm = 0.0, dsd_mm = 0.0, du_mm = 0.0;
    index_t nu = 0, nv = 0;
    // Phantom: "shepp-logan" (modified 3-D table) or "metal" (plus two dense inserts).
    std::string phantom = "shepp-logan";
    double mu_scale = 0.02;    // attenuation per mm of table value 1
    double metal_mu = 0.5;     // attenuation per mm of the inserts ("metal" only)
    // Detector: I0 counts per pixel, dark level, frames of flat and dark fields.
    double i0 = 1.0e5;
    double dark = 100.0;
    index_t flat_frames = 10, dark_frames = 10;
    bool noise = true;         // Poisson noise on data, flats and darks
    std::uint64_t seed = 1;
    int subsample = 2;         // detector sub-rays per pixel side (intensity averaged over the pixel)
    int supersample = 2;       // truth: sub-samples per voxel side
    bool analytic = true;      // exact line integrals; false: the ray-driven projector on the truth
};

// The geometry `simulate` uses for these options.
Geometry simulation_geometry(const SimulateOptions& options);

// The phantom in world units (mm, attenuation per mm) for these options.
std::vector<Ellipsoid> simulation_phantom(const SimulateOptions& options);

// A complete scan (host arrays) with truth; the heavy parts run on `device`.
Scan simulate(const SimulateOptions& options, Device device);

// The options as file attributes (for /lumen in write_scan).
std::map<std::string, std::string> simulation_attributes(const SimulateOptions& options);

}  // namespace lumen::ct
