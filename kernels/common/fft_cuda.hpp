// cuFFT behind a plain C++ interface, so that src/fft.cpp never includes CUDA headers.
#pragma once

#include <vector>

#include "lumen/core/complex.hpp"

namespace lumen::detail {
struct CufftHandle;
CufftHandle* cufft_create(const std::vector<index_t>& dims, index_t batch);
void cufft_destroy(CufftHandle* handle) noexcept;
// Unnormalised in-place transform (the caller scales).
void cufft_execute(CufftHandle* handle, complex64* data_d, bool forward);
}  // namespace lumen::detail
