// The FFT wrapper against a direct DFT on small odd and even sizes, the unitary property and
// the centring convention (fastMRI's fft2c).
#include <cmath>
#include <complex>
#include <vector>

#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {
// Direct unitary DFT over the last `dims.size()` axes of a batch (slow, obvious).
std::vector<std::complex<double>> direct_dft(const Array<complex64>& x, const std::vector<index_t>& dims, int sign) {
    index_t n = 1;
    for (auto d : dims) n *= d;
    const index_t batch = x.size() / n;
    std::vector<std::complex<double>> out(std::size_t(x.size()));
    const int r = int(dims.size());
    std::vector<index_t> k(3), j(3);
    auto unravel = [&](index_t i, std::vector<index_t>& idx) {
        for (int a = r - 1; a >= 0; --a) {
            idx[std::size_t(a)] = i % dims[std::size_t(a)];
            i /= dims[std::size_t(a)];
        }
    };
    for (index_t b = 0; b < batch; ++b)
        for (index_t ki = 0; ki < n; ++ki) {
            unravel(ki, k);
            std::complex<double> acc = 0;
            for (index_t ji = 0; ji < n; ++ji) {
                unravel(ji, j);
                double phase = 0;
                for (int a = 0; a < r; ++a)
                    phase += double(k[std::size_t(a)] * j[std::size_t(a)]) / double(dims[std::size_t(a)]);
                const complex64 v = x[b * n + ji];
                acc += std::complex<double>(v.re, v.im) * std::polar(1.0, sign * 2.0 * kPi * phase);
            }
            out[std::size_t(b * n + ki)] = acc / std::sqrt(double(n));
        }
    return out;
}

double max_err(const Array<complex64>& a, const std::vector<std::complex<double>>& b) {
    double e = 0;
    for (index_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(std::complex<double>(a[i].re, a[i].im) - b[std::size_t(i)]));
    return e;
}

// numpy-style shifts on one axis of length n
index_t fftshift_src(index_t j, index_t n) { return (j - n / 2 + n) % n; }
}  // namespace

struct FftCase {
    std::vector<index_t> dims;
    index_t batch;
};

class FftVsDft : public ::testing::TestWithParam<FftCase> {};

TEST_P(FftVsDft, ForwardAndInverseMatchDirectDft) {
    const FftCase c = GetParam();
    std::vector<index_t> shape_dims{c.batch};
    shape_dims.insert(shape_dims.end(), c.dims.begin(), c.dims.end());
    const Shape shape(shape_dims);
    Array<complex64> x = test::random_complex(shape, 7);
    FftPlan plan = FftPlan::for_shape(shape, int(c.dims.size()), Device::cpu);

    Array<complex64> y = x.clone();
    plan.forward(y);
    EXPECT_LT(max_err(y, direct_dft(x, c.dims, -1)), 1e-5);

    Array<complex64> z = x.clone();
    plan.inverse(z);
    EXPECT_LT(max_err(z, direct_dft(x, c.dims, +1)), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Sizes, FftVsDft,
                         ::testing::Values(FftCase{{8}, 3}, FftCase{{7}, 2}, FftCase{{5, 6}, 2}, FftCase{{9, 7}, 1},
                                           FftCase{{4, 3, 5}, 2}, FftCase{{1}, 4}));

// A view that starts one element into an array (8 bytes off the 64-byte alignment of lumen's
// arrays and of the plan's scratch buffer) gives the same transform as an aligned array: FFTW's
// new-array execution is only valid for the alignment a plan allows (src/fft.cpp plans with
// FFTW_UNALIGNED for that reason).
TEST(Fft, AlignedAndMisalignedArraysGiveTheSameTransform) {
    for (const std::vector<index_t>& dims : std::vector<std::vector<index_t>>{{16, 12}, {30}, {4, 6, 8}}) {
        index_t n = 1;
        for (index_t d : dims) n *= d;
        const index_t batch = 3;
        const Array<complex64> x = test::random_complex(Shape{n * batch}, 71);
        Array<complex64> aligned = x.clone(), wide(Shape{n * batch + 1});
        View<complex64> shifted(wide.data() + 1, Shape{n * batch}, Device::cpu);
        copy(x.view(), shifted);
        const FftPlan plan(dims, batch, Device::cpu);
        plan.forward(aligned.view());
        plan.forward(shifted);
        const std::vector<std::complex<double>> ref = direct_dft(x, dims, -1);
        EXPECT_LT(max_err(aligned, ref), 1e-5) << dims.size() << "-D";
        Array<complex64> back(Shape{n * batch});
        copy(View<const complex64>(shifted), back.view());
        EXPECT_LT(max_err(back, ref), 1e-5) << dims.size() << "-D, misaligned";
        plan.inverse(shifted);
        copy(View<const complex64>(shifted), back.view());
        EXPECT_LT(test::max_rel_diff(back, x), 1e-5) << dims.size() << "-D, misaligned round trip";
    }
}

TEST(Fft, UnitaryPreservesNormAndRoundTrips) {
    Array<complex64> x = test::random_complex(Shape{3, 12, 10}, 11);
    Array<complex64> y = x.clone();
    FftPlan plan = FftPlan::for_shape(x.shape(), 2, Device::cpu);
    plan.forward(y);
    EXPECT_NEAR(norm2(y), norm2(x), 1e-4 * norm2(x));
    plan.inverse(y);
    EXPECT_LT(test::max_rel_diff(x, y), 1e-5);
}

TEST(Fft, ForwardIsAdjointOfInverse) {
    Array<complex64> x = test::random_complex(Shape{2, 9, 6}, 1), y = test::random_complex(Shape{2, 9, 6}, 2);
    FftPlan plan = FftPlan::for_shape(x.shape(), 2, Device::cpu);
    Array<complex64> fx = x.clone(), fiy = y.clone();
    plan.forward_centered(fx);
    plan.inverse_centered(fiy);
    const complex128 lhs = dot<complex64>(fx, y), rhs = dot<complex64>(x, fiy);
    EXPECT_NEAR(lhs.re, rhs.re, 1e-4);
    EXPECT_NEAR(lhs.im, rhs.im, 1e-4);
}

TEST(Fft, CenteredMatchesShiftFftShiftOnOddAndEvenSizes) {
    // Odd sizes take the shift path; all-even sizes the modulation path, with the constant sign
    // (-1)^(sum n/2) both odd (6x8) and even (4x10).
    for (auto dims : {std::vector<index_t>{6, 5}, std::vector<index_t>{7, 8}, std::vector<index_t>{6, 8},
                      std::vector<index_t>{4, 10}}) {
        const Shape shape{dims[0], dims[1]};
        Array<complex64> x = test::random_complex(shape, 3);
        // Reference: ifftshift, direct DFT, fftshift, written out index by index.
        Array<complex64> xs(shape);
        for (index_t a = 0; a < dims[0]; ++a)
            for (index_t b = 0; b < dims[1]; ++b) {
                // ifftshift: out[j] = in[(j + n/2) % n]
                xs[a * dims[1] + b] = x[((a + dims[0] / 2) % dims[0]) * dims[1] + (b + dims[1] / 2) % dims[1]];
            }
        const auto f = direct_dft(xs, dims, -1);
        std::vector<std::complex<double>> ref(f.size());
        for (index_t a = 0; a < dims[0]; ++a)
            for (index_t b = 0; b < dims[1]; ++b)
                ref[std::size_t(a * dims[1] + b)] =
                    f[std::size_t(fftshift_src(a, dims[0]) * dims[1] + fftshift_src(b, dims[1]))];
        Array<complex64> y = x.clone();
        FftPlan plan(dims, 1, Device::cpu);
        plan.forward_centered(y);
        EXPECT_LT(max_err(y, ref), 1e-5) << "size " << dims[0] << "x" << dims[1];
        plan.inverse_centered(y);
        EXPECT_LT(test::max_rel_diff(x, y), 1e-5);
    }
}

TEST(Fft, CenteredEvenBatchedThreeDimensionalMatchesShiftPath) {
    // The modulation path against explicit shifts around the plain transform, batched, 3-D.
    const std::vector<index_t> dims{4, 6, 2};
    Array<complex64> x = test::random_complex(Shape{3, 4, 6, 2}, 8);
    Array<complex64> ref = x.clone();
    ifftshift(ref, 3);
    FftPlan plan(dims, 3, Device::cpu);
    plan.inverse(ref);
    fftshift(ref, 3);
    plan.inverse_centered(x);
    EXPECT_LT(test::max_rel_diff(ref, x), 1e-5);

    // 1-D, batched, with n/2 odd.
    Array<complex64> v = test::random_complex(Shape{5, 10}, 9);
    Array<complex64> vref = v.clone();
    ifftshift(vref, 1);
    FftPlan plan1({10}, 5, Device::cpu);
    plan1.forward(vref);
    fftshift(vref, 1);
    plan1.forward_centered(v);
    EXPECT_LT(test::max_rel_diff(vref, v), 1e-5);
}

TEST(Fft, CenteredTransformOfCentredDeltaIsFlat) {
    // A delta at the centre index n/2 transforms to a constant 1/sqrt(N) with zero phase.
    Array<complex64> x(Shape{7, 6});
    x[3 * 6 + 3] = complex64(1.0f);
    FftPlan plan({7, 6}, 1, Device::cpu);
    plan.forward_centered(x);
    for (const auto& v : x) {
        EXPECT_NEAR(v.re, 1.0 / std::sqrt(42.0), 1e-6);
        EXPECT_NEAR(v.im, 0.0, 1e-6);
    }
}

TEST(Fft, ShiftsInvertEachOther) {
    Array<complex64> x = test::random_complex(Shape{2, 5, 7}, 4);
    Array<complex64> y = x.clone();
    fftshift(y, 2);
    EXPECT_GT(test::max_rel_diff(x, y), 0.1);
    ifftshift(y, 2);
    EXPECT_EQ(test::max_rel_diff(x, y), 0.0);
}

TEST(Fft, RejectsMismatchedArraysAndBadPlans) {
    FftPlan plan({4, 4}, 2, Device::cpu);
    Array<complex64> wrong(Shape{3, 4, 4});
    EXPECT_THROW(plan.forward(wrong), Error);
    EXPECT_THROW(FftPlan({}, 1, Device::cpu), Error);
    EXPECT_THROW(FftPlan({4, 4, 4, 4}, 1, Device::cpu), Error);
    EXPECT_THROW(FftPlan({4}, 0, Device::cpu), Error);
}
