// CUDA instantiation of the coil-compression functor; the math is in preprocess.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/mri/preprocess.hpp"

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CoilMixF);
