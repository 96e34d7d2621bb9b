// The one FFT wrapper of lumen: batched complex-to-complex transforms in 1, 2 or 3 dimensions,
// FFTW (float, OpenMP-threaded) on the CPU and cuFFT on the GPU.
//
// Conventions:
//  - Unitary: both directions are scaled by 1/sqrt(N) (N = product of the transformed dims), so
//    forward and inverse are adjoint to each other and preserve the l2 norm, like numpy's
//    norm="ortho".
//  - The transform runs over the LAST `rank` axes of a C-order array and is batched over the rest.
//  - Centred variants compute fftshift(FFT(ifftshift(x))) over the transformed axes, as fastMRI's
//    fft2c/ifft2c do; fftshift moves index 0 to index n/2 (floor), ifftshift is its inverse; both
//    are exact for odd sizes.
//  - Plans are built once (in the constructor) and reused. One plan may be executed from several
//    threads at once (on different arrays): CPU transforms run concurrently, except the centred
//    transform of odd sizes, which uses the plan's scratch buffer; GPU transforms, and those CPU
//    ones, take the plan's lock and run one after another.
#pragma once

#include <memory>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen {

enum class FftDirection { forward, inverse };

class FftPlan {
public:
    // Transforms of size `dims` (1 to 3 entries, slowest first), `batch` of them back to back.
    FftPlan(const std::vector<index_t>& dims, index_t batch, Device device);
    // A plan for arrays of `shape`: transforms its last `rank` axes, batched over the leading ones.
    static FftPlan for_shape(const Shape& shape, int rank, Device device);

    FftPlan(FftPlan&&) noexcept;
    FftPlan& operator=(FftPlan&&) noexcept;
    ~FftPlan();

    // In-place unitary transforms; `data` must hold batch * prod(dims) elements on the plan's device.
    void forward(View<complex64> data) const { execute(data, FftDirection::forward, false); }
    void inverse(View<complex64> data) const { execute(data, FftDirection::inverse, false); }
    void forward_centered(View<complex64> data) const { execute(data, FftDirection::forward, true); }
    void inverse_centered(View<complex64> data) const { execute(data, FftDirection::inverse, true); }
    void execute(View<complex64> data, FftDirection direction, bool centered) const;
    // The plain transform without its 1/sqrt(N) scaling, for callers that fold unitary_scale()
    // into an element-wise pass of their own (one pass over the data fewer per transform).
    void execute_unscaled(View<complex64> data, FftDirection direction) const;
    // 1/sqrt(N), N = product of dims().
    float unitary_scale() const;

    const std::vector<index_t>& dims() const;
    index_t batch() const;
    Device device() const;
    // FFTW threads the CPU plan uses: by the plan's size (batch x transform), from 1 for a small
    // transform up to the OpenMP thread count (docs/conventions.md, "Threads"); 1 on the GPU.
    int threads() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Cyclic shifts over the last `rank` axes of `data` (in place, through a temporary).
void fftshift(View<complex64> data, int rank);
void ifftshift(View<complex64> data, int rank);

}  // namespace lumen
