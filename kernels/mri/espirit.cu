// CUDA instantiation of ESPIRiT's per-pixel eigenvector functor; the math is in espirit.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/mri/espirit.hpp"

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::EspiritPowerF);
