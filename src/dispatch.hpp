// Device dispatch helpers for host code in src/. A module's CUDA launchers are only compiled in
// CUDA builds; LUMEN_CUDA_CALL(expr) evaluates expr there and, in CPU-only builds, throws the
// same clear Error(no_gpu) that every other GPU entry point throws.
#pragma once

#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/device.hpp"

#if LUMEN_WITH_CUDA
#define LUMEN_CUDA_CALL(expr) (expr)
#else
#define LUMEN_CUDA_CALL(expr) ::lumen::require_cuda(#expr)
#endif

namespace lumen::detail {

// All views must live on one device; returns it. `what` names the operation for the message.
template <class V, class... Vs>
Device common_device(const char* what, const V& first, const Vs&... rest) {
    const Device d = first.device();
    const bool same = ((rest.device() == d) && ... && true);
    require(same, std::string(what) + ": all arrays must be on the same device");
    return d;
}

template <class V, class... Vs>
index_t common_size(const char* what, const V& first, const Vs&... rest) {
    const index_t n = first.size();
    const bool same = ((rest.size() == n) && ... && true);
    require(same, std::string(what) + ": arrays have different sizes (" + std::to_string(n) + " vs others)");
    return n;
}

}  // namespace lumen::detail
