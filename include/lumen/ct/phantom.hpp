// Ellipsoid phantoms: the 3-D Shepp-Logan phantom from its published table, a variant with dense
// metal-like inserts, voxelisation, and exact (analytic) line integrals for simulation without
// the "inverse crime" of projecting with the reconstruction's own model.
#pragma once

#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"

namespace lumen::ct {

// One ellipsoid in world coordinates: attenuation `value` (per mm) added inside
//   sum_j (q_j / semi_j)^2 <= 1,   q = R^T (x - centre),   R = Rz(phi) Rx(theta) Rz(psi)
// (Euler angles in degrees, z-x-z). Lengths in mm.
struct Ellipsoid {
    double value = 0.0;
    double semi[3] = {1.0, 1.0, 1.0};
    double centre[3] = {0.0, 0.0, 0.0};
    double euler_deg[3] = {0.0, 0.0, 0.0};
};

// The 3-D Shepp-Logan table (Toft; Schabel's phantom3d) in normalised coordinates [-1, 1]^3,
// `modified` (higher-contrast values) or original. Values in table units.
std::vector<Ellipsoid> shepp_logan_table(bool modified = true);

// Scales a table phantom to the world: coordinates times half_extent_mm, values times mu_per_unit.
std::vector<Ellipsoid> scale_phantom(const std::vector<Ellipsoid>& table, double half_extent_mm, double mu_per_unit);

// Two dense inserts (in normalised coordinates), each adding `value` (table units) over the
// phantom: small ellipsoids in the upper left and lower right of the central slices, like
// dental fillings or hip implants.
std::vector<Ellipsoid> metal_inserts(double value);

// The sum of ellipsoid values at the centres of `supersample`^3 sub-voxels, averaged per voxel:
// a [nz][ny][nx] volume on `device`.
Array<float> voxelize(const std::vector<Ellipsoid>& phantom, const VolumeGrid& grid, int supersample, Device device);

// Exact line integrals through the phantom for every detector pixel of `geometry`:
//   transmission = false: the line integral of the ray through the pixel centre;
//   transmission = true:  the mean of exp(-line integral) over subsample x subsample rays through
//                         the pixel (a detector integrates intensity, not attenuation).
Array<float> project_analytic(const std::vector<Ellipsoid>& phantom, const Geometry& geometry, int subsample,
                              bool transmission, Device device);

}  // namespace lumen::ct
