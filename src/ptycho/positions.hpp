// Position refinement for the gradient methods (docs/ptychography.md, "Position refinement").
// Internal to src/ptycho: reconstruct() asks the model's loss for df/dp with every gradient and
// steps the positions after every iteration.
#pragma once

#include "lumen/core/array.hpp"
#include "lumen/ptycho/model.hpp"

namespace lumen::ptycho {

class PositionRefiner {
public:
    // positions [J][2] (host): where the model's windows are now. The positions first move after
    // iteration `start` (the object needs a few iterations to take shape before its gradient with
    // respect to the positions means anything).
    // search_radius: the coarse search's half-width R in whole pixels (coarse_search_radius of
    // the whole scan's positions, so that every rank uses the same); 0 turns the search off.
    PositionRefiner(Model& model, View<const float> positions, int start, Loss loss, index_t search_radius);

    // The gradient buffer [J][2] on the model's device, for Model::loss, and whether the loss
    // should fill it at iteration k (1-based: the iteration about to run).
    View<float> gradient() { return gradient_.view(); }
    bool wanted(int iteration) const { return iteration > start_; }

    // After iteration k, with the gradient the loss filled at that iteration's point and the
    // current object: the Gauss-Newton step dp = -df/dp / c_p (c_p: Model::position_curvature,
    // recomputed every kCurvatureEvery iterations), at most kMaxStep pixels per coordinate, the
    // mean step removed (a common translation of object and positions fits the data equally well),
    // clamped so the windows stay inside the object; then moves the model's windows. At the
    // iterations search_due() names, the coarse search follows the step.
    void step(int iteration, View<const complex64> object);

    // The coarse search (docs/ptychography.md, "Position refinement"): each position takes the
    // whole-pixel offset in [-W, W]^2 that minimises its own frame's loss at the current object
    // and probe (Model::frame_losses; ties keep the smaller offset), the mean offset over every
    // rank's positions is removed, and the windows move. W is the radius R for the first search,
    // then one pixel beyond the largest offset the previous search took (at most R). Returns how
    // many positions (all ranks) took a nonzero offset.
    index_t search(View<const complex64> object);
    // The rule: the first search after iteration max(start, kSearchEvery) + 1 (the first gradient
    // step, and at least kSearchEvery iterations of object), then every kSearchEvery iterations
    // for as long as the previous search moved some position.
    bool search_due(int iteration) const { return radius_ > 0 && iteration == next_search_; }

    const Array<float>& positions() const { return positions_; }
    // The largest coordinate change of the last step (pixels).
    double last_step() const { return last_step_; }

    static constexpr double kMaxStep = 0.5;
    static constexpr int kCurvatureEvery = 5;
    static constexpr int kSearchEvery = 10;

private:
    Model& model_;
    Array<float> positions_;  // host
    Array<float> gradient_, curvature_;
    int start_;
    Loss loss_;
    int curvature_age_ = -1;  // iterations since the curvature was computed; < 0: never
    double last_step_ = 0;
    index_t radius_ = 0;
    index_t window_ = 0;  // the next search's half-width (radius_ at first)
    int next_search_ = -1;  // the iteration after which the next search runs; -1: none
    Array<float> frame_loss_;  // [J] on the model's device
};

}  // namespace lumen::ptycho
