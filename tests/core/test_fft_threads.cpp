// The FFT thread rule docs/conventions.md ("Threads") states: one FFTW thread per 2^16 elements of
// a plan's work (batch x transform), at least 1, at most the OpenMP thread count. Thread counts
// only, never timings (docs/design.md: no timed assertions in tests).
#include <omp.h>

#include "lumen/fft.hpp"
#include "src/fft_threads.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

TEST(FftThreads, RuleBySize) {
    using detail::fft_threads_for;
    EXPECT_EQ(detail::k_fft_elements_per_thread, 65536);
    EXPECT_EQ(fft_threads_for(64 * 64, 16), 1);         // one ePIE/rPIE frame
    EXPECT_EQ(fft_threads_for(128 * 128, 16), 1);
    EXPECT_EQ(fft_threads_for(256 * 256 - 1, 16), 1);
    EXPECT_EQ(fft_threads_for(256 * 256, 16), 1);       // one 256^2 frame: still the calling thread
    EXPECT_EQ(fft_threads_for(2 * 256 * 256, 16), 2);
    EXPECT_EQ(fft_threads_for(512 * 512, 16), 4);
    EXPECT_EQ(fft_threads_for(8 * 256 * 256, 16), 8);   // MRI: 8 coils of 256^2, batched
    EXPECT_EQ(fft_threads_for(289 * 64 * 64, 32), 18);  // AWF: 289 frames of 64^2, batched
    EXPECT_EQ(fft_threads_for(289 * 64 * 64, 2), 2);    // capped by the OpenMP thread count
    EXPECT_EQ(fft_threads_for(index_t(1) << 40, 2), 2);
    EXPECT_EQ(fft_threads_for(1 << 20, 1), 1);
    EXPECT_EQ(fft_threads_for(1 << 20, 0), 1);          // never fewer than one
    EXPECT_EQ(fft_threads_for(0, 4), 1);
}

TEST(FftThreads, PlansFollowTheRule) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(4);
    EXPECT_EQ(FftPlan({64, 64}, 1, Device::cpu).threads(), 1);
    EXPECT_EQ(FftPlan({256, 256}, 1, Device::cpu).threads(), 1);
    EXPECT_EQ(FftPlan({512, 512}, 1, Device::cpu).threads(), 4);
    EXPECT_EQ(FftPlan({64, 64}, 289, Device::cpu).threads(), 4);
    EXPECT_EQ(FftPlan({256, 256}, 3, Device::cpu).threads(), 3);
    EXPECT_EQ(FftPlan::for_shape(Shape{8, 256, 256}, 2, Device::cpu).threads(), 4);
    EXPECT_EQ(FftPlan({1 << 17}, 1, Device::cpu).threads(), 2);  // 1-D sizes count the same way
    omp_set_num_threads(1);
    EXPECT_EQ(FftPlan({64, 64}, 289, Device::cpu).threads(), 1);
    omp_set_num_threads(saved);
}
