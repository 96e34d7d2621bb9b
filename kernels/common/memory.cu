// CUDA side of the core runtime: device memory, copies, GPU detection and the reduction scratch.
// The CPU-only build replaces this file with src/cuda_stub.cpp.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/common/cuda_check.cuh"
#include "kernels/common/launch_check.hpp"
#include "lumen/core/array.hpp"
#include "lumen/core/device.hpp"

namespace lumen {

bool cuda_enabled() noexcept { return true; }

namespace {
// The runtime's answer to "is there a GPU?", asked once. Without a GPU the runtime reports errors
// such as "driver version is insufficient" rather than zero devices: any error means "no GPU",
// and its text is kept, because on a new machine it is the first thing to know.
struct GpuProbe {
    bool available = false;
    std::string why_not;
};

const GpuProbe& gpu_probe() {
    static const GpuProbe probe = [] {
        GpuProbe p;
        int count = 0;
        const cudaError_t status = cudaGetDeviceCount(&count);
        if (status == cudaSuccess && count > 0) {
            p.available = true;
            return p;
        }
        cudaGetLastError();  // clear the sticky error
        int runtime = 0, driver = 0;
        cudaRuntimeGetVersion(&runtime);
        cudaDriverGetVersion(&driver);  // 0 when no driver is installed
        auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
        p.why_not = status != cudaSuccess ? std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status)
                                          : std::string("no CUDA device");
        p.why_not += "; CUDA runtime " + version(runtime) + " (linked into liblumen), " +
                     (driver > 0 ? "the driver supports CUDA up to " + version(driver) : std::string("no NVIDIA driver found"));
        cudaGetLastError();
        return p;
    }();
    return probe;
}
}  // namespace

bool cuda_available() noexcept {
    try {
        return gpu_probe().available;
    } catch (...) {  // std::bad_alloc while building the message
        return false;
    }
}

std::string cuda_device_description() {
    if (!cuda_available()) return "no usable GPU (built with CUDA, but " + gpu_probe().why_not + ")";
    int dev = 0;
    cudaDeviceProp prop{};
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess)
        return "GPU present but its properties could not be read";
    return std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
           std::to_string(prop.totalGlobalMem >> 30) + " GiB";
}

namespace {
// FP32 lanes per SM. From the CUDA programming guide's table of arithmetic throughput: 64 on
// sm_60/70/75/80 (data-centre parts up to A100), 128 on sm_61, sm_86/89 and sm_90 (H100/H200) and
// later.
int fp32_lanes_per_sm(int major, int minor) {
    if (major == 6) return minor == 0 ? 64 : 128;
    if (major == 7) return 64;
    if (major == 8) return minor == 0 ? 64 : 128;
    return 128;
}
}  // namespace

GpuPeaks cuda_device_peaks() {
    GpuPeaks p;
    if (!cuda_available()) return p;
    int dev = 0, major = 0, minor = 0, sms = 0, clock_khz = 0, mem_khz = 0, bus_bits = 0;
    const bool ok = cudaGetDevice(&dev) == cudaSuccess &&
                    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
                    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess &&
                    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) == cudaSuccess &&
                    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev) == cudaSuccess &&
                    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev) == cudaSuccess &&
                    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev) == cudaSuccess;
    if (!ok) {
        cudaGetLastError();
        return p;
    }
    p.memory_gb_per_s = 2.0 * double(mem_khz) * 1e3 * double(bus_bits) / 8.0 * 1e-9;
    p.fp32_tflop_per_s = 2.0 * double(sms) * fp32_lanes_per_sm(major, minor) * double(clock_khz) * 1e3 * 1e-12;
    // Some drivers report no clock (0) for these attributes; the datasheets of the GPUs lumen is
    // checked on then stand in (SXM parts: H200 4.8 TB/s, H100 3.35 TB/s, both 67 FP32 TFLOP/s).
    if (p.memory_gb_per_s <= 0 || p.fp32_tflop_per_s <= 0) {
        cudaDeviceProp prop{};
        const std::string name = cudaGetDeviceProperties(&prop, dev) == cudaSuccess ? prop.name : "";
        const bool h200 = name.find("H200") != std::string::npos, h100 = name.find("H100") != std::string::npos;
        if (p.memory_gb_per_s <= 0) p.memory_gb_per_s = h200 ? 4800.0 : h100 ? 3350.0 : 0.0;
        if (p.fp32_tflop_per_s <= 0) p.fp32_tflop_per_s = (h200 || h100) ? 67.0 : 0.0;
        cudaGetLastError();
    }
    return p;
}

void synchronize(Device d) {
    if (d == Device::cuda) LUMEN_CUDA_CHECK(cudaDeviceSynchronize());
}

namespace detail {

void* device_alloc(std::size_t bytes) {
    require_cuda("allocating GPU memory");
    void* p = nullptr;
    const cudaError_t status = cudaMalloc(&p, bytes);
    if (status != cudaSuccess) {
        cudaGetLastError();
        throw Error(ErrorCode::out_of_memory, "cannot allocate " + std::to_string(bytes >> 20) +
                                                  " MiB on the GPU (" + cudaGetErrorString(status) +
                                                  "): try a smaller problem or the CPU");
    }
    return p;
}

void device_free(void* p) noexcept { cudaFree(p); }

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes) {
    if (dst_dev == Device::cpu && src_dev == Device::cpu) {
        std::memcpy(dst, src, bytes);
        return;
    }
    const cudaMemcpyKind kind = dst_dev == Device::cpu   ? cudaMemcpyDeviceToHost
                                : src_dev == Device::cpu ? cudaMemcpyHostToDevice
                                                         : cudaMemcpyDeviceToDevice;
    LUMEN_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
}

void zero_bytes(void* dst, Device dev, std::size_t bytes) {
    if (dev == Device::cpu) std::memset(dst, 0, bytes);
    else LUMEN_CUDA_CHECK(cudaMemset(dst, 0, bytes));
}

namespace {
struct Scratch {
    void* ptr = nullptr;
    std::size_t bytes = 0;
    ~Scratch() { if (ptr) cudaFree(ptr); }
};
}  // namespace

void* cuda_scratch(std::size_t bytes) {
    thread_local Scratch scratch;
    if (bytes > scratch.bytes) {
        if (scratch.ptr) cudaFree(scratch.ptr);
        scratch.ptr = nullptr;
        scratch.bytes = 0;
        LUMEN_CUDA_CHECK(cudaMalloc(&scratch.ptr, bytes));
        scratch.bytes = bytes;
    }
    return scratch.ptr;
}

[[noreturn]] void throw_after_kernel(cudaError_t status, const char* call, const char* pretty_function) {
    const ErrorCode code = (status == cudaErrorMemoryAllocation) ? ErrorCode::out_of_memory : ErrorCode::failure;
    throw Error(code, std::string("CUDA error: ") + cudaGetErrorString(status) + " in " + call + " after kernel " +
                          kernel_name(pretty_function) + cuda_error_hint(status));
}

void check_launch(const char* pretty_function) {
    cudaError_t status = cudaGetLastError();  // a bad launch configuration, or a sticky earlier fault
    const char* stage = "launching";
    if (status == cudaSuccess) {
        if (!cuda_sync_after_launch()) return;
        status = cudaDeviceSynchronize();
        stage = "running";
    }
    if (status == cudaSuccess) return;
    const ErrorCode code = (status == cudaErrorMemoryAllocation) ? ErrorCode::out_of_memory : ErrorCode::failure;
    std::string what = std::string("CUDA error: ") + cudaGetErrorString(status) + " while " + stage + " kernel " +
                       kernel_name(pretty_function);
    // Under LUMEN_CUDA_SYNC every earlier kernel was checked, so this one is the culprit; without
    // it an error seen at launch may be a sticky fault of an earlier kernel.
    if (!cuda_sync_after_launch()) what += cuda_error_hint(status);
    throw Error(code, what);
}

}  // namespace detail
}  // namespace lumen
