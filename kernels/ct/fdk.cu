// CUDA instantiations of the FDK functors; the math is in kernels/ct/fdk.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/ct/fdk.hpp"

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::FdkPackWeightedF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::MulSpectrumF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::UnpackRowsPaddedF);
