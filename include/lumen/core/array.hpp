// Shape, the non-owning View<T> and the owning Array<T>.
//
// Arrays are C order (row-major) and contiguous; the last axis varies fastest. An Array owns
// host or GPU memory (RAII, move-only); copies between devices are explicit (to(), copy()).
// A View is a pointer, a shape and a device: cheap to pass across APIs, never owns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lumen/core/device.hpp"
#include "lumen/core/error.hpp"
#include "lumen/core/hd.hpp"

namespace lumen {

namespace detail {
// a * b for non-negative sizes, false when the product does not fit in index_t. Sizes come from
// file headers, so every product of them is checked: a wrapped size would allocate too little
// and index past the end.
// Plain division rather than a compiler builtin: this header is also parsed by nvcc.
inline bool mul_fits(index_t a, index_t b, index_t& out) noexcept {
    if (a < 0 || b < 0) return false;
    if (a != 0 && b > std::numeric_limits<index_t>::max() / a) return false;
    out = a * b;
    return true;
}
}  // namespace detail

class Shape {
public:
    static constexpr int max_rank = 6;

    Shape() = default;
    Shape(std::initializer_list<index_t> dims) { assign(dims.begin(), dims.end()); }
    explicit Shape(const std::vector<index_t>& dims) { assign(dims.begin(), dims.end()); }

    int rank() const noexcept { return rank_; }
    index_t operator[](int axis) const { return dims_[axis < 0 ? axis + rank_ : axis]; }
    index_t& operator[](int axis) { return dims_[axis < 0 ? axis + rank_ : axis]; }
    // Number of elements (1 for rank 0). Throws Error(bad_input) when it does not fit in index_t
    // (possible only after a dimension was changed through operator[]; constructors check).
    // The message is built only on failure: size() runs in inner loops.
    index_t size() const {
        index_t n = 1;
        if (!checked_size(n)) throw Error(ErrorCode::bad_input, "lumen::Shape: " + str() + " has more elements than fit in 64 bits");
        return n;
    }
    // Bytes for `element_size`-byte elements; throws Error(bad_input) when that overflows.
    std::size_t bytes(std::size_t element_size) const {
        index_t b = 0;
        if (!detail::mul_fits(size(), index_t(element_size), b))
            throw Error(ErrorCode::bad_input, "lumen::Shape: " + str() + " needs more bytes than fit in 64 bits");
        return std::size_t(b);
    }
    std::vector<index_t> dims() const { return {dims_, dims_ + rank_}; }
    // The shape without its first axis ("one item of a batch").
    Shape drop_front(int count = 1) const {
        std::vector<index_t> d(dims_ + std::min(count, rank_), dims_ + rank_);
        return Shape(d);
    }
    bool operator==(const Shape& o) const {
        return rank_ == o.rank_ && std::equal(dims_, dims_ + rank_, o.dims_);
    }
    bool operator!=(const Shape& o) const { return !(*this == o); }
    // "(3, 64, 64)"
    std::string str() const {
        std::string s = "(";
        for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
        return s + (rank_ == 1 ? ",)" : ")");
    }

private:
    bool checked_size(index_t& n) const noexcept {
        n = 1;
        for (int i = 0; i < rank_; ++i)
            if (!detail::mul_fits(n, dims_[i], n)) return false;
        return true;
    }
    template <class It>
    void assign(It first, It last) {
        const auto n = std::distance(first, last);
        require(n <= max_rank, "lumen::Shape: rank " + std::to_string(n) + " exceeds the maximum of 6");
        rank_ = int(n);
        int i = 0;
        for (auto it = first; it != last; ++it) {
            require(*it >= 0, "lumen::Shape: negative dimension " + std::to_string(*it));
            dims_[i++] = *it;
        }
        index_t elements = 0;
        if (!checked_size(elements))
            throw Error(ErrorCode::bad_input, "lumen::Shape: " + str() + " has more elements than fit in 64 bits");
    }
    index_t dims_[max_rank] = {0, 0, 0, 0, 0, 0};
    int rank_ = 0;
};

namespace detail {
// Raw memory primitives behind Array; implemented in kernels/common/memory.cu (CUDA builds) or
// src/cuda_stub.cpp (CPU-only builds, where the GPU variants throw Error(no_gpu)).
void* host_alloc(std::size_t bytes);
void host_free(void* p) noexcept;
void* device_alloc(std::size_t bytes);
void device_free(void* p) noexcept;
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t bytes);
void zero_bytes(void* dst, Device dev, std::size_t bytes);
}  // namespace detail

template <class T>
class View {
public:
    using value_type = T;
    View() = default;
    View(T* data, Shape shape, Device device = Device::cpu) : data_(data), shape_(shape), device_(device) {}
    // View<T> converts to View<const T>.
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
    View(const View<U>& o) : data_(o.data()), shape_(o.shape()), device_(o.device()) {}  // NOLINT

    T* data() const noexcept { return data_; }
    const Shape& shape() const noexcept { return shape_; }
    Device device() const noexcept { return device_; }
    // A default (null) view is empty whatever its shape.
    index_t size() const { return data_ ? shape_.size() : 0; }
    bool empty() const { return size() == 0; }
    int rank() const noexcept { return shape_.rank(); }
    index_t dim(int axis) const { return shape_[axis]; }

    // Element access; valid for host views only.
    T& operator[](index_t i) const { return data_[i]; }
    T* begin() const { return data_; }
    T* end() const { return data_ + size(); }

    // Item i along the first axis, e.g. one projection of a stack.
    View item(index_t i) const {
        Shape s = shape_.drop_front();
        return View(data_ + i * s.size(), s, device_);
    }
    // Items [first, first + count) along the first axis.
    View items(index_t first, index_t count) const {
        Shape s = shape_;
        s[0] = count;
        return View(data_ + first * shape_.drop_front().size(), s, device_);
    }
    View reshaped(const Shape& s) const {
        require(s.size() == size(), "lumen::View::reshaped: cannot view " + shape_.str() + " as " + s.str());
        return View(data_, s, device_);
    }

private:
    T* data_ = nullptr;
    Shape shape_;
    Device device_ = Device::cpu;
};

template <class T>
class Array {
public:
    using value_type = T;
    static_assert(std::is_trivially_copyable_v<T>, "lumen::Array holds trivially copyable element types");

    Array() = default;
    // Zero-initialised array of the given shape on the given device.
    explicit Array(const Shape& shape, Device device = Device::cpu) : shape_(shape), device_(device) {
        allocate();
        if (bytes()) detail::zero_bytes(data_, device_, bytes());
    }
    Array(const Array&) = delete;
    Array& operator=(const Array&) = delete;
    Array(Array&& o) noexcept { swap(o); }
    Array& operator=(Array&& o) noexcept {
        if (this != &o) {
            release();
            swap(o);
        }
        return *this;
    }
    ~Array() { release(); }

    // Host array holding a copy of `values` with the given shape.
    static Array from(const std::vector<T>& values, const Shape& shape) {
        require(index_t(values.size()) == shape.size(),
                "lumen::Array::from: " + std::to_string(values.size()) + " values for shape " + shape.str());
        Array a(shape);
        std::copy(values.begin(), values.end(), a.data());
        return a;
    }
    // A copy of `src` (any device) placed on `device`.
    static Array copy_of(View<const T> src, Device device) {
        Array a;
        a.shape_ = src.shape();
        a.device_ = device;
        a.allocate();
        if (a.bytes()) detail::copy_bytes(a.data_, device, src.data(), src.device(), a.bytes());
        return a;
    }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    const Shape& shape() const noexcept { return shape_; }
    Device device() const noexcept { return device_; }
    // A default-constructed or moved-from array is empty.
    index_t size() const { return data_ ? shape_.size() : 0; }
    bool empty() const { return size() == 0; }
    int rank() const noexcept { return shape_.rank(); }
    index_t dim(int axis) const { return shape_[axis]; }
    std::size_t bytes() const { return shape_.bytes(sizeof(T)); }

    View<T> view() noexcept { return View<T>(data_, shape_, device_); }
    View<const T> view() const noexcept { return View<const T>(data_, shape_, device_); }
    operator View<T>() noexcept { return view(); }              // NOLINT
    operator View<const T>() const noexcept { return view(); }  // NOLINT

    // Element access; valid for host arrays only.
    T& operator[](index_t i) { return data_[i]; }
    const T& operator[](index_t i) const { return data_[i]; }
    T* begin() { return data_; }
    T* end() { return data_ + size(); }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size(); }

    Array to(Device device) const { return copy_of(view(), device); }
    Array clone() const { return copy_of(view(), device_); }
    // Copies src (same number of elements, any device) into this array.
    void assign(View<const T> src) {
        require(src.size() == size(), "lumen::Array::assign: size " + std::to_string(src.size()) +
                                          " does not match " + std::to_string(size()));
        if (bytes()) detail::copy_bytes(data_, device_, src.data(), src.device(), bytes());
    }
    void reshape(const Shape& s) {
        require(s.size() == size(), "lumen::Array::reshape: cannot reshape " + shape_.str() + " to " + s.str());
        shape_ = s;
    }
    void fill_zero() {
        if (bytes()) detail::zero_bytes(data_, device_, bytes());
    }

private:
    void allocate() {
        if (!bytes()) return;
        data_ = static_cast<T*>(device_ == Device::cpu ? detail::host_alloc(bytes()) : detail::device_alloc(bytes()));
    }
    void release() noexcept {
        if (data_) {
            if (device_ == Device::cpu) detail::host_free(data_);
            else detail::device_free(data_);
        }
        data_ = nullptr;
        shape_ = Shape();
    }
    void swap(Array& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(shape_, o.shape_);
        std::swap(device_, o.device_);
    }

    T* data_ = nullptr;
    Shape shape_;
    Device device_ = Device::cpu;
};

// Marks a parameter as not taking part in template argument deduction, so that T comes from
// another argument (an operator) and an Array<T> or a View<T> converts to View<const T> here
// (std::type_identity_t in C++20).
template <class T> struct no_deduce { using type = T; };
template <class T> using no_deduce_t = typename no_deduce<T>::type;

// Copies src into dst (same size; any devices). T comes from dst; src may be an Array<T> or a
// View<T> or View<const T>.
template <class T>
void copy(no_deduce_t<View<const T>> src, View<T> dst) {
    require(src.size() == dst.size(), "lumen::copy: source size " + std::to_string(src.size()) +
                                          " does not match destination size " + std::to_string(dst.size()));
    if (src.size())
        detail::copy_bytes(dst.data(), dst.device(), src.data(), src.device(), std::size_t(src.size()) * sizeof(T));
}

// Checks a caller's view argument of a plan object (ct::Reconstructor, ...): not null, of the
// expected shape, on a device this build and machine can use. Throws Error(bad_input) (or
// Error(no_gpu) for a cuda view without a GPU) whose message starts with `where` and whose field()
// is `name`, the parameter ("volume", "object", ...).
template <class T>
void require_view(const View<T>& view, const Shape& expected, const std::string& where, const std::string& name) {
    if (view.shape() != expected)
        throw Error(ErrorCode::bad_input,
                    where + ": " + name + " has shape " + view.shape().str() + ", expected " + expected.str(), name);
    if (!view.data() && expected.size() > 0)
        throw Error(ErrorCode::bad_input, where + ": " + name + " is a null view of shape " + expected.str(), name);
    if (view.device() == Device::cuda && !cuda_available())
        throw Error(ErrorCode::no_gpu, where + ": " + name + " is a cuda view, but " +
                                           (cuda_enabled() ? "no GPU can be used now" : "lumen was built without CUDA"),
                    name);
}

}  // namespace lumen
