// LUMEN_HD marks a function that runs on both the host and the device. Under nvcc it expands to
// __host__ __device__; under a plain C++ compiler it is empty, so the same per-element math is
// compiled by g++ for the OpenMP path and by nvcc for the CUDA path (docs/design.md, "the one rule").
#pragma once

#if defined(__CUDACC__)
#define LUMEN_HD __host__ __device__
#define LUMEN_DEVICE_CODE 1
#else
#define LUMEN_HD
#endif

#include <cstdint>

namespace lumen {
using index_t = std::int64_t;

// pi, the one definition in lumen: a constexpr scalar, so host and device code (LUMEN_HD) use it
// alike.
inline constexpr double kPi = 3.14159265358979323846;
inline constexpr float kPiF = float(kPi);
}  // namespace lumen
