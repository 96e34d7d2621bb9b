// LUMEN_CUDA_CHECK: the one place CUDA status codes become lumen::Error. Used after every CUDA
// runtime call and after every kernel launch (on cudaGetLastError()).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "lumen/core/error.hpp"

namespace lumen::detail {
[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
    const ErrorCode code = (status == cudaErrorMemoryAllocation) ? ErrorCode::out_of_memory : ErrorCode::failure;
    std::string what = std::string("CUDA error: ") + cudaGetErrorString(status) + " in `" + expr + "` at " + file +
                       ":" + std::to_string(line);
    if (status == cudaErrorMemoryAllocation) what += " (the GPU is out of memory: try a smaller problem or --device cpu)";
    throw Error(code, what);
}
}  // namespace lumen::detail

#define LUMEN_CUDA_CHECK(expr)                                                                       \
    do {                                                                                             \
        const cudaError_t lumen_status_ = (expr);                                                    \
        if (lumen_status_ != cudaSuccess)                                                            \
            ::lumen::detail::throw_cuda_error(lumen_status_, #expr, __FILE__, __LINE__);             \
    } while (0)
