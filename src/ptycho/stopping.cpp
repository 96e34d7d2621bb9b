// The ptychography stopping rule and divergence guard (src/ptycho/stopping.hpp).
#include "src/ptycho/stopping.hpp"

#include <cmath>
#include <cstdio>

#include "lumen/linalg.hpp"

namespace lumen::ptycho {

CountCheck check_photon_counts(View<const float> intensities_v, View<const float> mask_v, const Communicator& ranks) {
    const Array<float> y = Array<float>::copy_of(intensities_v, Device::cpu);
    const Array<float> mask = mask_v.empty() ? Array<float>() : Array<float>::copy_of(mask_v, Device::cpu);
    const index_t m = mask.empty() ? 1 : mask.size();
    index_t measured = 0, fractional = 0, positive = 0;
    float example = 0;
    for (index_t i = 0; i < y.size(); ++i) {
        if (!mask.empty() && mask[i % m] == 0.0f) continue;
        const double v = double(y[i]);
        ++measured;
        positive += v > 0;
        if (!(v >= 0) || std::fabs(v - std::nearbyint(v)) > 1e-3) {
            if (fractional == 0) example = y[i];
            ++fractional;
        }
    }
    if (ranks.distributed()) {
        // Every rank's frames: one verdict for the whole scan.
        std::int64_t tally[] = {std::int64_t(measured), std::int64_t(fractional), std::int64_t(positive)};
        ranks.sum(tally, 3);
        measured = index_t(tally[0]);
        fractional = index_t(tally[1]);
        positive = index_t(tally[2]);
        if (fractional > 0) example = float(ranks.max(double(example)));
    }
    CountCheck c;
    if (measured == 0 || positive == 0) {
        c.note = "the measured intensities are all zero: no photon counts to measure the noise with";
        return c;
    }
    c.counts = double(fractional) <= 1e-3 * double(measured);
    if (!c.counts) {
        char text[256];
        std::snprintf(text, sizeof text,
                      "the intensities are not photon counts (%lld of %lld measured values are not whole numbers "
                      ">= 0, e.g. %g): their noise is unknown, so the run stops at the iteration cap",
                      static_cast<long long>(fractional), static_cast<long long>(measured), double(example));
        c.note = text;
    }
    return c;
}

StopGuard::StopGuard(Model& model) : model_(model) {}

double StopGuard::misfit(int k, View<const complex64> object, View<const complex64> probe, bool set_probe) {
    if (k == measured_k_) return ratio_;
    if (set_probe) model_.set_probe(probe);
    const Model::Residual r = model_.residual(object);
    measured_k_ = k;
    ratio_ = r.ratio();
    return ratio_;
}

bool StopGuard::diverging(int k, View<const complex64> object, View<const complex64> probe) {
    if (!std::isfinite(ratio_)) return true;
    if (best_k_ == 0 || ratio_ < best_misfit_) {
        best_k_ = k;
        best_misfit_ = ratio_;
        if (best_object_.shape() != object.shape()) best_object_ = Array<complex64>(object.shape(), object.device());
        if (best_probe_.shape() != probe.shape()) best_probe_ = Array<complex64>(probe.shape(), probe.device());
        copy(object, best_object_.view());
        copy(probe, best_probe_.view());
    }
    recent_.push_back(ratio_);
    if (recent_.size() > std::size_t(window)) recent_.erase(recent_.begin());
    if (recent_.size() < std::size_t(window)) return false;
    double mean = 0;
    for (double v : recent_) mean += v / double(window);
    if (best_mean_ == 0 || mean < best_mean_) {
        best_mean_ = mean;
        return false;
    }
    return mean > (1.0 + rise) * best_mean_;
}

int StopGuard::restore_best(View<complex64> object, View<complex64> probe) const {
    if (best_k_ == 0) return 0;
    copy(View<const complex64>(best_object_.view()), object);
    copy(View<const complex64>(best_probe_.view()), probe);
    return best_k_;
}

}  // namespace lumen::ptycho
