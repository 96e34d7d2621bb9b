// Distributed CT reconstruction (docs/scaling.md): the collectives recon.cpp makes, timed into the
// run's CommunicationStats, and the operator of one rank's views. Only distributed.cpp sees
// lumen/core/comm.hpp; the reconstruction sees a Ranks and the solvers a DataSplit.
#pragma once

#include <memory>
#include <utility>

#include "lumen/ct/projector.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen {
class Communicator;
struct CommunicationStats;
}  // namespace lumen

namespace lumen::ct::distributed {

// The ranks a reconstruction is split over (ReconOptions::ranks; null: this process alone, and
// every call below is a no-op).
class Ranks {
public:
    Ranks(const Communicator* ranks, CommunicationStats* stats);
    bool distributed() const;
    int size() const;
    // This rank's contiguous block [first, second) of n items (block_of).
    std::pair<index_t, index_t> block(index_t n) const;
    // This rank's FDK slab of nz slices (fdk_slab below).
    std::pair<index_t, index_t> fdk_slab(index_t nz) const;
    // In place, every rank receiving the result. A volume's sum first waits at a barrier for the
    // slowest rank (counted as wait_s, the load imbalance); the sum itself is communication_s.
    void sum(double* values, int count) const;
    void max(double* values, int count) const;
    void sum(View<float> volume) const;
    // The solvers' hook for measurements split over the ranks (empty when not distributed).
    DataSplit data_split() const;

private:
    // sum() or max() of scalars, timed into the statistics.
    void timed_scalars(double* values, int count, bool maximum) const;
    const Communicator* ranks_;
    CommunicationStats* stats_;
};

// FDK's slab of rank `rank` of `size`: its block of the groups of 8 slices (src/ct/simd.cpp runs 8
// slices per AVX2 step and the rest one by one, which rounds differently: whole groups give every
// voxel the serial run's instructions, so the summed slabs are the serial volume to the bit).
std::pair<index_t, index_t> fdk_slab(index_t nz, int rank, int size);

// The geometry of views [first, last) of g.
Geometry view_block(const Geometry& g, index_t first, index_t last);

// A restricted to this rank's block of views: apply() projects the views this rank holds,
// apply_adjoint() back-projects them and sums the volume over the ranks, so that it is the
// adjoint of A under the data inner product summed over the ranks (DataSplit).
class ViewBlockOperator final : public LinearOperator<float> {
public:
    ViewBlockOperator(const Geometry& block_geometry, Device device, const Ranks& ranks);
    Shape domain_shape() const override;
    Shape range_shape() const override;  // this rank's (views, nv, nu)
    Device device() const override;
    void apply(View<const float> volume, View<float> projections) const override;
    void apply_adjoint(View<const float> projections, View<float> volume) const override;
    const Projector& local() const { return local_; }

private:
    Projector local_;
    Ranks ranks_;
};

}  // namespace lumen::ct::distributed
