#include "common.hpp"

#include <cmath>

#include "lumen/core/error.hpp"

namespace lumen::py {

std::string describe_object(nb::handle obj) {
    nb::handle type = obj.type();
    std::string module = nb::cast<std::string>(nb::getattr(type, "__module__", nb::str("")));
    std::string name = nb::cast<std::string>(nb::getattr(type, "__qualname__", nb::str("?")));
    std::string text = module.empty() || module == "builtins" ? name : module + "." + name;
    if (nb::hasattr(obj, "dtype")) text += " of " + nb::cast<std::string>(nb::str(obj.attr("dtype")));
    return text;
}

Device array_device(int dlpack_device_type, const char* what) {
    switch (dlpack_device_type) {
        case nb::device::cpu::value: return Device::cpu;
        case nb::device::cuda::value:
        case nb::device::cuda_managed::value:
            if (!cuda_enabled())
                throw nb::value_error((std::string(what) + ": a CUDA array, but this lumen was built without CUDA "
                                                           "(rebuild with nvcc present)")
                                          .c_str());
            return Device::cuda;
        default:
            throw nb::value_error((std::string(what) + ": arrays on DLPack device type " +
                                   std::to_string(dlpack_device_type) + " are not supported (cpu or cuda)")
                                      .c_str());
    }
}

void require_shape(const Shape& got, const Shape& want, const char* what) {
    if (got != want)
        throw nb::value_error((std::string(what) + ": expected shape " + want.str() + ", got " + got.str()).c_str());
}
void require_device(Device got, Device want, const char* what) {
    if (got != want)
        throw nb::value_error((std::string(what) + ": the array is on " + device_name(got) + ", expected " +
                               device_name(want) + " (lumen does not move data implicitly)")
                                  .c_str());
}

Framework framework_of(nb::handle like) {
    if (!like.is_valid() || like.is_none()) return Framework::numpy;
    std::string module = nb::cast<std::string>(nb::getattr(like.type(), "__module__", nb::str("")));
    if (module.rfind("torch", 0) == 0) return Framework::pytorch;
    if (module.rfind("cupy", 0) == 0) return Framework::cupy;
    if (module.rfind("jax", 0) == 0) return Framework::jax;
    return Framework::numpy;
}

namespace {
template <class Fw, class T>
nb::object make_array(T* data, const std::vector<std::size_t>& shape, nb::handle owner, Device device) {
    const int device_type = device == Device::cuda ? nb::device::cuda::value : nb::device::cpu::value;
    nb::ndarray<Fw> array(data, shape.size(), shape.data(), owner, nullptr, Element<std::remove_const_t<T>>::dtype(),
                          device_type);
    return array.cast();
}
template <class T>
nb::object make_in(Framework fw, T* data, const std::vector<std::size_t>& shape, nb::handle owner, Device device) {
    if (device == Device::cuda && fw == Framework::numpy) fw = Framework::dlpack;
    switch (fw) {
        case Framework::pytorch: return make_array<nb::pytorch>(data, shape, owner, device);
        case Framework::cupy: return make_array<nb::cupy>(data, shape, owner, device);
        case Framework::jax: return make_array<nb::jax>(data, shape, owner, device);
        case Framework::dlpack: return make_array<nb::no_framework>(data, shape, owner, device);
        case Framework::numpy: break;
    }
    return make_array<nb::numpy>(data, shape, owner, device);
}
std::vector<std::size_t> dims_of(const Shape& s) {
    std::vector<std::size_t> d(std::size_t(s.rank()));
    for (int i = 0; i < s.rank(); ++i) d[std::size_t(i)] = std::size_t(s[i]);
    return d;
}
}  // namespace

template <class T>
nb::object give(Array<T>&& a, Framework framework) {
    if (a.empty() && a.shape().rank() == 0) return nb::none();
    auto* owned = new Array<T>(std::move(a));
    nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<Array<T>*>(p); });
    return make_in(framework, owned->data(), dims_of(owned->shape()), owner, owned->device());
}

template <class T>
nb::object borrow(const Array<T>& a, nb::handle owner) {
    if (a.empty() && a.shape().rank() == 0) return nb::none();
    return make_in(Framework::numpy, const_cast<T*>(a.data()), dims_of(a.shape()), owner, a.device());
}

template nb::object give(Array<float>&&, Framework);
template nb::object give(Array<complex64>&&, Framework);
template nb::object give(Array<index_t>&&, Framework);
template nb::object borrow(const Array<float>&, nb::handle);
template nb::object borrow(const Array<complex64>&, nb::handle);
template nb::object borrow(const Array<index_t>&, nb::handle);

Device device_arg(const std::string& name) { return parse_device(name, "device"); }

Progress::Progress(nb::object callable) {
    if (callable.is_valid() && !callable.is_none()) {
        if (!PyCallable_Check(callable.ptr()))
            throw nb::type_error(("progress: expected a callable or None, got " + describe_object(callable)).c_str());
        state_ = std::make_shared<State>();
        state_->callable = std::move(callable);
    }
}

Progress::State::~State() {
    // lumen may drop the last copy of the callback without the GIL (the reconstruction runs
    // without it): the Python references are released with the GIL held.
    nb::gil_scoped_acquire gil;
    callable.reset();
    raised = nullptr;
}

ProgressCallback Progress::callback() const {
    return wrap<bool, const ProgressInfo&>(false, [](nb::object fn, const ProgressInfo& info) {
        nb::object r = fn(info);
        return r.is_none() || nb::cast<bool>(r);
    });
}

void Progress::rethrow_if_raised() const {
    if (state_ && state_->raised) {
        auto e = state_->raised;
        state_->raised = nullptr;
        std::rethrow_exception(e);
    }
}

nb::tuple shape_tuple(const Shape& s) {
    nb::list l;
    for (int i = 0; i < s.rank(); ++i) l.append(s[i]);
    return nb::tuple(l);
}
Shape shape_arg(const std::vector<index_t>& dims) { return Shape(dims); }

void bind_common(nb::module_& m) {
    nb::class_<Quality>(m, "Quality",
                        "How close a result is to a known truth; a metric the modality does not measure is NaN.")
        .def(nb::init<>())
        .def_rw("psnr_db", &Quality::psnr_db, "10 log10(peak^2 / MSE)")
        .def_rw("peak", &Quality::peak, "the peak used for the PSNR")
        .def_rw("nrmse", &Quality::nrmse, "||x - ref|| / ||ref|| (ptychography: the object)")
        .def_rw("nmse", &Quality::nmse, "||x - ref||^2 / ||ref||^2 (fastMRI)")
        .def_rw("ssim", &Quality::ssim, "mean structural similarity over 2-D slices")
        .def_rw("nrmse_probe", &Quality::nrmse_probe, "ptychography: the probe's NRMSE")
        .def("measured", &Quality::measured, "True when at least one metric was measured.")
        .def("as_dict", [](const Quality& q) {
            nb::dict d;
            auto put = [&](const char* k, double v) {
                if (std::isfinite(v)) d[k] = v;
            };
            put("psnr_db", q.psnr_db);
            put("peak", q.peak);
            put("nrmse", q.nrmse);
            put("nmse", q.nmse);
            put("ssim", q.ssim);
            put("nrmse_probe", q.nrmse_probe);
            return d;
        }, "The measured metrics as a dict (NaN ones left out).")
        .def("__repr__", [](const Quality& q) {
            std::string s = "Quality(";
            bool first = true;
            auto put = [&](const char* k, double v) {
                if (!std::isfinite(v)) return;
                s += (first ? "" : ", ") + std::string(k) + "=" + std::to_string(v);
                first = false;
            };
            put("psnr_db", q.psnr_db);
            put("nrmse", q.nrmse);
            put("nmse", q.nmse);
            put("ssim", q.ssim);
            put("nrmse_probe", q.nrmse_probe);
            return s + ")";
        });

    nb::class_<IterationInfo>(m, "IterationInfo", "One iteration of a solver.")
        .def_ro("iteration", &IterationInfo::iteration, "1-based")
        .def_ro("objective", &IterationInfo::objective, "the quantity minimised (NaN if not computed)")
        .def_ro("residual", &IterationInfo::residual, "the solver's relative convergence measure")
        .def_ro("step", &IterationInfo::step, "the step size used")
        .def_ro("elapsed_s", &IterationInfo::elapsed_s, "seconds since the solver started")
        .def_ro("misfit", &IterationInfo::misfit, "noise-normalised data misfit (NaN when not measured)")
        .def("__repr__", [](const IterationInfo& i) {
            return "IterationInfo(iteration=" + std::to_string(i.iteration) + ", objective=" +
                   std::to_string(i.objective) + ", residual=" + std::to_string(i.residual) + ")";
        });
    nb::class_<ProgressInfo>(m, "ProgressInfo",
                             "Where a reconstruction is: the iteration just done, within a part (an MRI slice).")
        .def_ro("iteration", &ProgressInfo::iteration)
        .def_ro("part", &ProgressInfo::part, "0-based part index")
        .def_ro("parts", &ProgressInfo::parts, "number of parts")
        .def("__repr__", [](const ProgressInfo& p) {
            return "ProgressInfo(part=" + std::to_string(p.part) + "/" + std::to_string(p.parts) +
                   ", iteration=" + std::to_string(p.iteration.iteration) + ")";
        });

    m.def("cuda_enabled", &cuda_enabled, "True when this lumen was built with CUDA.");
    m.def("cuda_available", &cuda_available, "True when built with CUDA and a GPU can be used now.");
    m.def("cuda_device_description", &cuda_device_description, "The current GPU in one line, or why there is none.");
}

}  // namespace lumen::py
