// Position refinement (src/ptycho/positions.hpp).
#include "src/ptycho/positions.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace lumen::ptycho {

PositionRefiner::PositionRefiner(Model& model, View<const float> positions, int start, Loss loss,
                                 index_t search_radius)
    : model_(model),
      positions_(Array<float>::copy_of(positions, Device::cpu)),
      gradient_(Shape{model.positions(), 2}, model.device()),
      curvature_(Shape{model.positions(), 2}, model.device()),
      start_(start),
      loss_(loss),
      radius_(std::max<index_t>(0, search_radius)),
      window_(radius_),
      next_search_(std::max(start, kSearchEvery) + 1) {
    require(positions_.shape() == Shape({model.positions(), 2}), "ptycho::PositionRefiner: expected positions [J][2]");
    if (radius_ > 0) frame_loss_ = Array<float>(Shape{model.positions()}, model.device());
}

index_t coarse_search_radius(View<const float> positions_v) {
    const Array<float> p = Array<float>::copy_of(positions_v, Device::cpu);
    const index_t J = p.dim(0);
    if (J < 2) return 1;  // no neighbour: a one-pixel search
    // The mean spacing of the positions: sqrt(area / J) over their bounding box (a line scan:
    // its length / (J - 1)). Unlike nearest-neighbour distances it hardly changes with the
    // position errors the search is for (they shorten the nearest distances).
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            lo[a] = std::min(lo[a], double(p[2 * j + a]));
            hi[a] = std::max(hi[a], double(p[2 * j + a]));
        }
    const double ey = hi[0] - lo[0], ex = hi[1] - lo[1];
    const double line = std::max(ey, ex) / double(J - 1);
    const double step = std::max(std::sqrt(ey * ex / double(J)), line);
    return index_t(std::ceil(step - 1e-6)) + 1;
}

index_t PositionRefiner::search(View<const complex64> object) {
    const index_t J = model_.positions(), R = window_;
    // Offsets by growing distance from (0, 0), which comes first: a position moves only when a
    // candidate's loss is strictly lower, and among equal losses the nearest candidate wins.
    std::vector<std::pair<index_t, index_t>> offsets;
    for (index_t dy = -R; dy <= R; ++dy)
        for (index_t dx = -R; dx <= R; ++dx) offsets.emplace_back(dy, dx);
    std::stable_sort(offsets.begin(), offsets.end(), [](const auto& a, const auto& b) {
        return a.first * a.first + a.second * a.second < b.first * b.first + b.second * b.second;
    });
    std::vector<float> best(std::size_t(J), INFINITY);
    std::vector<index_t> by(std::size_t(J), 0), bx(std::size_t(J), 0);
    for (const auto& [dy, dx] : offsets) {
        model_.frame_losses(loss_, object, dy, dx, frame_loss_.view());
        const Array<float> l = frame_loss_.to(Device::cpu);
        for (index_t j = 0; j < J; ++j)
            if (l[j] < best[std::size_t(j)]) {
                best[std::size_t(j)] = l[j];
                by[std::size_t(j)] = dy;
                bx[std::size_t(j)] = dx;
            }
    }
    // The sums of the offsets and the count of moved positions over every rank's frames.
    double sums[3] = {0, 0, 0};
    for (index_t j = 0; j < J; ++j) {
        sums[0] += double(by[std::size_t(j)]);
        sums[1] += double(bx[std::size_t(j)]);
        sums[2] += by[std::size_t(j)] != 0 || bx[std::size_t(j)] != 0 ? 1.0 : 0.0;
    }
    if (model_.ranks().distributed()) model_.ranks().sum(sums, 3);
    const index_t J_all = model_.total_positions();
    const index_t moved = index_t(sums[2]);
    // The next search's window: one pixel beyond the largest offset this one took (all ranks).
    index_t largest = 0;
    for (index_t j = 0; j < J; ++j)
        largest = std::max({largest, std::abs(by[std::size_t(j)]), std::abs(bx[std::size_t(j)])});
    window_ = std::min(radius_, index_t(model_.ranks().max(double(largest))) + 1);
    if (moved == 0) return 0;
    const double mean[2] = {J_all > 1 ? sums[0] / double(J_all) : 0.0, J_all > 1 ? sums[1] / double(J_all) : 0.0};
    const Shape obj = model_.object_shape(), frame = model_.probe_shape();
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            const double d = double(a == 0 ? by[std::size_t(j)] : bx[std::size_t(j)]) - mean[a];
            const double hi = double(obj[a] - frame[a]) + 0.999;
            positions_[2 * j + a] = float(std::clamp(double(positions_[2 * j + a]) + d, 0.0, hi));
        }
    model_.set_positions(positions_.view());
    curvature_age_ = -1;  // the windows moved by pixels: the curvature is recomputed
    return moved;
}

void PositionRefiner::step(int iteration, View<const complex64> object) {
    last_step_ = 0;
    if (!wanted(iteration)) return;
    if (curvature_age_ < 0 || curvature_age_ >= kCurvatureEvery - 1) {
        model_.position_curvature(loss_, object, curvature_.view());
        curvature_age_ = 0;
    } else {
        ++curvature_age_;
    }
    const Array<float> g = gradient_.to(Device::cpu), c = curvature_.to(Device::cpu);
    const index_t J = model_.positions();
    const Shape obj = model_.object_shape(), frame = model_.probe_shape();
    std::vector<double> dp(std::size_t(2 * J));
    double mean[2] = {0, 0};
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            const double cj = double(c[2 * j + a]);
            double d = cj > 0 && std::isfinite(cj) && std::isfinite(g[2 * j + a]) ? -double(g[2 * j + a]) / cj : 0.0;
            d = std::clamp(d, -kMaxStep, kMaxStep);
            dp[std::size_t(2 * j + a)] = d;
            mean[a] += d / double(J);
        }
    // Distributed (docs/scaling.md): the mean over every rank's frames; J_all frames in all.
    const index_t J_all = model_.total_positions();
    if (model_.ranks().distributed()) {
        for (int a = 0; a < 2; ++a) mean[a] *= double(J);  // back to sums
        model_.ranks().sum(mean, 2);
        for (int a = 0; a < 2; ++a) mean[a] /= double(J_all);
    }
    for (index_t j = 0; j < J; ++j)
        for (int a = 0; a < 2; ++a) {
            const double d = dp[std::size_t(2 * j + a)] - (J_all > 1 ? mean[a] : 0.0);
            // A window at p covers [floor(p), floor(p) + n): p must stay below obj - n + 1.
            const double hi = double(obj[a] - frame[a]) + 0.999;
            const double p = std::clamp(double(positions_[2 * j + a]) + d, 0.0, hi);
            last_step_ = std::max(last_step_, std::fabs(p - double(positions_[2 * j + a])));
            positions_[2 * j + a] = float(p);
        }
    model_.set_positions(positions_.view());
    if (search_due(iteration)) {
        next_search_ = search(object) > 0 ? iteration + kSearchEvery : -1;
    }
}

}  // namespace lumen::ptycho
