// The CT projectors: a ray-driven forward projector A (Joseph-style: one sample per volume plane
// along the ray's dominant axis, bilinear within the plane, i.e. trilinear interpolation) and
// its exact adjoint A^T (same traversal and weights), plus the voxel-driven back projector FDK
// uses. Volumes are [nz][ny][nx] in attenuation per mm; projections [n_angles][nv][nu] are line
// integrals (dimensionless). docs/ct.md has the geometry and conventions.
#pragma once

#include <memory>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"
#include "lumen/linop.hpp"

namespace lumen::ct {

// A and A^T for one geometry on one device. The per-view ray vectors and FDK matrices are
// computed once (in double) and kept on the device; projecting allocates nothing per ray.
// CPU back projection is race-free without atomics: rays are grouped by dominant axis and each
// thread owns a range of planes along it.
class Projector : public LinearOperator<float> {
public:
    Projector(const Geometry& geometry, Device device);
    ~Projector() override;
    Projector(Projector&&) noexcept;
    Projector& operator=(Projector&&) noexcept;

    const Geometry& geometry() const;

    Shape domain_shape() const override;  // (nz, ny, nx)
    Shape range_shape() const override;   // (n_angles, nv, nu)
    Device device() const override;
    // projections = A volume (overwritten)
    void apply(View<const float> volume, View<float> projections) const override;
    // volume = A^T projections (overwritten)
    void apply_adjoint(View<const float> projections, View<float> volume) const override;

    // volume += sum over views of w_view (dso / U)^2 * bilinear(projections[view], voxel's
    // detector position): FDK's back projection. Projections already carry the per-view weights.
    void backproject_voxel(View<const float> projections, View<float> volume) const;
    // The same with projections already copied into [n_angles][nv + 2][nu + 2] with a zero border
    // (FDK's filter writes this layout directly). Only slices [z_begin, z_end) of the volume are
    // back-projected (z_end < 0: to the last), each voxel's sum the same as in a whole-volume call:
    // a distributed FDK reconstructs one slab per process (docs/scaling.md).
    void backproject_voxel_padded(View<const float> padded, View<float> volume, index_t z_begin = 0,
                                  index_t z_end = -1) const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// Shared-pointer form for the solvers.
LinOpPtr<float> make_projector(const Geometry& geometry, Device device);

// Convenience wrappers (build a Projector for one call).
void forward_project(const Geometry& geometry, View<const float> volume, View<float> projections);
void back_project(const Geometry& geometry, View<const float> projections, View<float> volume);

}  // namespace lumen::ct
