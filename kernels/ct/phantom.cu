// CUDA instantiations of the phantom functors; the math is in kernels/ct/phantom.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/ct/phantom.hpp"

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::VoxelizeF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::AnalyticProjectF);
