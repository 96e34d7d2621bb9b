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
                                           "): this lumen was built without CUDA; compute on the CPU instead");
    if (!cuda_available())
        throw Error(ErrorCode::no_gpu, std::string("cannot run on the GPU (") + what + "): " +
                                           cuda_device_description() + "; compute on the CPU instead");
}

Device parse_device(const std::string& text, const std::string& field) {
    if (text == "cpu") return Device::cpu;
    if (text == "auto") return cuda_available() ? Device::cuda : Device::cpu;
    if (text == "cuda" || text == "gpu") {
        require_cuda((field + " " + text).c_str());
        return Device::cuda;
    }
    invalid_option(field, "'" + text + "' is not a device; expected cpu, cuda or auto");
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
