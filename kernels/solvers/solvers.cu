// CUDA instantiations of the solver and regulariser functors; the math is in the headers beside
// this file, the host code in src/linop.cpp and src/solvers/.
#include "kernels/common/launch.cuh"
#include "kernels/solvers/dense.hpp"
#include "kernels/solvers/finite_diff.hpp"
#include "kernels/solvers/solver_ops.hpp"
#include "kernels/solvers/wavelet.hpp"

namespace lumen::kern {
using DenseApplyR = DenseApplyF<float, double>;
using DenseApplyC = DenseApplyF<complex64, complex128>;
using DenseAdjointR = DenseAdjointF<float, double>;
using DenseAdjointC = DenseAdjointF<complex64, complex128>;
using SumOpD = SumOp<double>;
using SumOp3 = SumOp<Sum3>;
}  // namespace lumen::kern

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::DenseApplyR);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::DenseApplyC);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::DenseAdjointR);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::DenseAdjointC);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::InvOrZeroF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ProjectBoxF);
LUMEN_INSTANTIATE_REDUCE(lumen::kern::Sum3, lumen::kern::SirtUpdateF, lumen::kern::SumOp3);

#define LUMEN_SOLVER_KERNELS_GPU(T)                                                                   \
    LUMEN_INSTANTIATE_REDUCE(lumen::kern::Sum3, lumen::kern::StepMeasureF<T>, lumen::kern::SumOp3);   \
    LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::DiffNormSqF<T>, lumen::kern::SumOpD);               \
    LUMEN_INSTANTIATE_REDUCE(lumen::kern::Sum3, lumen::kern::NoiseMisfitF<T>, lumen::kern::SumOp3);   \
    LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ReDotSumF<T>, lumen::kern::SumOpD);                 \
    LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::AbsF<T>, lumen::kern::SumOpD);                      \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::Comb3F<T>);                                               \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::GradStepF<T>);                                            \
    LUMEN_INSTANTIATE_REDUCE(lumen::kern::Sum3, lumen::kern::GradStepMeasureF<T>, lumen::kern::SumOp3); \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::SoftThresholdF<T>);                                       \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::GradF<T>);                                                \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::GradAdjointF<T>);                                         \
    LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::TvValueF<T>, lumen::kern::SumOpD);                  \
    LUMEN_INSTANTIATE_REDUCE(lumen::kern::Sum3, lumen::kern::TvShrinkF<T>, lumen::kern::SumOp3);                  \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::WaveletPassF<T>);

using lumen::complex64;
LUMEN_SOLVER_KERNELS_GPU(float)
LUMEN_SOLVER_KERNELS_GPU(complex64)
