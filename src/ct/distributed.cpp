// Distributed CT reconstruction (src/ct/distributed.hpp, docs/scaling.md).
#include "src/ct/distributed.hpp"

#include <chrono>

#include "lumen/core/comm.hpp"

namespace lumen::ct::distributed {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Ranks::Ranks(const Communicator* ranks, CommunicationStats* stats)
    : ranks_(ranks && ranks->distributed() ? ranks : nullptr), stats_(stats) {
    if (ranks_ && stats_) stats_->ranks = ranks_->size();
}

bool Ranks::distributed() const { return ranks_ != nullptr; }
int Ranks::size() const { return ranks_ ? ranks_->size() : 1; }

std::pair<index_t, index_t> Ranks::block(index_t n) const {
    if (!ranks_) return {0, n};
    const auto b = block_of(n, ranks_->rank(), ranks_->size());
    return {b.begin, b.end};
}

std::pair<index_t, index_t> Ranks::fdk_slab(index_t nz) const {
    return distributed::fdk_slab(nz, ranks_ ? ranks_->rank() : 0, size());
}

std::pair<index_t, index_t> fdk_slab(index_t nz, int rank, int size) {
    constexpr index_t group = 8;
    const auto groups = block_of((nz + group - 1) / group, rank, size);
    return {std::min(nz, groups.begin * group), std::min(nz, groups.end * group)};
}

void Ranks::sum(double* values, int count) const { timed_scalars(values, count, false); }
void Ranks::max(double* values, int count) const { timed_scalars(values, count, true); }

void Ranks::timed_scalars(double* values, int count, bool maximum) const {
    if (!ranks_) return;
    const auto t0 = std::chrono::steady_clock::now();
    if (maximum) ranks_->max(values, index_t(count));
    else ranks_->sum(values, index_t(count));
    if (stats_) {
        stats_->communication_s += seconds_since(t0);
        stats_->bytes += double(count) * double(sizeof(double));
    }
}

void Ranks::sum(View<float> volume) const {
    if (!ranks_) return;
    const auto t0 = std::chrono::steady_clock::now();
    ranks_->barrier();
    const auto t1 = std::chrono::steady_clock::now();
    ranks_->sum(volume);
    if (stats_) {
        stats_->wait_s += std::chrono::duration<double>(t1 - t0).count();
        stats_->communication_s += seconds_since(t1);
        stats_->bytes += double(volume.size()) * double(sizeof(float));
    }
}

DataSplit Ranks::data_split() const {
    DataSplit d;
    if (!ranks_) return d;
    const Ranks self = *this;
    d.sum = [self](double* v, int n) { self.sum(v, n); };
    d.max = [self](double* v, int n) { self.max(v, n); };
    return d;
}

Geometry view_block(const Geometry& g, index_t first, index_t last) {
    Geometry b = g;
    b.angles.assign(g.angles.begin() + first, g.angles.begin() + last);
    return b;
}

ViewBlockOperator::ViewBlockOperator(const Geometry& block_geometry, Device device, const Ranks& ranks)
    : local_(block_geometry, device), ranks_(ranks) {}

Shape ViewBlockOperator::domain_shape() const { return local_.domain_shape(); }
Shape ViewBlockOperator::range_shape() const { return local_.range_shape(); }
Device ViewBlockOperator::device() const { return local_.device(); }

void ViewBlockOperator::apply(View<const float> volume, View<float> projections) const {
    local_.apply(volume, projections);
}

void ViewBlockOperator::apply_adjoint(View<const float> projections, View<float> volume) const {
    local_.apply_adjoint(projections, volume);
    ranks_.sum(volume);
}

}  // namespace lumen::ct::distributed
