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

// The simulated object: the modified 3-D Shepp-Logan table, or the same with two dense inserts.
enum class PhantomKind { shepp_logan, metal };
// "shepp-logan", "metal"; Error(invalid_option) naming SimulationOptions.phantom otherwise.
PhantomKind parse_phantom(const std::string& text);
const char* phantom_name(PhantomKind p) noexcept;

struct SimulationOptions {
    // Volume n^3 at voxel_mm, cone beam (or parallel) with `views` angles over arc_deg.
    index_t size = 64;
    double voxel_mm = 1.0;
    index_t views = 180;
    double arc_deg = 360.0;
    BeamType type = BeamType::cone;
    // Geometry overrides (<= 0: default_cone_geometry's choice; parallel beam: pitch = voxel).
    double dso_mm = 0.0, dsd_mm = 0.0, du_mm = 0.0;
    index_t nu = 0, nv = 0;
    PhantomKind phantom = PhantomKind::shepp_logan;
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

    // Throws Error(invalid_option) naming the first field out of range ("SimulationOptions.size").
    void validate() const;
};

// The geometry `simulate` uses for these options (validated; a source closer than the volume's
// radius or a detector in front of it is Error(invalid_option) naming dso_mm or dsd_mm).
Geometry simulation_geometry(const SimulationOptions& options);

// The phantom in world units (mm, attenuation per mm) for these options.
std::vector<Ellipsoid> simulation_phantom(const SimulationOptions& options);

// A complete scan (host arrays) with truth; the heavy parts run on `device`.
Scan simulate(const SimulationOptions& options, Device device);

// The options as file attributes (for /lumen in write_scan).
std::map<std::string, std::string> simulation_attributes(const SimulationOptions& options);

}  // namespace lumen::ct
