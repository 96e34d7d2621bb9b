// The solvers on the CPU (the GPU runs the same cases in solvers_gpu.cpp).
#include "tests/solvers/cases_solvers.hpp"

using namespace lumen;
constexpr Device cpu = Device::cpu;

TEST(Cg, ExactInNStepsReal) { cases::cg_exact_in_n_steps<float>(cpu); }
TEST(Cg, ExactInNStepsComplex) { cases::cg_exact_in_n_steps<complex64>(cpu); }
TEST(CgNormal, MatchesDirectSolveReal) { cases::cg_normal_matches_direct<float>(cpu); }
TEST(CgNormal, MatchesDirectSolveComplex) { cases::cg_normal_matches_direct<complex64>(cpu); }
TEST(Cgls, MatchesDirectSolveReal) { cases::cgls_matches_direct<float>(cpu); }
TEST(Cgls, MatchesDirectSolveComplex) { cases::cgls_matches_direct<complex64>(cpu); }
TEST(Sirt, ConvergesAndRespectsBounds) { cases::sirt_converges(cpu); }
TEST(Nesterov, LeastSquaresReal) { cases::nesterov_least_squares<float>(cpu); }
TEST(Nesterov, LeastSquaresComplex) { cases::nesterov_least_squares<complex64>(cpu); }
TEST(Nesterov, WithoutMomentumIsGradientDescentReal) { cases::nesterov_without_momentum_is_gradient_descent<float>(cpu); }
TEST(Nesterov, WithoutMomentumIsGradientDescentComplex) {
    cases::nesterov_without_momentum_is_gradient_descent<complex64>(cpu);
}
TEST(Nesterov, TwoBlocksReal) { cases::nesterov_two_blocks<float>(cpu); }
TEST(Nesterov, TwoBlocksComplex) { cases::nesterov_two_blocks<complex64>(cpu); }
TEST(Nesterov, ProjectionAndHooks) { cases::nesterov_projection(cpu); }
TEST(Nesterov, AdaptiveRestartHelpsReal) { cases::nesterov_restart_helps<float>(cpu); }
TEST(Nesterov, AdaptiveRestartHelpsComplex) { cases::nesterov_restart_helps<complex64>(cpu); }
TEST(Fista, DenoiseClosedFormReal) { cases::fista_denoise_closed_form<float>(cpu); }
TEST(Fista, DenoiseClosedFormComplex) { cases::fista_denoise_closed_form<complex64>(cpu); }
TEST(Fista, BeatsIstaReal) { cases::fista_beats_ista<float>(cpu); }
TEST(Fista, BeatsIstaComplex) { cases::fista_beats_ista<complex64>(cpu); }
TEST(AdmmTv, StepEdgeIsotropic2d) { cases::admm_tv_step_edge<float>(cpu, 2, true); }
TEST(AdmmTv, StepEdgeAnisotropic2d) { cases::admm_tv_step_edge<float>(cpu, 2, false); }
TEST(AdmmTv, StepEdgeIsotropic3d) { cases::admm_tv_step_edge<float>(cpu, 3, true); }
TEST(AdmmTv, StepEdgeComplex2d) { cases::admm_tv_step_edge<complex64>(cpu, 2, true); }
TEST(AdmmTv, LeastSquaresWithoutTvReal) { cases::admm_tv_least_squares<float>(cpu); }
TEST(AdmmTv, LeastSquaresWithoutTvComplex) { cases::admm_tv_least_squares<complex64>(cpu); }
TEST(AdmmTv, Nonnegative) { cases::admm_tv_nonnegative(cpu); }
TEST(DivergenceGuard, RestoresLastGoodEstimateReal) { cases::divergence_guard_all_solvers<float>(cpu); }
TEST(DivergenceGuard, RestoresLastGoodEstimateComplex) { cases::divergence_guard_all_solvers<complex64>(cpu); }
TEST(DivergenceGuard, Sirt) { cases::divergence_guard_sirt(cpu); }
TEST(Monitor, StoppingRulesReal) { cases::stopping_rules<float>(cpu); }
TEST(Monitor, StoppingRulesComplex) { cases::stopping_rules<complex64>(cpu); }
