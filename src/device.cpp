#include <cstdlib>
#include <new>
#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/device.hpp"
#include "lumen/core/error.hpp"

namespace lumen {

const char* device_name(Device d) noexcept { return d == Device::cpu ? "cpu" : "cuda"; }

void require_cuda(const char* what) {
    if (!cuda_enabled())
        throw Error(ErrorCode::no_gpu, std::string("cannot run on the GPU (") + what +
                                           "): this lumen was built without CUDA; use --device cpu");
    if (!cuda_available())
        throw Error(ErrorCode::no_gpu, std::string("cannot run on the GPU (") + what + "): " +
                                           cuda_device_description() + "; use --device cpu");
}

Device parse_device(const std::string& text, const std::string& option_name) {
    if (text == "cpu") return Device::cpu;
    if (text == "auto") return cuda_available() ? Device::cuda : Device::cpu;
    if (text == "cuda" || text == "gpu") {
        require_cuda(("option " + option_name + " " + text).c_str());
        return Device::cuda;
    }
    throw Error(ErrorCode::usage, "option " + option_name + ": '" + text + "' is not a device; expected cpu, cuda or auto");
}

namespace detail {
void* host_alloc(std::size_t bytes) {
    // 64-byte alignment suits FFTW's SIMD paths and cache lines.
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p)
        throw Error(ErrorCode::out_of_memory,
                    "cannot allocate " + std::to_string(bytes >> 20) + " MiB of host memory: the problem is too large");
    return p;
}
void host_free(void* p) noexcept { std::free(p); }
}  // namespace detail
}  // namespace lumen
