// FftPlan::execute_unscaled: the plain transform without 1/sqrt(N), for callers that fold
// unitary_scale() into a pass of their own (the SENSE operator does).
#include <cmath>

#include "lumen/fft.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

TEST(FftUnscaled, TimesTheUnitaryScaleIsThePlainTransform) {
    for (const Shape& shape : {Shape{3, 16, 12}, Shape{2, 15, 9}}) {
        const FftPlan plan = FftPlan::for_shape(shape, 2, Device::cpu);
        EXPECT_FLOAT_EQ(plan.unitary_scale(), float(1.0 / std::sqrt(double(shape[1] * shape[2]))));
        for (FftDirection dir : {FftDirection::forward, FftDirection::inverse}) {
            const Array<complex64> x = test::random_complex(shape, 5);
            Array<complex64> a = Array<complex64>::copy_of(x.view(), Device::cpu);
            Array<complex64> b = Array<complex64>::copy_of(x.view(), Device::cpu);
            plan.execute(a.view(), dir, false);
            plan.execute_unscaled(b.view(), dir);
            for (auto& v : b) v = v * plan.unitary_scale();
            EXPECT_LT(test::max_rel_diff(a.view(), b.view()), 1e-6)
                << shape.str();
        }
    }
}

TEST(FftUnscaled, ChecksTheArrayLikeExecute) {
    const FftPlan plan = FftPlan::for_shape(Shape{4, 4}, 2, Device::cpu);
    Array<complex64> wrong(Shape{5, 4});
    EXPECT_THROW(plan.execute_unscaled(wrong.view(), FftDirection::forward), Error);
}
