// How many threads one FFTW plan uses (src/fft.cpp), chosen by the size of the plan's work. In a
// header of its own so that tests/core/test_fft_threads.cpp checks the rule docs/conventions.md
// ("Threads") states.
#pragma once

#include <algorithm>

#include "lumen/core/hd.hpp"

namespace lumen::detail {

// Elements (batch x transform size) that one FFTW thread must get before a second thread is
// worth waking. Below this a transform takes tens of microseconds: the fork/join of FFTW's
// threads costs as much, and when another process holds a core the join waits for a whole
// scheduler time slice, which made ePIE's single 64^2 frames 31x slower with 2 threads than
// with 1 (issue #16). 2^16 = one 256^2 frame; docs/benchmarks.md ("FFT threads by size") has
// the measurements behind it.
constexpr index_t k_fft_elements_per_thread = index_t(1) << 16;

// One thread per k_fft_elements_per_thread elements, at least 1, at most max_threads (the
// OpenMP thread count when the plan is made).
constexpr int fft_threads_for(index_t elements, int max_threads) {
    const index_t by_size = elements / k_fft_elements_per_thread;
    return int(std::max<index_t>(1, std::min<index_t>(by_size, std::max(1, max_threads))));
}

}  // namespace lumen::detail
