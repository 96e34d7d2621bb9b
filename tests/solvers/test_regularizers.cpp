// Regularisers and proximal maps on the CPU (the GPU runs the same cases in solvers_gpu.cpp).
#include "tests/solvers/cases_regularizers.hpp"

using namespace lumen;
constexpr Device cpu = Device::cpu;

TEST(FiniteDifference, Matches2dWithBatchReal) { cases::finite_difference_matches_definition<float>(cpu, Shape{3, 8, 9}, 2); }
TEST(FiniteDifference, Matches3dWithBatchReal) {
    cases::finite_difference_matches_definition<float>(cpu, Shape{2, 5, 6, 7}, 3);
}
TEST(FiniteDifference, Matches2dComplex) { cases::finite_difference_matches_definition<complex64>(cpu, Shape{8, 9}, 2); }
TEST(FiniteDifference, Matches3dComplex) { cases::finite_difference_matches_definition<complex64>(cpu, Shape{5, 6, 7}, 3); }
TEST(FiniteDifference, RejectsBadDims) {
    EXPECT_THROW(finite_difference<float>(Shape{4, 4}, 3, cpu), Error);
    EXPECT_THROW(finite_difference<float>(Shape{4, 4}, 1, cpu), Error);
    EXPECT_THROW(finite_difference<float>(Shape{2, 2, 2, 2, 2, 2}, 2, cpu), Error);  // gradient would be rank 7
}
TEST(TotalVariation, MatchesDefinitionReal) { cases::total_variation_matches_definition<float>(cpu); }
TEST(TotalVariation, MatchesDefinitionComplex) { cases::total_variation_matches_definition<complex64>(cpu); }
TEST(SoftThreshold, ClosedFormReal) { cases::soft_threshold_closed_form<float>(cpu); }
TEST(SoftThreshold, ClosedFormComplex) { cases::soft_threshold_closed_form<complex64>(cpu); }
TEST(Projections, ClosedForm) { cases::projections_closed_form(cpu); }
TEST(Wavelet, MatchesMatricesAndIsOrthogonalReal) {
    cases::wavelet_matches_matrices_and_is_orthogonal<float>(cpu, Shape{16, 24}, 3);
    cases::wavelet_matches_matrices_and_is_orthogonal<float>(cpu, Shape{2, 12, 20}, 5);  // limited to 2 levels
    cases::wavelet_matches_matrices_and_is_orthogonal<float>(cpu, Shape{8, 8}, 3);       // down to 1 x 1
    cases::wavelet_matches_matrices_and_is_orthogonal<float>(cpu, Shape{2, 6}, 1);       // L = 2: taps wrap
}
TEST(Wavelet, MatchesMatricesAndIsOrthogonalComplex) {
    cases::wavelet_matches_matrices_and_is_orthogonal<complex64>(cpu, Shape{3, 32, 16}, 4);
    cases::wavelet_matches_matrices_and_is_orthogonal<complex64>(cpu, Shape{10, 14}, 2);
}
TEST(Wavelet, ConstantImage) { cases::wavelet_constant_image(cpu); }
TEST(Wavelet, LevelsRule) { cases::wavelet_levels_rule(); }
