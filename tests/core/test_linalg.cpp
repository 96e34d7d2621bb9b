// Vector algebra against plain loops in double.
#include <cmath>
#include <limits>

#include "lumen/linalg.hpp"
#include "lumen/linop.hpp"
#include "lumen/solvers/solvers.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

TEST(Linalg, ComplexDotIsConjugateLinearInFirstArgument) {
    Array<complex64> x = test::random_complex(Shape{1001}, 1), y = test::random_complex(Shape{1001}, 2);
    std::complex<double> ref = 0;
    for (index_t i = 0; i < x.size(); ++i)
        ref += std::conj(std::complex<double>(x[i].re, x[i].im)) * std::complex<double>(y[i].re, y[i].im);
    const complex128 d = dot<complex64>(x, y);
    EXPECT_NEAR(d.re, ref.real(), 1e-9 * std::abs(ref) + 1e-9);
    EXPECT_NEAR(d.im, ref.imag(), 1e-9 * std::abs(ref) + 1e-9);
}

TEST(Linalg, RealReductionsAccumulateInDouble) {
    // 2^24 + 1 ones: a float accumulator would stop at 2^24.
    const index_t n = (index_t(1) << 24) + 1;
    Array<float> x(Shape{n});
    fill(x.view(), 1.0f);
    EXPECT_EQ(sum<float>(x), double(n));
    EXPECT_EQ(norm2_squared<float>(x), double(n));
    EXPECT_NEAR(norm2<float>(x), std::sqrt(double(n)), 1e-9);
}

TEST(Linalg, ElementwiseOperations) {
    Array<complex64> x = test::random_complex(Shape{37}, 3), y = test::random_complex(Shape{37}, 4);
    Array<complex64> out(Shape{37});
    const complex64 a(0.5f, -1.0f), b(2.0f, 0.25f);
    lin_comb(a, x, b, y, out.view());
    for (index_t i = 0; i < 37; ++i) EXPECT_LT(abs(out[i] - (a * x[i] + b * y[i])), 1e-6f);

    Array<complex64> z = y.clone();
    axpy(a, x, z.view());
    for (index_t i = 0; i < 37; ++i) EXPECT_LT(abs(z[i] - (y[i] + a * x[i])), 1e-6f);

    z = y.clone();
    axpby(a, x, b, z.view());
    for (index_t i = 0; i < 37; ++i) EXPECT_LT(abs(z[i] - (a * x[i] + b * y[i])), 1e-6f);

    conj_mul(x, y, out.view());
    for (index_t i = 0; i < 37; ++i) EXPECT_LT(abs(out[i] - conj(x[i]) * y[i]), 1e-6f);

    mul(x, y, out.view());
    for (index_t i = 0; i < 37; ++i) EXPECT_LT(abs(out[i] - x[i] * y[i]), 1e-6f);

    z = x.clone();
    scale(complex64(0.0f, 1.0f), z.view());
    for (index_t i = 0; i < 37; ++i) EXPECT_LT(abs(z[i] - complex64(-x[i].im, x[i].re)), 1e-6f);
}

TEST(Linalg, MaxAbsClampAndFiniteness) {
    Array<float> x = Array<float>::from({-3.0f, 2.0f, 0.5f}, Shape{3});
    EXPECT_DOUBLE_EQ(max_abs<float>(x), 3.0);
    clamp(x.view(), 0.0f, 1.0f);
    EXPECT_EQ(x[0], 0.0f);
    EXPECT_EQ(x[1], 1.0f);
    EXPECT_EQ(x[2], 0.5f);
    EXPECT_TRUE(all_finite<float>(x));
    x[1] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(all_finite<float>(x));
    x[1] = std::numeric_limits<float>::infinity();
    EXPECT_FALSE(all_finite<float>(x));
}

TEST(Linalg, MismatchedSizesAreRejected) {
    Array<float> x(Shape{3}), y(Shape{4});
    EXPECT_THROW(axpy(1.0f, x, y.view()), Error);
    EXPECT_THROW((void)dot<float>(x, y), Error);
}

TEST(Array, MoveOnlyOwnershipAndViews) {
    Array<float> a(Shape{2, 3});
    EXPECT_EQ(a.size(), 6);
    for (auto v : a) EXPECT_EQ(v, 0.0f);  // zero-initialised
    a[4] = 7.0f;
    Array<float> b = std::move(a);
    EXPECT_EQ(b[4], 7.0f);
    EXPECT_EQ(a.size(), 0);
    View<float> row = b.view().item(1);
    EXPECT_EQ(row.shape(), (Shape{3}));
    EXPECT_EQ(row[1], 7.0f);
    EXPECT_THROW(b.reshape(Shape{4, 2}), Error);
    b.reshape(Shape{3, 2});
    EXPECT_EQ(b.dim(0), 3);
    EXPECT_EQ((Shape{2, 3}).str(), "(2, 3)");
}

TEST(Device, ParsingAndCpuOnlyBehaviour) {
    EXPECT_EQ(parse_device("cpu"), Device::cpu);
    try {
        parse_device("tpu", "ReconOptions.device");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_option);
        EXPECT_EQ(e.field(), "ReconOptions.device");
        EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos);  // a field, not a flag
    }
    if (!cuda_available()) {
        EXPECT_EQ(parse_device("auto"), Device::cpu);
        try {
            parse_device("cuda");
            FAIL() << "expected an error";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), 2);
            EXPECT_EQ(e.code(), ErrorCode::no_gpu);
            EXPECT_NE(std::string(e.what()).find("on the CPU"), std::string::npos);
        }
        EXPECT_THROW(Array<float>(Shape{4}, Device::cuda), Error);
    }
}

// The API reads like the math: Arrays and Views of either element type go straight into the
// algebra and the solvers, with no View<const T>(...) casts (this test is about compiling as much
// as about the values: it fails to build if an overload goes missing or becomes ambiguous).
TEST(Linalg, ArraysAndViewsNeedNoCasts) {
    Array<complex64> x = test::random_complex(Shape{64}, 5), y = test::random_complex(Shape{64}, 6);
    Array<complex64> out(Shape{64});
    const complex128 d = dot(x, y);
    const complex128 d_template = dot<complex64>(x, y);
    EXPECT_EQ(d.re, d_template.re);
    EXPECT_EQ(d.im, d_template.im);
    EXPECT_EQ(norm2(x), norm2<complex64>(x));
    mul(x, y, out);
    conj_mul(x.view(), y, out.view());
    axpy(complex64(2.0f, 0.0f), x, y);
    scale(complex64(0.5f, 0.0f), y);

    Array<float> a(Shape{8, 5}), b(Shape{8}), z(Shape{5});
    for (index_t i = 0; i < a.size(); ++i) a[i] = float((i * 7) % 11) - 5.0f + (i % 5 == i / 5 ? 10.0f : 0.0f);
    for (index_t i = 0; i < b.size(); ++i) b[i] = float(i) - 3.0f;
    fill(z, 0.0f);
    const LinOpPtr<float> A = dense_matrix<float>(a.clone());
    SolverOptions options;
    options.max_iterations = 50;
    const SolverResult r = cgls(*A, b, z, 0.0, options);  // T from the operator; Arrays convert
    EXPECT_GT(r.iterations, 0);
    // The least-squares solution satisfies the normal equations A^T (A z - b) = 0.
    Array<float> residual(Shape{8}), gradient(Shape{5});
    A->apply(z, residual);
    axpy(-1.0f, b, residual);
    A->apply_adjoint(residual, gradient);
    EXPECT_LT(norm2(gradient), 1e-3 * norm2(b) * norm2(a));
    EXPECT_EQ(sum(b), sum<float>(b));
}
