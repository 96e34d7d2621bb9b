// One quality report for every modality: how close a reconstruction is to a known truth
// (simulations, phantoms, fully sampled references). A metric a modality does not measure stays
// NaN; apps print and serialise only the measured ones (apps/common: app::quality_json).
#pragma once

#include <cmath>

namespace lumen {

struct Quality {
    double psnr_db = std::nan("");     // 10 log10(peak^2 / MSE)
    double peak = std::nan("");        // the peak used for the PSNR (the reference's maximum)
    double nrmse = std::nan("");       // ||x - ref|| / ||ref|| (ptychography: the object, after its ambiguities)
    double nmse = std::nan("");        // ||x - ref||^2 / ||ref||^2 (fastMRI's NMSE)
    double ssim = std::nan("");        // mean structural similarity over 2-D slices
    double nrmse_probe = std::nan(""); // ptychography: the probe's NRMSE (after its ambiguities)

    // True when at least one metric was measured.
    bool measured() const {
        return std::isfinite(psnr_db) || std::isfinite(nrmse) || std::isfinite(nmse) || std::isfinite(ssim) ||
               std::isfinite(nrmse_probe);
    }
};

}  // namespace lumen
