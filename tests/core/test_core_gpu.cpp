// CPU-vs-GPU parity of the core: memory round trips, vector algebra, reductions and the FFT.
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

TEST(CoreGpu, ArrayRoundTripThroughDevice) {
    LUMEN_REQUIRE_GPU();
    Array<complex64> x = test::random_complex(Shape{3, 5, 7}, 1);
    Array<complex64> d = x.to(Device::cuda);
    EXPECT_EQ(d.device(), Device::cuda);
    Array<complex64> back = d.to(Device::cpu);
    EXPECT_EQ(test::max_rel_diff(x, back), 0.0);
}

TEST(CoreGpu, VectorAlgebraMatchesCpu) {
    LUMEN_REQUIRE_GPU();
    const index_t n = 100003;
    Array<complex64> x = test::random_complex(Shape{n}, 1), y = test::random_complex(Shape{n}, 2);
    Array<complex64> xd = x.to(Device::cuda), yd = y.to(Device::cuda);
    const complex128 dc = dot<complex64>(x, y), dg = dot<complex64>(xd, yd);
    EXPECT_NEAR(dc.re, dg.re, 1e-8 * n);
    EXPECT_NEAR(dc.im, dg.im, 1e-8 * n);
    EXPECT_NEAR(norm2<complex64>(x), norm2<complex64>(xd), 1e-9 * norm2<complex64>(x));
    EXPECT_NEAR(max_abs<complex64>(x), max_abs<complex64>(xd), 1e-7);
    const complex64 a(0.3f, -0.2f), b(1.1f, 0.4f);
    axpby(a, x, b, y.view());
    axpby(a, xd, b, yd.view());
    EXPECT_LT(test::max_rel_diff(y, yd.to(Device::cpu)), 1e-6);
    Array<float> r = test::random_real(Shape{n}, 3);
    Array<float> rd = r.to(Device::cuda);
    clamp(r.view(), 0.0f, 0.5f);
    clamp(rd.view(), 0.0f, 0.5f);
    EXPECT_EQ(test::max_rel_diff(r, rd.to(Device::cpu)), 0.0);
    EXPECT_TRUE(all_finite<float>(rd));
}

TEST(CoreGpu, FftMatchesCpuCenteredAndNot) {
    LUMEN_REQUIRE_GPU();
    for (auto dims : {std::vector<index_t>{15, 16}, std::vector<index_t>{8, 9, 10}}) {
        std::vector<index_t> sd{3};
        sd.insert(sd.end(), dims.begin(), dims.end());
        Array<complex64> x = test::random_complex(Shape(sd), 4);
        Array<complex64> xd = x.to(Device::cuda);
        FftPlan pc(dims, 3, Device::cpu), pg(dims, 3, Device::cuda);
        pc.forward_centered(x);
        pg.forward_centered(xd);
        EXPECT_LT(test::max_rel_diff(x, xd.to(Device::cpu)), 1e-5);
        pc.inverse(x);
        pg.inverse(xd);
        EXPECT_LT(test::max_rel_diff(x, xd.to(Device::cpu)), 1e-5);
    }
}
