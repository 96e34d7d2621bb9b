// Linear operators (every lumen operator: ct.Projector, mri.SenseOperator, the ptychography
// object and probe operators, finite differences, wavelets) as Python objects usable where scipy
// expects a LinearOperator (shape, dtype, matvec, rmatvec), and the FFT plan.
#include <nanobind/stl/shared_ptr.h>

#include <chrono>

#include "common.hpp"
#include "lumen/fft.hpp"
#include "lumen/linop.hpp"
#include "lumen/metrics.hpp"
#include "lumen/solvers/regularizers.hpp"

namespace lumen::py {

namespace {

template <class T>
const char* operator_class_name();
template <> const char* operator_class_name<float>() { return "RealOperator"; }
template <> const char* operator_class_name<complex64>() { return "ComplexOperator"; }

enum class Which { forward, adjoint, normal };

// y = A x, x = A^H y or A^H A x. `out` None: a fresh array on the operator's device, given back in
// the caller's array library. `flat`: scipy's matvec, where x is (n,) or (n, 1) and y comes back
// likewise.
template <class T>
nb::object apply(const LinearOperator<T>& op, Which which, nb::handle x, nb::handle out, bool flat) {
    const Shape in_shape = which == Which::adjoint ? op.range_shape() : op.domain_shape();
    const Shape out_shape = which == Which::forward ? op.range_shape() : op.domain_shape();
    const char* in_name = which == Which::adjoint ? "y" : "x";
    View<const T> in = input<T>(x, in_name);
    const bool column = in.rank() == 2 && in.dim(1) == 1;
    if (flat) {
        if (!(in.rank() == 1 || column) || in.size() != in_shape.size())
            throw nb::value_error((std::string(in_name) + ": expected shape (" + std::to_string(in_shape.size()) +
                                   ",) or (" + std::to_string(in_shape.size()) + ", 1), got " + in.shape().str())
                                      .c_str());
        in = in.reshaped(in_shape);
    } else {
        require_shape(in.shape(), in_shape, in_name);
    }
    require_device(in.device(), op.device(), in_name);
    Array<T> fresh;
    View<T> dst;
    if (out.is_none()) {
        fresh = Array<T>(out_shape, op.device());
        dst = fresh.view();
    } else {
        dst = output<T>(out, "out");
        if (flat && dst.size() == out_shape.size()) dst = dst.reshaped(out_shape);
        require_shape(dst.shape(), out_shape, "out");
        require_device(dst.device(), op.device(), "out");
    }
    {
        nb::gil_scoped_release release;
        if (which == Which::forward) op.apply(in, dst);
        else if (which == Which::adjoint) op.apply_adjoint(in, dst);
        else op.apply_normal(in, dst);
    }
    if (!out.is_none()) return nb::borrow(out);
    if (flat) {
        fresh.reshape(column ? Shape{out_shape.size(), 1} : Shape{out_shape.size()});
    }
    return give(std::move(fresh), framework_of(x));
}

template <class T>
void bind_operator(nb::module_& m, const char* doc) {
    using Op = LinearOperator<T>;
    nb::class_<Op>(m, operator_class_name<T>(), doc)
        .def_prop_ro("domain_shape", [](const Op& op) { return shape_tuple(op.domain_shape()); },
                     "Shape of x in y = A x.")
        .def_prop_ro("range_shape", [](const Op& op) { return shape_tuple(op.range_shape()); },
                     "Shape of y in y = A x.")
        .def_prop_ro("device", [](const Op& op) { return std::string(device_name(op.device())); },
                     "'cpu' or 'cuda': where x and y must live.")
        .def_prop_ro("shape", [](const Op& op) { return nb::make_tuple(op.range_shape().size(), op.domain_shape().size()); },
                     "(m, n): the operator as a matrix on flattened arrays (scipy's LinearOperator).")
        .def_prop_ro("dtype", [](const Op&) { return nb::module_::import_("numpy").attr("dtype")(Element<T>::name); },
                     "numpy.float32 or numpy.complex64.")
        .def("apply", [](const Op& op, nb::handle x, nb::handle out) { return apply(op, Which::forward, x, out, false); },
             nb::arg("x"), nb::arg("out") = nb::none(),
             "y = A x. x has domain_shape on the operator's device; y is written into `out` when given, "
             "else returned as a new array (numpy on the host; the input's library for torch/CuPy).")
        .def("apply_adjoint", [](const Op& op, nb::handle y, nb::handle out) { return apply(op, Which::adjoint, y, out, false); },
             nb::arg("y"), nb::arg("out") = nb::none(), "x = A^H y (the exact adjoint).")
        .def("apply_normal", [](const Op& op, nb::handle x, nb::handle out) { return apply(op, Which::normal, x, out, false); },
             nb::arg("x"), nb::arg("out") = nb::none(), "A^H A x (fused where the operator has a faster form).")
        .def("matvec", [](const Op& op, nb::handle x) { return apply(op, Which::forward, x, nb::none(), true); },
             nb::arg("x"), "A x on a flattened x of shape (n,) or (n, 1) (scipy's LinearOperator).")
        .def("rmatvec", [](const Op& op, nb::handle y) { return apply(op, Which::adjoint, y, nb::none(), true); },
             nb::arg("y"), "A^H y on a flattened y of shape (m,) or (m, 1).")
        .def("__matmul__", [](const Op& op, nb::handle x) { return apply(op, Which::forward, x, nb::none(), false); },
             nb::arg("x"))
        .def("adjoint_test", [](const Op& op, std::uint64_t seed) {
            nb::gil_scoped_release release;
            return adjoint_test(op, seed);
        }, nb::arg("seed") = 1,
             "|<A x, y> - <x, A^H y>| / max(|<A x, y>|, |<x, A^H y>|) for random x, y (about 1e-6 "
             "for an exact float adjoint).")
        .def("norm", [](const Op& op, int iterations, std::uint64_t seed) {
            nb::gil_scoped_release release;
            return operator_norm(op, iterations, seed);
        }, nb::arg("iterations") = 30, nb::arg("seed") = 7,
             "Largest singular value by power iteration on A^H A.")
        .def("_time_apply", [](const Op& op, nb::handle x, nb::handle out, int repeats) {
            // For the overhead benchmark (python/bench): `repeats` applications timed inside C++,
            // the baseline for the same calls made from Python.
            View<const T> in = input<T>(x, "x");
            View<T> dst = output<T>(out, "out");
            require_shape(in.shape(), op.domain_shape(), "x");
            require_shape(dst.shape(), op.range_shape(), "out");
            nb::gil_scoped_release release;
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < repeats; ++i) op.apply(in, dst);
            synchronize(op.device());
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }, nb::arg("x"), nb::arg("out"), nb::arg("repeats"))
        .def("__repr__", [](const Op& op) {
            return std::string(operator_class_name<T>()) + "(" + op.range_shape().str() + " <- " +
                   op.domain_shape().str() + ", " + device_name(op.device()) + ")";
        });
}

}  // namespace

void bind_operators(nb::module_& m) {
    bind_operator<float>(m, "A real lumen operator (float32 arrays); see ComplexOperator.");
    bind_operator<complex64>(m, "A complex lumen operator (complex64 arrays): y = A x with its exact adjoint.");

    m.def("finite_difference", [](const std::vector<index_t>& shape, int dims, const std::string& device, bool complex) -> nb::object {
        if (complex) return nb::cast(std::const_pointer_cast<LinearOperator<complex64>>(finite_difference<complex64>(Shape(shape), dims, device_arg(device))));
        return nb::cast(std::const_pointer_cast<LinearOperator<float>>(finite_difference<float>(Shape(shape), dims, device_arg(device))));
    }, nb::arg("shape"), nb::arg("dims") = 2, nb::arg("device") = "cpu", nb::arg("complex") = false,
          "The forward finite-difference gradient over the last `dims` axes (range [dims, *shape]).");
    m.def("wavelet2d", [](const std::vector<index_t>& shape, int levels, const std::string& device, bool complex) -> nb::object {
        if (complex) return nb::cast(std::const_pointer_cast<LinearOperator<complex64>>(wavelet2d<complex64>(Shape(shape), levels, device_arg(device))));
        return nb::cast(std::const_pointer_cast<LinearOperator<float>>(wavelet2d<float>(Shape(shape), levels, device_arg(device))));
    }, nb::arg("shape"), nb::arg("levels") = 4, nb::arg("device") = "cpu", nb::arg("complex") = true,
          "The orthogonal 2-D Daubechies-4 wavelet transform over the last two axes.");

    nb::class_<FftPlan>(m, "FftPlan",
                        "Batched unitary complex FFTs over the last 1 to 3 axes (FFTW on the CPU, cuFFT on the "
                        "GPU), transforms in place. As an operator (matvec/rmatvec, shape, dtype) it is the "
                        "forward transform with the inverse as its adjoint.")
        .def("__init__", [](FftPlan* self, const std::vector<index_t>& shape, int rank, const std::string& device) {
            new (self) FftPlan(FftPlan::for_shape(Shape(shape), rank, device_arg(device)));
        }, nb::arg("shape"), nb::arg("rank") = 2, nb::arg("device") = "cpu",
             "A plan for complex64 arrays of `shape`, transforming the last `rank` axes.")
        .def_prop_ro("dims", &FftPlan::dims)
        .def_prop_ro("batch", &FftPlan::batch)
        .def_prop_ro("device", [](const FftPlan& p) { return std::string(device_name(p.device())); })
        .def_prop_ro("shape", [](const FftPlan& p) {
            index_t n = p.batch();
            for (index_t d : p.dims()) n *= d;
            return nb::make_tuple(n, n);
        })
        .def_prop_ro("dtype", [](const FftPlan&) { return nb::module_::import_("numpy").attr("dtype")("complex64"); })
        .def("forward", [](const FftPlan& p, nb::handle data, bool centered) {
            View<complex64> v = output<complex64>(data, "data");
            require_device(v.device(), p.device(), "data");
            nb::gil_scoped_release release;
            p.execute(v, FftDirection::forward, centered);
        }, nb::arg("data"), nb::arg("centered") = false,
             "In place: data <- F data (unitary; centered: fftshift(F(ifftshift(data)))).")
        .def("inverse", [](const FftPlan& p, nb::handle data, bool centered) {
            View<complex64> v = output<complex64>(data, "data");
            require_device(v.device(), p.device(), "data");
            nb::gil_scoped_release release;
            p.execute(v, FftDirection::inverse, centered);
        }, nb::arg("data"), nb::arg("centered") = false, "In place: data <- F^H data.")
        .def("matvec", [](const FftPlan& p, nb::handle x) {
            View<const complex64> v = input<complex64>(x, "x");
            Array<complex64> y = Array<complex64>::copy_of(v, p.device());
            {
                nb::gil_scoped_release release;
                p.forward(y.view());
            }
            return give(std::move(y), framework_of(x));
        }, nb::arg("x"), "F x into a new array (x is not modified).")
        .def("rmatvec", [](const FftPlan& p, nb::handle x) {
            View<const complex64> v = input<complex64>(x, "x");
            Array<complex64> y = Array<complex64>::copy_of(v, p.device());
            {
                nb::gil_scoped_release release;
                p.inverse(y.view());
            }
            return give(std::move(y), framework_of(x));
        }, nb::arg("x"), "F^H x into a new array.");

    // Metrics (lumen/metrics.hpp).
    m.def("nrmse", [](nb::handle ref, nb::handle est) { return nrmse(input<float>(ref, "ref"), input<float>(est, "est")); },
          nb::arg("ref"), nb::arg("est"), "||est - ref|| / ||ref||");
    m.def("nrmse_complex", [](nb::handle ref, nb::handle est, bool remove_phase, bool remove_scale, nb::handle weights) {
        return nrmse_complex(input<complex64>(ref, "ref"), input<complex64>(est, "est"), remove_phase, remove_scale,
                             optional_input<float>(weights, "weights"));
    }, nb::arg("ref"), nb::arg("est"), nb::arg("remove_phase") = true, nb::arg("remove_scale") = false,
          nb::arg("weights") = nb::none(), "NRMSE of complex images after removing the global phase (or complex scale).");
    m.def("nmse", [](nb::handle ref, nb::handle est) { return nmse(input<float>(ref, "ref"), input<float>(est, "est")); },
          nb::arg("ref"), nb::arg("est"), "fastMRI's NMSE ||ref - est||^2 / ||ref||^2");
    m.def("psnr", [](nb::handle ref, nb::handle est, double peak) { return psnr(input<float>(ref, "ref"), input<float>(est, "est"), peak); },
          nb::arg("ref"), nb::arg("est"), nb::arg("peak") = 0.0, "10 log10(peak^2 / MSE); peak <= 0: max(ref).");
    m.def("ssim", [](nb::handle ref, nb::handle est, double range) { return ssim(input<float>(ref, "ref"), input<float>(est, "est"), range); },
          nb::arg("ref"), nb::arg("est"), nb::arg("data_range") = 0.0,
          "Mean SSIM of 2-D images (scikit-image's and fastMRI's definition).");
    m.def("ssim_stack", [](nb::handle ref, nb::handle est, double range) { return ssim_stack(input<float>(ref, "ref"), input<float>(est, "est"), range); },
          nb::arg("ref"), nb::arg("est"), nb::arg("data_range") = 0.0, "Mean of per-slice SSIMs of [n, ny, nx] stacks.");
}

}  // namespace lumen::py
