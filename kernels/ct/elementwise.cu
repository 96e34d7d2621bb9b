// CUDA instantiations of the CT per-element functors; the math is in kernels/ct/elementwise.hpp.
#include "kernels/common/launch.cuh"
#include "kernels/ct/elementwise.hpp"

using SumD = lumen::kern::SumOp<double>;
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::NormalizeF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ct::NegLogF);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::NonPositiveF, SumD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::LinearResidualF, SumD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::BeerLambertResidualF, SumD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::SmoothTvF, SumD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::PoissonResidualF, SumD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::NoiseWeightedResidualF, SumD);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::NegatedF, lumen::kern::MaxOp);
LUMEN_INSTANTIATE_REDUCE(double, lumen::kern::ct::PoissonCurvatureF, lumen::kern::MaxOp);
