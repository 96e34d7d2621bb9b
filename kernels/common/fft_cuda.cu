// cuFFT plans and the GPU instantiations of the FFT shift/scale functors.
#include <cufft.h>

#include <string>

#include "kernels/common/fft_cuda.hpp"
#include "kernels/common/fft_shift.hpp"
#include "kernels/common/launch.cuh"
#include "kernels/common/launch_check.hpp"

namespace lumen::detail {

struct CufftHandle {
    cufftHandle plan = 0;
};

namespace {
void check_cufft(cufftResult status, const char* what) {
    if (status == CUFFT_SUCCESS) return;
    const ErrorCode code = status == CUFFT_ALLOC_FAILED ? ErrorCode::out_of_memory : ErrorCode::failure;
    throw Error(code, std::string("cuFFT error ") + std::to_string(int(status)) + " in " + what +
                          (status == CUFFT_ALLOC_FAILED ? " (the GPU is out of memory)" : ""));
}
}  // namespace

CufftHandle* cufft_create(const std::vector<index_t>& dims, index_t batch) {
    std::vector<long long> n(dims.begin(), dims.end());
    auto* handle = new CufftHandle;  // owned by FftPlan::Impl, released in cufft_destroy
    try {
        check_cufft(cufftCreate(&handle->plan), "cufftCreate");
        std::size_t work = 0;
        check_cufft(cufftMakePlanMany64(handle->plan, int(n.size()), n.data(), nullptr, 1, 0, nullptr, 1, 0,
                                        CUFFT_C2C, batch, &work),
                    "cufftMakePlanMany64");
    } catch (...) {
        cufft_destroy(handle);
        throw;
    }
    return handle;
}

void cufft_destroy(CufftHandle* handle) noexcept {
    if (!handle) return;
    if (handle->plan) cufftDestroy(handle->plan);
    delete handle;
}

void cufft_execute(CufftHandle* handle, complex64* data_d, bool forward) {
    auto* p = reinterpret_cast<cufftComplex*>(data_d);
    check_cufft(cufftExecC2C(handle->plan, p, p, forward ? CUFFT_FORWARD : CUFFT_INVERSE), "cufftExecC2C");
    // cuFFT's kernels are launched asynchronously like lumen's own: under LUMEN_CUDA_SYNC a fault
    // inside them is reported here, not at the next kernel of lumen's.
    if (cuda_sync_after_launch()) {
        const cudaError_t status = cudaDeviceSynchronize();
        if (status != cudaSuccess) throw_after_kernel(status, "cudaDeviceSynchronize", "cufftExecC2C (cuFFT's kernels)");
    }
}

}  // namespace lumen::detail

LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ShiftScaleF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::ScaleComplexF);
LUMEN_INSTANTIATE_FOR_EACH(lumen::kern::CheckerboardF);
