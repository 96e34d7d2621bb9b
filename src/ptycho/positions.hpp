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
    PositionRefiner(Model& model, View<const float> positions, int start, Loss loss);

    // The gradient buffer [J][2] on the model's device, for Model::loss, and whether the loss
    // should fill it at iteration k (1-based: the iteration about to run).
    View<float> gradient() { return gradient_.view(); }
    bool wanted(int iteration) const { return iteration > start_; }

    // After iteration k, with the gradient the loss filled at that iteration's point and the
    // current object: the Gauss-Newton step dp = -df/dp / c_p (c_p: Model::position_curvature,
    // recomputed every kCurvatureEvery iterations), at most kMaxStep pixels per coordinate, the
    // mean step removed (a common translation of object and positions fits the data equally well),
    // clamped so the windows stay inside the object; then moves the model's windows.
    void step(int iteration, View<const complex64> object);

    const Array<float>& positions() const { return positions_; }
    // The largest coordinate change of the last step (pixels).
    double last_step() const { return last_step_; }

    static constexpr double kMaxStep = 0.5;
    static constexpr int kCurvatureEvery = 5;

private:
    Model& model_;
    Array<float> positions_;  // host
    Array<float> gradient_, curvature_;
    int start_;
    Loss loss_;
    int curvature_age_ = -1;  // iterations since the curvature was computed; < 0: never
    double last_step_ = 0;
};

}  // namespace lumen::ptycho
