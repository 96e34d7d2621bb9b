// The operator interface on the CPU (the GPU runs the same cases in solvers_gpu.cpp).
#include "tests/solvers/cases_linop.hpp"

using namespace lumen;
constexpr Device cpu = Device::cpu;

TEST(Linop, DenseMatchesReferenceReal) { cases::dense_matches_reference<float>(cpu); }
TEST(Linop, DenseMatchesReferenceComplex) { cases::dense_matches_reference<complex64>(cpu); }
TEST(Linop, AdjointTestFlagsWrongAdjointReal) { cases::adjoint_test_flags_a_wrong_adjoint<float>(cpu); }
TEST(Linop, AdjointTestFlagsWrongAdjointComplex) { cases::adjoint_test_flags_a_wrong_adjoint<complex64>(cpu); }
TEST(Linop, AlgebraMatchesMatricesReal) { cases::algebra_matches_matrices<float>(cpu); }
TEST(Linop, AlgebraMatchesMatricesComplex) { cases::algebra_matches_matrices<complex64>(cpu); }
TEST(Linop, OperatorNormReal) { cases::operator_norm_matches_known_value<float>(cpu); }
TEST(Linop, OperatorNormComplex) { cases::operator_norm_matches_known_value<complex64>(cpu); }

TEST(Linop, CompositionChecksShapesAndDevices) {
    LinOpPtr<float> a = identity<float>(Shape{4}, cpu), b = identity<float>(Shape{5}, cpu);
    EXPECT_THROW(compose(a, b), Error);
    EXPECT_THROW(sum(a, b), Error);
    Array<float> m(Shape{3, 4});
    LinOpPtr<float> d = dense_matrix<float>(std::move(m));
    Array<float> x(Shape{5}), y(Shape{3});
    try {
        d->apply(x, y.view());
        ADD_FAILURE() << "wrong input size accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::bad_input);
        EXPECT_NE(std::string(e.what()).find("expected 4 and 3"), std::string::npos) << e.what();
    }
    EXPECT_THROW(dense_matrix<float>(Array<float>(Shape{6})), Error);
}

TEST(Linop, OperatorNormOfZeroIsZero) {
    LinOpPtr<float> z = dense_matrix<float>(Array<float>(Shape{3, 4}));
    EXPECT_EQ(operator_norm(*z), 0.0);
}
