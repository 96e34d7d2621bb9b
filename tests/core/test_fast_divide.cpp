// kern::FastDivisor (kernels/common/fast_divide.hpp): the multiply that replaces the ptychography
// kernels' index divisions must give the integer quotient exactly, for every divisor a window can
// have and for numerators beyond the multiply's 32-bit range (where it divides).
#include <cstdint>
#include <random>

#include "kernels/common/fast_divide.hpp"
#include "tests/support/test_support.hpp"

using lumen::index_t;
using lumen::kern::FastDivisor;

TEST(FastDivide, QuotientsAreExact) {
    std::mt19937_64 rng(7);
    const index_t edges[] = {0, 1, 2, 3, 63, 64, 65, 4095, 4096, 4097, (index_t(1) << 31) - 1, index_t(1) << 31,
                             (index_t(1) << 32) - 1, index_t(1) << 32, (index_t(1) << 32) + 1, index_t(1) << 40,
                             (index_t(1) << 62) + 12345};
    std::vector<index_t> divisors = {1, 2, 3, 5, 7, 8, 31, 32, 63, 64, 65, 100, 127, 128, 255, 256, 368, 640,
                                     4096, 16384, 65536, 235520, (index_t(1) << 31) + 11, (index_t(1) << 32) - 1};
    for (int t = 0; t < 200; ++t) divisors.push_back(index_t(1 + rng() % 1000000));
    long checked = 0;
    for (index_t d : divisors) {
        const FastDivisor f(d);
        for (index_t n : edges) {
            ASSERT_EQ(f.divide(n), n / d) << n << " / " << d;
            ++checked;
        }
        // Multiples and their neighbours, where a rounding error would show first.
        for (int t = 0; t < 2000; ++t) {
            const index_t q = index_t(rng() % (std::uint64_t(0xFFFFFFFF) / std::uint64_t(d) + 1));
            for (index_t n : {q * d - 1, q * d, q * d + 1, index_t(rng() % 0xFFFFFFFFull)}) {
                if (n < 0) continue;
                ASSERT_EQ(f.divide(n), n / d) << n << " / " << d;
                ++checked;
            }
        }
    }
    EXPECT_GT(checked, 800000);
}
