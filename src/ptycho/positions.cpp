// Position refinement (src/ptycho/positions.hpp).
#include "src/ptycho/positions.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lumen::ptycho {

PositionRefiner::PositionRefiner(Model& model, View<const float> positions, int start, Loss loss)
    : model_(model),
      positions_(Array<float>::copy_of(positions, Device::cpu)),
      gradient_(Shape{model.positions(), 2}, model.device()),
      curvature_(Shape{model.positions(), 2}, model.device()),
      start_(start),
      loss_(loss) {
    require(positions_.shape() == Shape({model.positions(), 2}), "ptycho::PositionRefiner: expected positions [J][2]");
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
}

}  // namespace lumen::ptycho
