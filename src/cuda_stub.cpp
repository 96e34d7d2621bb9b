// The CPU-only build's stand-in for kernels/common/memory.cu: every GPU entry point throws a clear
// lumen::Error instead of failing to link. Module code guards its CUDA calls with LUMEN_CUDA_CALL
// (src/dispatch.hpp), which throws the same error in this build.
#include <cstring>
#include <string>

#include "kernels/common/fft_cuda.hpp"
#include "kernels/common/nccl_reduce.hpp"
#include "lumen/core/array.hpp"
#include "lumen/core/device.hpp"

namespace lumen {

bool cuda_enabled() noexcept { return false; }
bool cuda_available() noexcept { return false; }
std::string cuda_device_description() { return "no GPU support: this lumen was built without CUDA (LUMEN_CUDA=OFF)"; }
GpuPeaks cuda_device_peaks() { return {}; }
void synchronize(Device) {}

namespace detail {
void* device_alloc(std::size_t) {
    require_cuda("allocating GPU memory");
    return nullptr;
}
void device_free(void*) noexcept {}
// FftPlan's deleter is compiled in every build; no cuFFT plan is ever made without CUDA.
void cufft_destroy(CufftHandle*) noexcept {}
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes) {
    if (dst_dev != Device::cpu || src_dev != Device::cpu) require_cuda("copying to or from the GPU");
    std::memcpy(dst, src, bytes);
}
void zero_bytes(void* dst, Device dev, std::size_t bytes) {
    if (dev != Device::cpu) require_cuda("clearing GPU memory");
    std::memset(dst, 0, bytes);
}
// Distributed runs: no GPU to choose, and NCCL never usable (kernels/common/nccl_reduce.hpp).
void cuda_use_device_of_local_rank(int) noexcept {}
struct NcclReducer::Impl {};
bool NcclReducer::usable(std::string* why) {
    if (why) *why = "lumen was built without CUDA";
    return false;
}
NcclReducer::NcclReducer(int, int, const std::function<std::string(const std::string&)>&) {
    require_cuda("NCCL reductions of GPU buffers");
}
NcclReducer::~NcclReducer() = default;
void NcclReducer::sum(float*, index_t) { require_cuda("NCCL reductions of GPU buffers"); }
void NcclReducer::sum(double*, index_t) { require_cuda("NCCL reductions of GPU buffers"); }
}  // namespace detail
}  // namespace lumen
