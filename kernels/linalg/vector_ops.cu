// CUDA instantiations of the vector-algebra functors; the math is in vector_ops.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/linalg/vector_ops.hpp"

namespace lumen::kern {
using DotR = DotF<float, double>;
using DotC = DotF<complex64, complex128>;
using SumR = SumF<float, double>;
using SumC = SumF<complex64, complex128>;
}  // namespace lumen::kern

using lumen::complex128;
using lumen::complex64;
using SumOpD = lumen::kern::SumOp<double>;
using SumOpC = lumen::kern::SumOp<complex128>;

LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::DotR, SumOpD);
LUMEN_INSTANTIATE_REDUCE(complex128, lumen::kern::DotC, SumOpC);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::SumR, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::SumR, lumen::kern::MaxOp);
LUMEN_INSTANTIATE_REDUCE(complex128, lumen::kern::SumC, SumOpC);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::NormSqF<float>, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::NormSqF<complex64>, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::NormSqF<float>, lumen::kern::MaxOp);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::NormSqF<complex64>, lumen::kern::MaxOp);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::NonFiniteF<float>, SumOpD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::NonFiniteF<complex64>, SumOpD);

#define LUMEN_VECTOR_OPS_GPU(T)                                  \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::AxpyF<T>);           \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::AxpbyF<T>);          \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::LinCombF<T>);        \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ScaleF<T>);          \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::FillF<T>);           \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::MulF<T>);            \
    LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ConjMulF<T>);
LUMEN_VECTOR_OPS_GPU(float)
LUMEN_VECTOR_OPS_GPU(complex64)
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ClampF);
