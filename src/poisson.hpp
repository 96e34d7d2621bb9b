// The one Poisson sampler of lumen's simulators (host code).
#pragma once

#include <algorithm>
#include <cmath>
#include <random>

namespace lumen::detail {

// Poisson(mean) counts; 0 for a mean <= 0; above a mean of 1000 the normal approximation
// (rounded), whose error is far below the noise itself and which costs a fraction of the exact
// sampler.
inline float poisson_count(std::mt19937_64& rng, double mean) {
    if (!(mean > 0.0)) return 0.0f;
    if (mean < 1000.0) return float(std::poisson_distribution<long>(mean)(rng));
    const double z = std::normal_distribution<double>(0.0, 1.0)(rng);
    return float(std::max(0.0, std::round(mean + std::sqrt(mean) * z)));
}

}  // namespace lumen::detail
