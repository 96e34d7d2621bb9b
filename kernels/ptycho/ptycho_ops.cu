// CUDA instantiations of the ptychography functors; the math is in ptycho_ops.hpp. Overlap-adds
// onto the object are instantiated with the atomic policy only (the GPU launches whole batches).
#include "kernels/common/launch.cuh"
#include "kernels/ptycho/ptycho_ops.hpp"

namespace kp = lumen::kern::ptycho;
using SumOpD = lumen::kern::SumOp<double>;
using MaxOpD = lumen::kern::MaxOp;
using ObjectAdjointAtomic = kp::ObjectAdjointF<true>;
using IlluminationAtomic = kp::IlluminationF<true>;

LUMEN_INSTANTIATE_FOR_EACH(kp::ExitWaveF);
LUMEN_INSTANTIATE_FOR_EACH(ObjectAdjointAtomic);
LUMEN_INSTANTIATE_FOR_EACH(IlluminationAtomic);
LUMEN_INSTANTIATE_FOR_EACH(kp::ProbeAdjointGatherF);
LUMEN_INSTANTIATE_FOR_EACH(kp::ConjObjectMulF);
LUMEN_INSTANTIATE_FOR_EACH(kp::WeightObjectF);
LUMEN_INSTANTIATE_FOR_EACH(kp::WeightedMeanF);
LUMEN_INSTANTIATE_FOR_EACH(kp::ObjectPowerGatherF);
LUMEN_INSTANTIATE_FOR_EACH(kp::IlluminationPreconditionF);
LUMEN_INSTANTIATE_FOR_EACH(kp::ShiftSpectrumF);
LUMEN_INSTANTIATE_FOR_EACH(kp::UnshiftSumGatherF);
LUMEN_INSTANTIATE_FOR_EACH(kp::PositionGradientGatherF);
LUMEN_INSTANTIATE_FOR_EACH(kp::ShiftDerivativeSpectrumF);
LUMEN_INSTANTIATE_FOR_EACH(kp::PositionCurvatureGatherF);
LUMEN_INSTANTIATE_FOR_EACH(kp::OffsetCornersF);
LUMEN_INSTANTIATE_FOR_EACH(kp::FrameLossGatherF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CyclicShiftF<float>);
LUMEN_INSTANTIATE_FOR_EACH(kp::IntensityF);
LUMEN_INSTANTIATE_FOR_EACH(kp::TransferF);
LUMEN_INSTANTIATE_FOR_EACH(kp::PieUpdateF);

LUMEN_INSTANTIATE_REDUCE(double, kp::FarFieldLossF, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, kp::AmplitudeResidualF, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, kp::IntensityCurvatureF, MaxOpD);
LUMEN_INSTANTIATE_REDUCE(double, kp::ModulusProjectF, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, kp::PatchNormSqF, MaxOpD);
