// CUDA instantiations of the POCS functors; the math is in partial_fourier.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/mri/partial_fourier.hpp"

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::UnitPhaseF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::PhaseConstrainF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::PocsConsistencyF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ApplyPhaseF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ProjectPhaseF);
