// Benchmarks of the shared building blocks: vector algebra (memory-bound) and the FFT wrapper.
#include <cmath>

#include "bench/harness.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"

using namespace lumen;

LUMEN_BENCH_CASE("core/axpy", "y += a x on 2^24 complex64 (reports GB/s moved)") {
    const index_t n = index_t(1) << 24;
    Array<complex64> x(Shape{n}, bench.device()), y(Shape{n}, bench.device());
    const double bytes = 3.0 * double(n) * sizeof(complex64);  // read x, read y, write y
    bench.time("axpy", [&] { axpy(complex64(0.5f), x, y.view()); }, {{"GB/s", bytes * 1e-9}},
               {bytes, 8.0 * double(n)});
}

LUMEN_BENCH_CASE("core/dot", "complex dot product of 2^24 elements in double (GB/s)") {
    const index_t n = index_t(1) << 24;
    Array<complex64> x(Shape{n}, bench.device()), y(Shape{n}, bench.device());
    const double bytes = 2.0 * double(n) * sizeof(complex64);
    bench.time("dot", [&] { (void)dot(x, y); }, {{"GB/s", bytes * 1e-9}},
               {bytes, 8.0 * double(n)});
}

LUMEN_BENCH_CASE("core/fft2", "unitary 2-D FFT, plain and centred, batch of 16 x 640x368 (fastMRI knee) and odd 639x367") {
    // Least work of a batch: the array read and written once; 5 N log2 N operations per transform.
    auto work = [](double batch, double h, double w) {
        return bench::Work{2.0 * batch * h * w * sizeof(complex64), batch * 5.0 * h * w * std::log2(h * w)};
    };
    Array<complex64> x(Shape{16, 640, 368}, bench.device());
    FftPlan plan = FftPlan::for_shape(x.shape(), 2, bench.device());
    bench.time("fft2 16x640x368", [&] { plan.forward(x); }, {{"transforms/s", 16.0}}, work(16, 640, 368));
    bench.time("fft2c 16x640x368", [&] { plan.forward_centered(x); }, {{"transforms/s", 16.0}}, work(16, 640, 368));
    // An odd size takes the shifted-copy path of the centring instead of the modulation.
    Array<complex64> y(Shape{16, 639, 367}, bench.device());
    FftPlan odd = FftPlan::for_shape(y.shape(), 2, bench.device());
    bench.time("fft2 16x639x367", [&] { odd.forward(y); }, {{"transforms/s", 16.0}}, work(16, 639, 367));
    bench.time("fft2c 16x639x367", [&] { odd.forward_centered(y); }, {{"transforms/s", 16.0}}, work(16, 639, 367));
}
