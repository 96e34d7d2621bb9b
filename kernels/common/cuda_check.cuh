// LUMEN_CUDA_CHECK: the one place CUDA status codes become lumen::Error. Used after every CUDA
// runtime call; kernel launches go through detail::check_launch (kernels/common/launch.cuh), which
// names the kernel.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "lumen/core/error.hpp"

namespace lumen::detail {

// Errors raised by a kernel while it runs. They are reported by whichever call next waits for the
// device (a copy, a reduction, cuFFT), so the call in the message is not where the fault is.
inline bool cuda_error_from_a_running_kernel(cudaError_t status) {
    switch (status) {
        case cudaErrorIllegalAddress:
        case cudaErrorLaunchFailure:
        case cudaErrorMisalignedAddress:
        case cudaErrorInvalidAddressSpace:
        case cudaErrorInvalidPc:
        case cudaErrorIllegalInstruction:
        case cudaErrorHardwareStackError:
        case cudaErrorAssert:
        case cudaErrorLaunchTimeout:
            return true;
        default:
            return false;
    }
}

inline std::string cuda_error_hint(cudaError_t status) {
    if (status == cudaErrorMemoryAllocation) return " (the GPU is out of memory: try a smaller problem or the CPU)";
    if (cuda_error_from_a_running_kernel(status))
        return " (raised by an earlier kernel: rerun with LUMEN_CUDA_SYNC=1 to name it, or under compute-sanitizer)";
    return "";
}

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
    const ErrorCode code = (status == cudaErrorMemoryAllocation) ? ErrorCode::out_of_memory : ErrorCode::failure;
    throw Error(code, std::string("CUDA error: ") + cudaGetErrorString(status) + " in `" + expr + "` at " + file + ":" +
                          std::to_string(line) + cuda_error_hint(status));
}
}  // namespace lumen::detail

#define LUMEN_CUDA_CHECK(expr)                                                                       \
    do {                                                                                             \
        const cudaError_t lumen_status_ = (expr);                                                    \
        if (lumen_status_ != cudaSuccess)                                                            \
            ::lumen::detail::throw_cuda_error(lumen_status_, #expr, __FILE__, __LINE__);             \
    } while (0)
