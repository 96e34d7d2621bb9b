// The CUDA executor: a grid-stride kernel that calls the same LUMEN_HD functor the CPU executor
// (src/executor.hpp) calls, and a block reduction combining in double precision.
//
// A module's .cu file includes this header, its functor header, and instantiates:
//   LUMEN_INSTANTIATE_FOR_EACH(kern::MyF);
//   LUMEN_INSTANTIATE_REDUCE(double, kern::MyLossF, kern::SumOp<double>);
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "kernels/common/cuda_check.cuh"
#include "kernels/common/kernel.hpp"
#include "kernels/common/launch_check.hpp"

namespace lumen::detail {

constexpr int k_block_size = 256;

template <class F>
__global__ void k_for_each(index_t n, F f) {
    for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += index_t(blockDim.x) * gridDim.x)
        f(i);
}

inline int grid_size_for(index_t n) {
    // One thread per element up to 65535 blocks; the grid-stride loop covers larger n.
    const index_t blocks = (n + k_block_size - 1) / k_block_size;
    return int(std::min<index_t>(std::max<index_t>(blocks, 1), 65535));
}

// After every launch: the launch error, and under LUMEN_CUDA_SYNC=1 a synchronisation, each
// reported with the kernel's functor named (kernels/common/launch_check.hpp). `pretty_function` is
// the launcher's __PRETTY_FUNCTION__; it is parsed only when there is an error to report.
// Defined in kernels/common/memory.cu.
void check_launch(const char* pretty_function);
// An error from a call that waited for a kernel (the reduction's copy of its partials): names the
// kernel, where the fault most likely is.
[[noreturn]] void throw_after_kernel(cudaError_t status, const char* call, const char* pretty_function);

template <class F>
void for_each_gpu(index_t n, const F& f) {
    if (n <= 0) return;
    k_for_each<<<grid_size_for(n), k_block_size>>>(n, f);
    check_launch(__PRETTY_FUNCTION__);
}

// Persistent per-thread device scratch buffer for reductions (grown on demand, never shrunk);
// defined in kernels/common/memory.cu.
void* cuda_scratch(std::size_t bytes);

template <class R, class F, class Op>
__global__ void k_reduce(index_t n, F f, Op op, R* partials) {
    // Raw storage: __shared__ variables may not have constructors (Complex has one).
    __shared__ alignas(16) unsigned char cache_raw[sizeof(R) * k_block_size];
    R* cache = reinterpret_cast<R*>(cache_raw);
    R acc = Op::identity();
    for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += index_t(blockDim.x) * gridDim.x)
        acc = op(acc, f(i));
    cache[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (int(threadIdx.x) < s) cache[threadIdx.x] = op(cache[threadIdx.x], cache[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[blockIdx.x] = cache[0];
}

// Per-block partials on the device, the (at most 1024) partials combined on the host in a fixed
// order, so results are reproducible run to run.
template <class R, class F, class Op>
R reduce_gpu(index_t n, const F& f, const Op& op) {
    if (n <= 0) return Op::identity();
    const int blocks = std::min(grid_size_for(n), 1024);
    R* partials_d = static_cast<R*>(cuda_scratch(sizeof(R) * std::size_t(blocks)));
    k_reduce<R><<<blocks, k_block_size>>>(n, f, op, partials_d);
    check_launch(__PRETTY_FUNCTION__);
    std::vector<R> partials(static_cast<std::size_t>(blocks));
    const cudaError_t status =
        cudaMemcpy(partials.data(), partials_d, sizeof(R) * std::size_t(blocks), cudaMemcpyDeviceToHost);
    if (status != cudaSuccess) throw_after_kernel(status, "cudaMemcpy of the reduction's partials", __PRETTY_FUNCTION__);
    R total = Op::identity();
    for (const R& p : partials) total = op(total, p);
    return total;
}

}  // namespace lumen::detail

#define LUMEN_INSTANTIATE_FOR_EACH(...) \
    template void ::lumen::detail::for_each_gpu<__VA_ARGS__>(::lumen::index_t, const __VA_ARGS__&)
#define LUMEN_INSTANTIATE_REDUCE(R, F, Op) \
    template R (::lumen::detail::reduce_gpu<R, F, Op>)(::lumen::index_t, const F&, const Op&)
