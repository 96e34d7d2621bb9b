// CUDA instantiations of the CT projector functors; the math is in kernels/ct/projector.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/ct/projector.hpp"

namespace lumen::kern::ct {
using BackProjectAtomicF = BackProjectRayF<true>;
}  // namespace lumen::kern::ct

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::ForwardProjectF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::BackProjectAtomicF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::FdkBackprojectF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::PadProjectionsF);
