// What every binding file shares: arrays in (checked, never copied), arrays out (lumen's memory
// handed to Python through a capsule), devices by name, progress callbacks that cross the GIL, and
// enum fields spoken as lumen's own names.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <exception>
#include <typeinfo>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/device.hpp"
#include "lumen/core/progress.hpp"
#include "lumen/core/quality.hpp"

namespace lumen::py {

namespace nb = nanobind;

// Any array a caller passes: numpy, PyTorch, CuPy, JAX, anything with the buffer protocol or
// DLPack. Read-only for inputs; outputs must be writable.
using InArray = nb::ndarray<nb::ro>;
using OutArray = nb::ndarray<>;

template <class T> struct Element;
template <> struct Element<float> {
    static constexpr const char* name = "float32";
    static nb::dlpack::dtype dtype() { return nb::dtype<float>(); }
};
template <> struct Element<complex64> {
    static constexpr const char* name = "complex64";
    static nb::dlpack::dtype dtype() { return nb::dtype<std::complex<float>>(); }
};
template <> struct Element<index_t> {
    static constexpr const char* name = "int64";
    static nb::dlpack::dtype dtype() { return nb::dtype<std::int64_t>(); }
};

// "numpy.ndarray of float64", "torch.Tensor", "list"
std::string describe_object(nb::handle obj);
// The device an array lives on; ValueError for devices lumen does not run on.
Device array_device(int dlpack_device_type, const char* what);

// Checks dtype, C-contiguity and device and returns the array's memory as a View, without a copy.
// Wrong dtype or a non-array: TypeError; wrong layout, shape or device: ValueError. Each message
// names the argument (`what`) and says what was expected.
template <class T, class Array>
View<T> view_of(const Array& a, const char* what) {
    const auto dt = a.dtype();
    const auto want = Element<std::remove_const_t<T>>::dtype();
    if (dt.code != want.code || dt.bits != want.bits || dt.lanes != want.lanes) {
        std::string got = dt.code == uint8_t(nb::dlpack::dtype_code::Float)     ? "float"
                          : dt.code == uint8_t(nb::dlpack::dtype_code::Complex) ? "complex"
                          : dt.code == uint8_t(nb::dlpack::dtype_code::Int)     ? "int"
                          : dt.code == uint8_t(nb::dlpack::dtype_code::UInt)    ? "uint"
                          : dt.code == uint8_t(nb::dlpack::dtype_code::Bool)    ? "bool"
                                                                                 : "other";
        throw nb::type_error((std::string(what) + ": expected " + Element<std::remove_const_t<T>>::name + ", got " +
                              got + std::to_string(dt.bits) + " (lumen does not convert; use .astype(...) explicitly)")
                                 .c_str());
    }
    // C order: each stride (in elements) is the product of the later dimensions; axes of length 1
    // may have any stride.
    std::int64_t expected = 1;
    for (int i = int(a.ndim()) - 1; i >= 0; --i) {
        if (a.shape(i) != 1 && a.stride(i) != expected)
            throw nb::value_error((std::string(what) +
                                   ": expected a C-contiguous array (lumen views memory without copying; "
                                   "use numpy.ascontiguousarray or .contiguous() explicitly)")
                                      .c_str());
        expected *= std::int64_t(a.shape(i));
    }
    if (a.ndim() > std::size_t(Shape::max_rank))
        throw nb::value_error((std::string(what) + ": rank " + std::to_string(a.ndim()) + " exceeds lumen's 6").c_str());
    std::vector<index_t> dims(a.ndim());
    for (std::size_t i = 0; i < a.ndim(); ++i) dims[i] = index_t(a.shape(i));
    const Device device = array_device(a.device_type(), what);
    return View<T>(static_cast<T*>(const_cast<void*>(static_cast<const void*>(a.data()))), Shape(dims), device);
}

// An input array from any Python object (TypeError when it is not an array at all).
template <class T>
View<const T> input(nb::handle obj, const char* what) {
    InArray a;
    bool ok = false;
    try {
        ok = nb::try_cast(obj, a, false);
    } catch (const std::bad_cast&) {
        ok = false;
    }
    if (!ok)
        throw nb::type_error((std::string(what) + ": expected a " + Element<T>::name + " array, got " +
                              describe_object(obj))
                                 .c_str());
    return view_of<const T>(a, what);
}
// The same, holding the ndarray (and with it the Python object) for as long as the caller keeps it.
template <class T>
View<T> output(nb::handle obj, const char* what) {
    // numpy says when an array is read-only; other libraries' arrays are writable.
    if (nb::hasattr(obj, "flags") && nb::hasattr(obj.attr("flags"), "writeable") &&
        !nb::cast<bool>(obj.attr("flags").attr("writeable")))
        throw nb::value_error((std::string(what) + ": the array is read-only").c_str());
    OutArray a;
    bool ok = false;
    try {
        ok = nb::try_cast(obj, a, false);
    } catch (const std::bad_cast&) {
        ok = false;
    }
    if (!ok)
        throw nb::type_error((std::string(what) + ": expected a writable " + Element<T>::name + " array, got " +
                              describe_object(obj))
                                 .c_str());
    return view_of<T>(a, what);
}
// None -> an empty view.
template <class T>
View<const T> optional_input(nb::handle obj, const char* what) {
    return obj.is_none() ? View<const T>() : input<T>(obj, what);
}

// Requires `v` to have `shape` (and, when given, to live on `device`).
void require_shape(const Shape& got, const Shape& want, const char* what);
void require_device(Device got, Device want, const char* what);

// Which array library a result is given back as: the caller's (the library of `like`), numpy for
// host results otherwise, a DLPack-capable nanobind array for device results without a library.
enum class Framework { numpy, pytorch, cupy, jax, dlpack };
Framework framework_of(nb::handle like);

// Moves `a` into a capsule and returns an array that owns it (zero-copy): a numpy array for host
// arrays unless `framework` says otherwise. An empty Array gives None.
template <class T>
nb::object give(Array<T>&& a, Framework framework = Framework::numpy);

// The view of an Array owned by a Python object (`owner`, e.g. the struct that holds it): the
// returned array keeps `owner` alive. Empty arrays give None.
template <class T>
nb::object borrow(const Array<T>& a, nb::handle owner);

// Copies a Python array into an owned host Array (for struct fields that own their data).
template <class T>
Array<T> copy_in(nb::handle obj, const char* what) {
    if (obj.is_none()) return Array<T>();
    return Array<T>::copy_of(input<T>(obj, what), Device::cpu);
}

// "cpu", "cuda", "gpu", "auto" -> Device (lumen's parse_device; no_gpu when CUDA is absent).
Device device_arg(const std::string& name);

// A Python progress callable made into lumen's ProgressCallback. The callable is called with the
// GIL held (the reconstruction itself runs without it); None or True continues, False stops. An
// exception inside the callable stops the run and is raised again once it has returned
// (rethrow_if_raised). The callable is held through a shared state so that lumen may copy the
// std::function without the GIL.
class Progress {
public:
    explicit Progress(nb::object callable);
    ProgressCallback callback() const;
    // Wraps any callback signature: f(args...) is called with the GIL held; the same error rules.
    template <class R, class... Args, class Call>
    std::function<R(Args...)> wrap(R stop_value, Call call) const {
        if (!state_) return {};
        auto state = state_;
        return [state, stop_value, call](Args... args) -> R {
            nb::gil_scoped_acquire gil;
            if (state->raised) return stop_value;
            try {
                return call(state->callable, args...);
            } catch (...) {
                state->raised = std::current_exception();
                return stop_value;
            }
        };
    }
    void rethrow_if_raised() const;

private:
    struct State {
        nb::object callable;
        std::exception_ptr raised;
        ~State();
    };
    std::shared_ptr<State> state_;
};

// Quality as a Python class (NaN where not measured).
void bind_common(nb::module_& m);

// Enum fields as text properties: getter gives lumen's name, setter parses with lumen's parser
// (Error(invalid_option) naming the field for an unknown name).
template <class C, class E, class Parse, class Name>
void enum_property(nb::class_<C>& cls, const char* name, E C::*member, Parse parse, Name name_of, const char* doc) {
    cls.def_prop_rw(
        name, [member, name_of](const C& c) { return std::string(name_of(c.*member)); },
        [member, parse](C& c, const std::string& text) { c.*member = parse(text); }, nb::arg("value"), doc);
}

// Array-valued struct members: a getter that borrows (zero-copy, keeps the struct alive) and a
// setter that copies into the struct's own Array (the struct owns its data).
template <class C, class T>
void array_property(nb::class_<C>& cls, const char* name, Array<T> C::*member, const char* doc) {
    cls.def_prop_rw(
        name, [member](nb::handle self) { return borrow(nb::cast<C&>(self).*member, self); },
        [member, name](C& c, nb::handle value) { c.*member = copy_in<T>(value, name); }, nb::arg("value").none(),
        doc);
}

nb::tuple shape_tuple(const Shape& s);
Shape shape_arg(const std::vector<index_t>& dims);

void bind_operators(nb::module_& m);
void bind_solvers(nb::module_& m);
void bind_ct(nb::module_& m);
void bind_mri(nb::module_& m);
void bind_ptycho(nb::module_& m);

}  // namespace lumen::py
