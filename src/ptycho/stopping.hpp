// Stopping where the noise says, for every ptychography method (docs/ptychography.md, "Stopping
// and defaults"). Internal to src/ptycho: the gradient methods hand it to lumen::nesterov through
// the shared DiscrepancyRule (its misfit function) and their callback; (r)PIE calls it after
// every sweep.
#pragma once

#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/comm.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/progress.hpp"
#include "lumen/ptycho/model.hpp"

namespace lumen::ptycho {

// Whether measured intensities are photon counts, the only data whose noise the data themselves
// give (Poisson: var y = E y). Counts are whole numbers >= 0: at least 99.9 % of the measured
// values lie within 1e-3 of an integer and some are positive. Normalised, scaled or
// background-subtracted frames fail this; `note` then says why (for the history and --json).
struct CountCheck {
    bool counts = false;
    std::string note;
};
// Distributed (docs/scaling.md): each rank passes its frames; the verdict is the whole scan's.
CountCheck check_photon_counts(View<const float> intensities, View<const float> mask,
                               const Communicator& ranks = single_rank());

// The discrepancy rule's misfit and the divergence guard for one run.
//
// misfit(): the noise-normalised amplitude misfit Model::residual().ratio() of the current
// iterate, sum (sqrt y - |Psi|)^2 / sum E[(sqrt Y - |Psi|)^2 | Y ~ Poisson(|Psi|^2)]; about 1 at the
// truth for photon counts.
//
// diverging(): the guard. It keeps a copy of the iterate with the smallest misfit seen so far and
// says "diverging" once the mean misfit over the last `window` iterations is `rise` above the
// smallest such mean seen before. (r)PIE's misfit jumps by +-5 % from sweep to sweep (each sweep
// visits the positions in a new order; the squared residual alone jumps by +-15 %, its expectation
// moving the other way as the dark pixels change), so a single value or a short run of rises says
// nothing; a sustained rise of the windowed mean does (docs/ptychography.md, "Stopping and
// defaults": a window of 5 stopped converging ePIE runs early; 10 with 3 % stopped only the
// diverging rPIE runs). The run then stops and restore_best() puts the best iterate back.
class StopGuard {
public:
    explicit StopGuard(Model& model);

    // Measures the fit of (object, probe) at iteration k (setting the model's probe first when
    // set_probe: a blind AWF's model holds the extrapolated point's probe). Measures once per
    // iteration: a second call for the same k returns the first's value.
    double misfit(int k, View<const complex64> object, View<const complex64> probe, bool set_probe);
    // The misfit of iteration k measured elsewhere (the gradient methods: by their loss pass, at
    // the point the gradient is taken); misfit(k, ...) then returns it.
    void record(int k, double ratio) {
        measured_k_ = k;
        ratio_ = ratio;
    }
    // After misfit() for iteration k: updates the best iterate and says whether the run diverges.
    bool diverging(int k, View<const complex64> object, View<const complex64> probe);
    // Copies the best iterate into object and probe. Returns its iteration (0: none kept).
    int restore_best(View<complex64> object, View<complex64> probe) const;
    int best_iteration() const { return best_k_; }

    static constexpr int window = 10;
    static constexpr double rise = 0.03;

private:
    Model& model_;
    Array<complex64> best_object_, best_probe_;
    int measured_k_ = -1, best_k_ = 0;
    double ratio_ = 0, best_misfit_ = 0;
    std::vector<double> recent_;  // the last `window` misfits, oldest first
    double best_mean_ = 0;         // the smallest windowed mean so far (0: none yet)
};

}  // namespace lumen::ptycho
