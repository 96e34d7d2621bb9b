// The operator, solver and regulariser cases of the CPU tests, run on the GPU with the same
// assertions, plus CPU-vs-GPU parity of the operators and of a few solver runs.
#include "tests/solvers/cases_linop.hpp"
#include "tests/solvers/cases_regularizers.hpp"
#include "tests/solvers/cases_solvers.hpp"

using namespace lumen;
constexpr Device gpu = Device::cuda;

TEST(LinopGpu, Dense) {
    LUMEN_REQUIRE_GPU();
    cases::dense_matches_reference<float>(gpu);
    cases::dense_matches_reference<complex64>(gpu);
}
TEST(LinopGpu, AdjointTestFlagsWrongAdjoint) {
    LUMEN_REQUIRE_GPU();
    cases::adjoint_test_flags_a_wrong_adjoint<float>(gpu);
    cases::adjoint_test_flags_a_wrong_adjoint<complex64>(gpu);
}
TEST(LinopGpu, Algebra) {
    LUMEN_REQUIRE_GPU();
    cases::algebra_matches_matrices<float>(gpu);
    cases::algebra_matches_matrices<complex64>(gpu);
}
TEST(LinopGpu, OperatorNorm) {
    LUMEN_REQUIRE_GPU();
    cases::operator_norm_matches_known_value<float>(gpu);
    cases::operator_norm_matches_known_value<complex64>(gpu);
}

TEST(SolversGpu, Cg) {
    LUMEN_REQUIRE_GPU();
    cases::cg_exact_in_n_steps<float>(gpu);
    cases::cg_exact_in_n_steps<complex64>(gpu);
    cases::cg_normal_matches_direct<float>(gpu);
    cases::cg_normal_matches_direct<complex64>(gpu);
    cases::cgls_matches_direct<float>(gpu);
    cases::cgls_matches_direct<complex64>(gpu);
}
TEST(SolversGpu, Sirt) {
    LUMEN_REQUIRE_GPU();
    cases::sirt_converges(gpu);
}
TEST(SolversGpu, Nesterov) {
    LUMEN_REQUIRE_GPU();
    cases::nesterov_least_squares<float>(gpu);
    cases::nesterov_least_squares<complex64>(gpu);
    cases::nesterov_without_momentum_is_gradient_descent<float>(gpu);
    cases::nesterov_without_momentum_is_gradient_descent<complex64>(gpu);
    cases::nesterov_two_blocks<float>(gpu);
    cases::nesterov_two_blocks<complex64>(gpu);
    cases::nesterov_projection(gpu);
    cases::nesterov_restart_helps<float>(gpu);
    cases::nesterov_restart_helps<complex64>(gpu);
}
TEST(SolversGpu, Fista) {
    LUMEN_REQUIRE_GPU();
    cases::fista_denoise_closed_form<float>(gpu);
    cases::fista_denoise_closed_form<complex64>(gpu);
    cases::fista_beats_ista<float>(gpu);
    cases::fista_beats_ista<complex64>(gpu);
}
TEST(SolversGpu, AdmmTv) {
    LUMEN_REQUIRE_GPU();
    cases::admm_tv_step_edge<float>(gpu, 2, true);
    cases::admm_tv_step_edge<float>(gpu, 2, false);
    cases::admm_tv_step_edge<float>(gpu, 3, true);
    cases::admm_tv_step_edge<complex64>(gpu, 2, true);
    cases::admm_tv_least_squares<float>(gpu);
    cases::admm_tv_least_squares<complex64>(gpu);
    cases::admm_tv_nonnegative(gpu);
}
TEST(SolversGpu, DivergenceGuardAndStopping) {
    LUMEN_REQUIRE_GPU();
    cases::divergence_guard_all_solvers<float>(gpu);
    cases::divergence_guard_all_solvers<complex64>(gpu);
    cases::divergence_guard_sirt(gpu);
    cases::stopping_rules<float>(gpu);
    cases::stopping_rules<complex64>(gpu);
}

TEST(RegularizersGpu, FiniteDifferenceAndTv) {
    LUMEN_REQUIRE_GPU();
    cases::finite_difference_matches_definition<float>(gpu, Shape{3, 8, 9}, 2);
    cases::finite_difference_matches_definition<float>(gpu, Shape{2, 5, 6, 7}, 3);
    cases::finite_difference_matches_definition<complex64>(gpu, Shape{5, 6, 7}, 3);
    cases::total_variation_matches_definition<float>(gpu);
    cases::total_variation_matches_definition<complex64>(gpu);
}
TEST(RegularizersGpu, ProximalMaps) {
    LUMEN_REQUIRE_GPU();
    cases::soft_threshold_closed_form<float>(gpu);
    cases::soft_threshold_closed_form<complex64>(gpu);
    cases::projections_closed_form(gpu);
}
TEST(RegularizersGpu, Wavelet) {
    LUMEN_REQUIRE_GPU();
    cases::wavelet_matches_matrices_and_is_orthogonal<float>(gpu, Shape{16, 24}, 3);
    cases::wavelet_matches_matrices_and_is_orthogonal<float>(gpu, Shape{2, 6}, 1);
    cases::wavelet_matches_matrices_and_is_orthogonal<complex64>(gpu, Shape{3, 32, 16}, 4);
    cases::wavelet_constant_image(gpu);
}

// The same operator applied on both devices to the same input.
template <class T>
void expect_operator_parity(const LinOpPtr<T>& on_cpu, const LinOpPtr<T>& on_gpu, double tol) {
    Array<T> x = cases::random_array<T>(on_cpu->domain_shape(), 3, Device::cpu);
    Array<T> y = cases::random_array<T>(on_cpu->range_shape(), 4, Device::cpu);
    Array<T> ax(on_cpu->range_shape()), ahy(on_cpu->domain_shape());
    Array<T> ax_g(on_cpu->range_shape(), Device::cuda), ahy_g(on_cpu->domain_shape(), Device::cuda);
    on_cpu->apply(x, ax.view());
    on_cpu->apply_adjoint(y, ahy.view());
    on_gpu->apply(x.to(Device::cuda), ax_g.view());
    on_gpu->apply_adjoint(y.to(Device::cuda), ahy_g.view());
    EXPECT_LT(test::max_rel_diff(ax, ax_g.to(Device::cpu)), tol);
    EXPECT_LT(test::max_rel_diff(ahy, ahy_g.to(Device::cpu)), tol);
}

TEST(ParityGpu, Operators) {
    LUMEN_REQUIRE_GPU();
    const Shape s3{2, 9, 10, 12}, s2{3, 32, 24};
    expect_operator_parity<float>(finite_difference<float>(s3, 3, Device::cpu), finite_difference<float>(s3, 3, gpu), 1e-6);
    expect_operator_parity<complex64>(finite_difference<complex64>(s2, 2, Device::cpu),
                                      finite_difference<complex64>(s2, 2, gpu), 1e-6);
    expect_operator_parity<float>(wavelet2d<float>(s2, 3, Device::cpu), wavelet2d<float>(s2, 3, gpu), 1e-6);
    expect_operator_parity<complex64>(wavelet2d<complex64>(s2, 3, Device::cpu), wavelet2d<complex64>(s2, 3, gpu), 1e-6);
    Array<complex64> m = test::random_complex(Shape{70, 50}, 9);
    expect_operator_parity<complex64>(dense_matrix<complex64>(m.clone(), Device::cpu), dense_matrix<complex64>(m.clone(), gpu),
                                      1e-6);
}

TEST(ParityGpu, SolverRuns) {
    LUMEN_REQUIRE_GPU();
    const Shape shape{24, 32};
    Array<float> b = test::random_real(shape, 5);
    auto run = [&](Device dev) {
        Array<float> x(shape, dev);
        AdmmTvOptions ao;
        ao.lambda = 0.1;
        SolverOptions opt;
        opt.max_iterations = 10;
        admm_tv<float>(*identity<float>(shape, dev), b.to(dev), x.view(), ao, opt);
        return x.to(Device::cpu);
    };
    Array<float> xc = run(Device::cpu), xg = run(gpu);
    EXPECT_LT(test::max_rel_diff(xc, xg), 1e-4);
    Array<float> bc = b.clone();
    soft_threshold(bc.view(), 0.3);
    Array<float> bg = b.to(gpu);
    soft_threshold(bg.view(), 0.3);
    EXPECT_EQ(test::max_rel_diff(bc, bg.to(Device::cpu)), 0.0);
    EXPECT_NEAR(total_variation<float>(b, 2, true), total_variation<float>(b.to(gpu), 2, true), 1e-9 * shape.size());
}
