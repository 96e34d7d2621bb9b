// FftPlan: FFTW on the CPU, cuFFT (kernels/common/fft_cuda.cu) on the GPU. See include/lumen/fft.hpp
// for the conventions.
#include "lumen/fft.hpp"

#include <fftw3.h>
#include <omp.h>

#include <cmath>
#include <mutex>
#include <string>

#include "kernels/common/fft_cuda.hpp"
#include "kernels/common/fft_shift.hpp"
#include "src/executor.hpp"
#include "src/fft_threads.hpp"

namespace lumen {

namespace {

// FFTW's planner is not thread-safe; every planner call goes through this lock.
std::mutex& fftw_planner_mutex() {
    static std::mutex m;
    return m;
}

void init_fftw_threads_once() {
    static std::once_flag once;
    std::call_once(once, [] { fftwf_init_threads(); });
}

struct FftwPlanDeleter {
    void operator()(fftwf_plan_s* p) const noexcept {
        std::lock_guard<std::mutex> lock(fftw_planner_mutex());
        fftwf_destroy_plan(p);
    }
};
using FftwPlanPtr = std::unique_ptr<fftwf_plan_s, FftwPlanDeleter>;

struct CufftDeleter {
    void operator()(detail::CufftHandle* h) const noexcept { detail::cufft_destroy(h); }
};

index_t product(const std::vector<index_t>& v) {
    index_t n = 1;
    for (index_t d : v) n *= d;
    return n;
}

}  // namespace

struct FftPlan::Impl {
    std::vector<index_t> dims;
    index_t batch = 1;
    Device device = Device::cpu;
    int threads = 1;  // FFTW threads of the CPU plans
    FftwPlanPtr forward_cpu, inverse_cpu;
    std::unique_ptr<detail::CufftHandle, CufftDeleter> gpu;
    // Taken by every GPU transform and by the centred transform of odd sizes on the CPU (see
    // FftPlan::execute); guards `scratch` and the cuFFT plan.
    mutable std::mutex lock;
    mutable Array<complex64> scratch;  // for the centred variants of odd sizes, allocated on first use

    index_t total() const { return batch * product(dims); }

    void run_raw(complex64* data, FftDirection dir) const {
        if (device == Device::cpu) {
            auto* p = reinterpret_cast<fftwf_complex*>(data);
            fftwf_execute_dft(dir == FftDirection::forward ? forward_cpu.get() : inverse_cpu.get(), p, p);
        } else {
            LUMEN_CUDA_CALL(detail::cufft_execute(gpu.get(), data, dir == FftDirection::forward));
        }
    }
};

FftPlan::FftPlan(const std::vector<index_t>& dims, index_t batch, Device device) : impl_(std::make_unique<Impl>()) {
    require(!dims.empty() && dims.size() <= 3,
            "lumen::FftPlan: transforms have 1 to 3 dimensions, got " + std::to_string(dims.size()));
    require(batch >= 1, "lumen::FftPlan: batch must be at least 1, got " + std::to_string(batch));
    for (index_t d : dims) require(d >= 1, "lumen::FftPlan: transform sizes must be positive");
    impl_->dims = dims;
    impl_->batch = batch;
    impl_->device = device;
    const index_t n = product(dims);
    if (device == Device::cpu) {
        require(n <= index_t(1) << 31, "lumen::FftPlan: one transform of " + std::to_string(n) +
                                           " elements is larger than FFTW's int interface allows");
        init_fftw_threads_once();
        std::vector<int> ni(dims.begin(), dims.end());
        // Plans are made on a scratch buffer with FFTW_ESTIMATE (which never touches the data)
        // and executed on the caller's buffers; FFTW_UNALIGNED allows any 8-byte-aligned array.
        Array<complex64> probe(Shape{std::min<index_t>(n * batch, n * 2)});
        auto* buf = reinterpret_cast<fftwf_complex*>(probe.data());
        std::lock_guard<std::mutex> lock(fftw_planner_mutex());
        // Threads by the plan's size (src/fft_threads.hpp): small transforms, such as ePIE's one
        // frame at a time, run on the calling thread.
        impl_->threads = detail::fft_threads_for(n * batch, omp_get_max_threads());
        fftwf_plan_with_nthreads(impl_->threads);
        const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
        // Batching uses a distance of n between transforms; the planner only needs a valid
        // pointer, so a shorter probe buffer is fine with FFTW_ESTIMATE.
        impl_->forward_cpu.reset(fftwf_plan_many_dft(int(ni.size()), ni.data(), int(batch), buf, nullptr, 1, int(n), buf,
                                                     nullptr, 1, int(n), FFTW_FORWARD, flags));
        impl_->inverse_cpu.reset(fftwf_plan_many_dft(int(ni.size()), ni.data(), int(batch), buf, nullptr, 1, int(n), buf,
                                                     nullptr, 1, int(n), FFTW_BACKWARD, flags));
        if (!impl_->forward_cpu || !impl_->inverse_cpu)
            throw Error(ErrorCode::internal, "lumen::FftPlan: FFTW could not make a plan");
    } else {
#if LUMEN_WITH_CUDA
        require_cuda("an FFT on the GPU");
        impl_->gpu.reset(detail::cufft_create(dims, batch));
#else
        require_cuda("an FFT on the GPU");
#endif
    }
}

FftPlan FftPlan::for_shape(const Shape& shape, int rank, Device device) {
    require(rank >= 1 && rank <= 3 && rank <= shape.rank(),
            "lumen::FftPlan::for_shape: cannot transform " + std::to_string(rank) + " axes of an array of shape " +
                shape.str());
    std::vector<index_t> dims;
    index_t batch = 1;
    for (int a = 0; a < shape.rank(); ++a) {
        if (a < shape.rank() - rank) batch *= shape[a];
        else dims.push_back(shape[a]);
    }
    return FftPlan(dims, batch, device);
}

FftPlan::FftPlan(FftPlan&&) noexcept = default;
FftPlan& FftPlan::operator=(FftPlan&&) noexcept = default;
FftPlan::~FftPlan() = default;

const std::vector<index_t>& FftPlan::dims() const { return impl_->dims; }
index_t FftPlan::batch() const { return impl_->batch; }
Device FftPlan::device() const { return impl_->device; }
int FftPlan::threads() const { return impl_->threads; }

namespace {
kern::ShiftScaleF make_shift(const std::vector<index_t>& dims, const complex64* in, complex64* out, bool inverse_shift,
                             float scale) {
    index_t n[3] = {1, 1, 1}, s[3] = {0, 0, 0};
    const int offset = 3 - int(dims.size());
    for (std::size_t k = 0; k < dims.size(); ++k) {
        n[offset + k] = dims[k];
        s[offset + k] = inverse_shift ? (dims[k] + 1) / 2 : dims[k] / 2;
    }
    return kern::ShiftScaleF{in, out, n[0], n[1], n[2], s[0], s[1], s[2], scale};
}
}  // namespace

float FftPlan::unitary_scale() const { return float(1.0 / std::sqrt(double(product(impl_->dims)))); }

namespace {
void check_data(const View<complex64>& data, index_t total, Device device) {
    require(data.size() == total, "lumen::FftPlan: array of " + std::to_string(data.size()) +
                                      " elements does not match the plan (" + std::to_string(total) + ")");
    require(data.device() == device, "lumen::FftPlan: the array is on " + std::string(device_name(data.device())) +
                                         " but the plan is for " + device_name(device));
}
}  // namespace

void FftPlan::execute_unscaled(View<complex64> data, FftDirection direction) const {
    const Impl& p = *impl_;
    check_data(data, p.total(), p.device);
    // The cuFFT plan is locked as in execute(); FFTW's execution needs no lock.
    std::unique_lock<std::mutex> guard(p.lock, std::defer_lock);
    if (p.device != Device::cpu) guard.lock();
    p.run_raw(data.data(), direction);
}

void FftPlan::execute(View<complex64> data, FftDirection direction, bool centered) const {
    const Impl& p = *impl_;
    check_data(data, p.total(), p.device);
    const float scale = unitary_scale();
    bool all_even = true;
    for (index_t d : p.dims) all_even = all_even && (d % 2 == 0);
    // Safe from several threads at once. FFTW executes one plan on different arrays concurrently
    // (its manual, "Thread safety": fftw_execute and the new-array variants), so plain and
    // even-size centred CPU transforms run without a lock. The odd-size centred path shares the
    // plan's scratch buffer, and a cuFFT plan may not be executed by two threads at once (cuFFT
    // guide, "Thread Safety": only different plans are safe): those take the plan's lock. On the
    // GPU the lock also keeps one call's kernels back to back in the (legacy, shared) default
    // stream, so another thread's kernels cannot run between them.
    std::unique_lock<std::mutex> guard(p.lock, std::defer_lock);
    if (p.device != Device::cpu || (centered && !all_even)) guard.lock();
    if (!centered) {
        p.run_raw(data.data(), direction);
        detail::for_each(p.device, data.size(), kern::ScaleComplexF{data.data(), scale});
        return;
    }
    if (all_even) {
        const std::size_t rank = p.dims.size();
        index_t half_sum = 0;
        for (index_t d : p.dims) half_sum += d / 2;
        const index_t n2 = p.dims[rank - 1], n1 = rank >= 2 ? p.dims[rank - 2] : 1;
        const float sign = (half_sum % 2) ? -1.0f : 1.0f;
        const kern::CheckerboardF pre{data.data(), n2, n1 * n2, rank >= 2, rank >= 3, 1.0f};
        kern::CheckerboardF post = pre;
        post.factor = sign * scale;
        detail::for_each(p.device, data.size(), pre);
        p.run_raw(data.data(), direction);
        detail::for_each(p.device, data.size(), post);
        return;
    }
    if (p.scratch.size() != p.total()) p.scratch = Array<complex64>(Shape{p.total()}, p.device);
    complex64* tmp = p.scratch.data();
    detail::for_each(p.device, data.size(), make_shift(p.dims, data.data(), tmp, /*inverse_shift=*/true, 1.0f));
    p.run_raw(tmp, direction);
    detail::for_each(p.device, data.size(), make_shift(p.dims, tmp, data.data(), /*inverse_shift=*/false, scale));
}

namespace {
void shift_in_place(View<complex64> data, int rank, bool inverse_shift) {
    require(rank >= 1 && rank <= 3 && rank <= data.rank(), "lumen::fftshift: rank must be 1..3 and at most the array's");
    std::vector<index_t> dims;
    for (int a = data.rank() - rank; a < data.rank(); ++a) dims.push_back(data.dim(a));
    Array<complex64> tmp = Array<complex64>::copy_of(data, data.device());
    detail::for_each(data.device(), data.size(), make_shift(dims, tmp.data(), data.data(), inverse_shift, 1.0f));
}
}  // namespace

void fftshift(View<complex64> data, int rank) { shift_in_place(data, rank, false); }
void ifftshift(View<complex64> data, int rank) { shift_in_place(data, rank, true); }

}  // namespace lumen
