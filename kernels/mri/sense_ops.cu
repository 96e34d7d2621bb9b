// CUDA instantiations of the MRI operator functors; the math is in sense_ops.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/mri/sense_ops.hpp"

namespace lumen::kern {
using CropPadReal = CropPadF<float>;
using CropPadComplex = CropPadF<complex64>;
}  // namespace lumen::kern

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CoilExpandF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CoilCombineF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::MaskF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::RssF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::SenseMagnitudeF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::MaskFromDataF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CropPadReal);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CropPadComplex);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CircularShiftF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::MeasuredVarianceF);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::CoilPowerF, lumen::kern::MaxOp);
