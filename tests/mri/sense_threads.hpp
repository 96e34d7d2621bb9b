// Shared by test_sense_threads.cpp (CPU) and test_sense_threads_gpu.cpp: one SenseOperator (and
// one FftPlan) applied from several threads at once must give, bit for bit, what one thread gives.
// A race on the operator's scratch buffer or on the plan's shows up as a wrong result; the odd size
// takes the FFT's own scratch path, the even one the modulation path.
#pragma once

#include <thread>
#include <vector>

#include "lumen/fft.hpp"
#include "lumen/mri/sense.hpp"
#include "tests/support/test_support.hpp"

namespace lumen::test {

inline double max_abs_diff(const Array<complex64>& a, const Array<complex64>& b) {
    const Array<complex64> ah = a.to(Device::cpu), bh = b.to(Device::cpu);
    double d = 0;
    for (index_t i = 0; i < ah.size(); ++i) d = std::max(d, double(abs(ah[i] - bh[i])));
    return d;
}

inline void check_sense_from_threads(Device dev, index_t h, index_t w) {
    const index_t coils = 4, inputs = 6;
    const int threads = 4, rounds = 8;
    const Array<complex64> maps = random_complex(Shape{coils, h, w}, 11);
    Array<float> mask = random_real(Shape{h, w}, 12);
    for (auto& v : mask) v = v > 0.0f ? 1.0f : 0.0f;
    const mri::SenseOperator A(maps.view(), mask.view(), dev);

    std::vector<Array<complex64>> x, y;
    std::vector<Array<complex64>> ref_normal, ref_adjoint, ref_forward;
    for (index_t k = 0; k < inputs; ++k) {
        x.push_back(random_complex(Shape{h, w}, 100 + std::uint64_t(k)).to(dev));
        y.push_back(random_complex(Shape{coils, h, w}, 200 + std::uint64_t(k)).to(dev));
        ref_normal.emplace_back(Shape{h, w}, dev);
        ref_adjoint.emplace_back(Shape{h, w}, dev);
        ref_forward.emplace_back(Shape{coils, h, w}, dev);
        A.apply_normal(x[k].view(), ref_normal[k].view());
        A.apply_adjoint(y[k].view(), ref_adjoint[k].view());
        A.apply(x[k].view(), ref_forward[k].view());
    }

    // Each thread writes its own outputs; every result is kept and compared after the join
    // (gtest assertions are not made from the worker threads).
    std::vector<double> worst(std::size_t(threads), 0.0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            Array<complex64> n(Shape{h, w}, dev), a(Shape{h, w}, dev), f(Shape{coils, h, w}, dev);
            double d = 0;
            for (int r = 0; r < rounds; ++r)
                for (index_t k = 0; k < inputs; ++k) {
                    const index_t j = (k + t) % inputs;  // threads work on different inputs at once
                    A.apply_normal(x[j].view(), n.view());
                    A.apply_adjoint(y[j].view(), a.view());
                    A.apply(x[j].view(), f.view());
                    d = std::max({d, max_abs_diff(n, ref_normal[j]), max_abs_diff(a, ref_adjoint[j]),
                                  max_abs_diff(f, ref_forward[j])});
                }
            worst[std::size_t(t)] = d;
        });
    }
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) EXPECT_EQ(worst[std::size_t(t)], 0.0) << "thread " << t << ", size " << h << "x" << w;
}

inline void check_fft_from_threads(Device dev, index_t h, index_t w) {
    const index_t batch = 3, inputs = 6;
    const int threads = 4, rounds = 8;
    const FftPlan plan = FftPlan::for_shape(Shape{batch, h, w}, 2, dev);
    std::vector<Array<complex64>> in, ref;
    for (index_t k = 0; k < inputs; ++k) {
        in.push_back(random_complex(Shape{batch, h, w}, 300 + std::uint64_t(k)).to(dev));
        ref.push_back(Array<complex64>::copy_of(in.back().view(), dev));
        plan.forward_centered(ref.back().view());
    }
    std::vector<double> worst(std::size_t(threads), 0.0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            double d = 0;
            for (int r = 0; r < rounds; ++r)
                for (index_t k = 0; k < inputs; ++k) {
                    const index_t j = (k + t) % inputs;
                    Array<complex64> z = Array<complex64>::copy_of(in[j].view(), dev);
                    plan.forward_centered(z.view());
                    d = std::max(d, max_abs_diff(z, ref[j]));
                }
            worst[std::size_t(t)] = d;
        });
    }
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) EXPECT_EQ(worst[std::size_t(t)], 0.0) << "thread " << t << ", size " << h << "x" << w;
}

}  // namespace lumen::test
