// Image-quality metrics, shared by all modalities. Inputs may live on either device (they are
// copied to the host); all sums are accumulated in double.
#pragma once

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen {

// ||est - ref|| / ||ref||
double nrmse(View<const float> ref, View<const float> est);

// NRMSE for complex images after removing the global ambiguity of phase retrieval:
//   remove_phase: est is multiplied by exp(i*phi) with phi = arg(<est, ref>) (the minimiser);
//   remove_scale: est is multiplied by the complex factor a = <est, ref> / <est, est> instead
//                 (phase and amplitude scale, for blind ptychography).
// weights (optional, same size, >= 0) restrict the comparison, e.g. to the illuminated region:
//   || sqrt(w) (a est - ref) || / || sqrt(w) ref ||.
double nrmse_complex(View<const complex64> ref, View<const complex64> est, bool remove_phase = true,
                     bool remove_scale = false, View<const float> weights = {});

// fastMRI's NMSE: ||ref - est||^2 / ||ref||^2
double nmse(View<const float> ref, View<const float> est);

// 10 log10(peak^2 / MSE). The peak is explicit (fastMRI: the maximum of the reference volume; CT:
// the reference's maximum attenuation); pass peak <= 0 to use max(ref).
double psnr(View<const float> ref, View<const float> est, double peak = 0.0);

// Mean structural similarity of 2-D images [ny][nx] as scikit-image computes it and fastMRI reports
// it: 7x7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance (N / (N - 1)), averaged over the
// windows that fit entirely inside the image. data_range <= 0 means max(ref) - min(ref).
double ssim(View<const float> ref, View<const float> est, double data_range = 0.0);
// For a stack [n][ny][nx]: the mean of the per-slice SSIMs with one data range for the stack
// (fastMRI: the volume maximum).
double ssim_stack(View<const float> ref, View<const float> est, double data_range = 0.0);

}  // namespace lumen
