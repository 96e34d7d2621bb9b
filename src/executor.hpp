// The two executors and the dispatch between them (docs/design.md, "the one rule").
//
//   for_each(device, n, f)        runs f(i) for i in [0, n)
//   reduce<R>(device, n, f, op)   combines f(i) with op in R (double or complex128)
//
// On the CPU: OpenMP loops here. On the GPU: for_each_gpu / reduce_gpu, grid-stride kernels in
// kernels/common/launch.cuh that call the very same LUMEN_HD functor. A .cu file instantiates them
// for its functors with LUMEN_INSTANTIATE_FOR_EACH / LUMEN_INSTANTIATE_REDUCE; host code here
// never sees CUDA headers.
#pragma once

#include <omp.h>

#include <vector>

#include "kernels/common/kernel.hpp"
#include "lumen/core/device.hpp"
#include "src/dispatch.hpp"

namespace lumen::detail {

// Defined in kernels/common/launch.cuh; instantiated per functor in the module's .cu file.
template <class F> void for_each_gpu(index_t n, const F& f);
template <class R, class F, class Op> R reduce_gpu(index_t n, const F& f, const Op& op);

// Below this many elements a parallel region costs more than it saves (ePIE's per-position
// updates, small reductions): run serially.
constexpr index_t k_parallel_threshold = 8192;

template <class F>
void for_each_cpu(index_t n, const F& f) {
#pragma omp parallel for schedule(static) if (n > k_parallel_threshold)
    for (index_t i = 0; i < n; ++i) f(i);
}

// Per-thread partials over a static split, combined in thread order: a given thread count gives
// the same result every run.
template <class R, class F, class Op>
R reduce_cpu(index_t n, const F& f, const Op& op) {
    if (n <= k_parallel_threshold) {
        R acc = Op::identity();
        for (index_t i = 0; i < n; ++i) acc = op(acc, f(i));
        return acc;
    }
    const int threads = omp_get_max_threads();
    std::vector<R> partial(std::size_t(threads), Op::identity());
#pragma omp parallel num_threads(threads)
    {
        R acc = Op::identity();
        const int t = omp_get_thread_num();
#pragma omp for schedule(static)
        for (index_t i = 0; i < n; ++i) acc = op(acc, f(i));
        partial[std::size_t(t)] = acc;
    }
    R total = Op::identity();
    for (const R& p : partial) total = op(total, p);
    return total;
}

template <class F>
void for_each(Device device, index_t n, const F& f) {
    if (n <= 0) return;
    if (device == Device::cpu) for_each_cpu(n, f);
    else LUMEN_CUDA_CALL(for_each_gpu(n, f));
}

template <class R, class F, class Op = kern::SumOp<R>>
R reduce(Device device, index_t n, const F& f, const Op& op = Op()) {
    if (n <= 0) return Op::identity();
    if (device == Device::cpu) return reduce_cpu<R>(n, f, op);
#if LUMEN_WITH_CUDA
    return reduce_gpu<R>(n, f, op);
#else
    require_cuda("a reduction on the GPU");
    return Op::identity();
#endif
}

}  // namespace lumen::detail
