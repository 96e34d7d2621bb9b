// Division by a divisor fixed for a whole launch, done by a multiply (Lemire, Kaser & Kurz,
// "Faster remainder by direct computation", Software: Practice and Experience 49, 2019). The
// ptychography kernels split every element's index into frame, row and column by dividing by the
// window's size and width; a 64-bit division costs tens of cycles where the element's own work
// (a complex multiply) costs a few, and it dominated AWF's per-pixel passes (issue #16).
#pragma once

#include <cstdint>

#include "lumen/core/hd.hpp"

namespace lumen::kern {

#if !defined(__CUDA_ARCH__)
__extension__ typedef unsigned __int128 fast_divide_u128;  // GCC and Clang on 64-bit targets
#endif

struct FastDivisor {
    std::uint64_t d = 1;
    std::uint64_t magic = 0;  // ceil(2^64 / d) as floor((2^64 - 1) / d) + 1; 0 for d = 1

    FastDivisor() = default;
    LUMEN_HD explicit FastDivisor(index_t divisor)
        : d(std::uint64_t(divisor)), magic(divisor > 1 ? ~std::uint64_t(0) / std::uint64_t(divisor) + 1 : 0) {}

    // n / d for n >= 0: by the multiply where n and d are below 2^32 (exact there), else by a
    // division.
    LUMEN_HD index_t divide(index_t n) const {
        const std::uint64_t u = std::uint64_t(n);
        if (magic == 0) return n;
        if ((u | d) >> 32) return index_t(u / d);
#if defined(__CUDA_ARCH__)
        return index_t(__umul64hi(magic, u));
#else
        return index_t(std::uint64_t((fast_divide_u128(magic) * u) >> 64));
#endif
    }
};

}  // namespace lumen::kern
