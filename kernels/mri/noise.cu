// CUDA instantiation of the whitening functor; the math is in noise.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/mri/noise.hpp"

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::WhitenF);
