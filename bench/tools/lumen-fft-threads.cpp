// lumen-fft-threads: where FFTW threads start to pay, on this machine, for the transforms lumen
// plans (in-place complex 2-D, FFTW_ESTIMATE | FFTW_UNALIGNED as src/fft.cpp makes them). Prints,
// per size, the time of one transform with 1 thread and with the OpenMP thread count, and the
// count lumen's rule (src/fft_threads.hpp) picks. The figures behind k_fft_elements_per_thread
// in docs/benchmarks.md come from it; run it idle and under load (OMP_WAIT_POLICY as you run lumen).
//   lumen-fft-threads [BATCH]
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "src/fft_threads.hpp"

namespace {

// Median over 5 rounds of the mean time of one execution, each round about 20 ms of work.
double seconds_per_transform(int n, int batch, int threads) {
    const int elements = n * n * batch;
    std::vector<fftwf_complex> buf(static_cast<std::size_t>(elements));
    for (auto& c : buf) c[0] = 1.0f, c[1] = 0.0f;
    fftwf_plan_with_nthreads(threads);
    const int dims[2] = {n, n};
    fftwf_plan p = fftwf_plan_many_dft(2, dims, batch, buf.data(), nullptr, 1, n * n, buf.data(), nullptr, 1, n * n,
                                       FFTW_FORWARD, FFTW_ESTIMATE | FFTW_UNALIGNED);
    const long reps = std::max(3L, 4000000L / elements);
    std::vector<double> rounds;
    for (int r = 0; r < 5; ++r) {
        const auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < reps; ++i) fftwf_execute(p);
        rounds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / double(reps));
    }
    fftwf_destroy_plan(p);
    std::sort(rounds.begin(), rounds.end());
    return rounds[2];
}

}  // namespace

int main(int argc, char** argv) {
    const int batch = argc > 1 ? std::atoi(argv[1]) : 1;
    const int max_threads = omp_get_max_threads();
    if (batch < 1) {
        std::fprintf(stderr, "lumen-fft-threads: BATCH must be a positive integer\n");
        return 2;
    }
    fftwf_init_threads();
    std::printf("2-D complex FFTs, batch %d: 1 thread against %d threads; lumen's rule: 1 thread per %lld elements\n",
                batch, max_threads, static_cast<long long>(lumen::detail::k_fft_elements_per_thread));
    std::printf("%8s %10s %12s %12s %10s %6s\n", "size", "elements", "1 thread us", "N threads us", "N / 1", "rule");
    for (int n : {32, 64, 96, 128, 192, 256, 384, 512, 768, 1024}) {
        const double one = seconds_per_transform(n, batch, 1), many = seconds_per_transform(n, batch, max_threads);
        const long long elements = static_cast<long long>(n) * n * batch;
        std::printf("%5d^2 %10lld %12.1f %12.1f %10.2f %6d\n", n, elements, one * 1e6, many * 1e6, many / one,
                    lumen::detail::fft_threads_for(elements, max_threads));
        std::fflush(stdout);
    }
    return 0;
}
