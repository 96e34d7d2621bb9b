// The shared solvers (lumen/solvers/solvers.hpp) on lumen operators. x is updated in place: it
// holds the start on entry and the estimate on return (a numpy array, a torch tensor or a CuPy
// array on the operator's device, viewed without a copy).
#include "common.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"

namespace lumen::py {

namespace {

// Solver options from keyword arguments, with a Python callback per iteration.
struct SolverCall {
    SolverOptions options;
    Progress progress;
    SolverCall(int max_iterations, double tolerance, nb::object callback) : progress(std::move(callback)) {
        options.max_iterations = max_iterations;
        options.tolerance = tolerance;
        options.callback = progress.wrap<bool, const IterationInfo&>(false, [](nb::object fn, const IterationInfo& info) {
            nb::object r = fn(info);
            return r.is_none() || nb::cast<bool>(r);
        });
    }
};

template <class T>
struct Problem {
    View<const T> b;
    View<T> x;
    Problem(const LinearOperator<T>& A, nb::handle b_obj, nb::handle x_obj, bool b_in_range = true) {
        b = input<T>(b_obj, "b");
        x = output<T>(x_obj, "x");
        require_shape(b.shape(), b_in_range ? A.range_shape() : A.domain_shape(), "b");
        require_shape(x.shape(), A.domain_shape(), "x");
        require_device(b.device(), A.device(), "b");
        require_device(x.device(), A.device(), "x");
    }
};

template <class T>
void bind_typed(nb::module_& m) {
    using Op = LinearOperator<T>;
    m.def("cg_normal", [](const Op& A, nb::handle b, nb::handle x, double lambda, int max_iterations, double tolerance, nb::object callback) {
        Problem<T> p(A, b, x);
        SolverCall call(max_iterations, tolerance, std::move(callback));
        SolverResult r;
        {
            nb::gil_scoped_release release;
            r = cg_normal(A, p.b, p.x, lambda, call.options);
        }
        call.progress.rethrow_if_raised();
        return r;
    }, nb::arg("A"), nb::arg("b"), nb::arg("x"), nb::arg("lam") = 0.0, nb::arg("max_iterations") = 50,
          nb::arg("tolerance") = 0.0, nb::arg("callback") = nb::none(),
          "Conjugate gradients on (A^H A + lam I) x = A^H b; x in place.");
    m.def("cg", [](const Op& M, nb::handle rhs, nb::handle x, int max_iterations, double tolerance, nb::object callback) {
        Problem<T> p(M, rhs, x, false);
        SolverCall call(max_iterations, tolerance, std::move(callback));
        SolverResult r;
        {
            nb::gil_scoped_release release;
            r = cg(M, p.b, p.x, call.options);
        }
        call.progress.rethrow_if_raised();
        return r;
    }, nb::arg("M"), nb::arg("rhs"), nb::arg("x"), nb::arg("max_iterations") = 50, nb::arg("tolerance") = 0.0,
          nb::arg("callback") = nb::none(), "Conjugate gradients for M x = rhs, M self-adjoint positive; x in place.");
    m.def("cgls", [](const Op& A, nb::handle b, nb::handle x, double damp, int max_iterations, double tolerance, nb::object callback) {
        Problem<T> p(A, b, x);
        SolverCall call(max_iterations, tolerance, std::move(callback));
        SolverResult r;
        {
            nb::gil_scoped_release release;
            r = cgls(A, p.b, p.x, damp, call.options);
        }
        call.progress.rethrow_if_raised();
        return r;
    }, nb::arg("A"), nb::arg("b"), nb::arg("x"), nb::arg("damp") = 0.0, nb::arg("max_iterations") = 50,
          nb::arg("tolerance") = 0.0, nb::arg("callback") = nb::none(),
          "CGLS: min ||A x - b||^2 + damp ||x||^2; x in place.");
    m.def("fista_l1", [](const Op& A, nb::handle b, nb::handle x, double lam, double step, bool restart, int max_iterations, double tolerance, nb::object callback) {
        Problem<T> p(A, b, x);
        SolverCall call(max_iterations, tolerance, std::move(callback));
        FistaOptions f;
        f.step = step;
        f.restart = restart;
        ProxFn<T> prox = [lam](View<T> v, double s) { soft_threshold(v, lam * s); };
        RegValueFn<T> value = [lam](View<const T> v) { return lam * l1_norm(v); };
        SolverResult r;
        {
            nb::gil_scoped_release release;
            r = fista(A, p.b, p.x, prox, value, f, call.options);
        }
        call.progress.rethrow_if_raised();
        return r;
    }, nb::arg("A"), nb::arg("b"), nb::arg("x"), nb::arg("lam"), nb::arg("step") = 0.0, nb::arg("restart") = true,
          nb::arg("max_iterations") = 50, nb::arg("tolerance") = 0.0, nb::arg("callback") = nb::none(),
          "FISTA for min 0.5 ||A x - b||^2 + lam ||x||_1 (step <= 0: 1 / (1.02 ||A||^2)); x in place.");
    m.def("admm_tv", [](const Op& A, nb::handle b, nb::handle x, double lam, double rho, int dims, bool isotropic, int inner, bool nonnegative, int max_iterations, double tolerance, nb::object callback) {
        Problem<T> p(A, b, x);
        SolverCall call(max_iterations, tolerance, std::move(callback));
        AdmmTvOptions a;
        a.lambda = lam;
        a.rho = rho;
        a.dims = dims;
        a.isotropic = isotropic;
        a.inner_cg_iterations = inner;
        a.nonnegative = nonnegative;
        SolverResult r;
        {
            nb::gil_scoped_release release;
            r = admm_tv(A, p.b, p.x, a, call.options);
        }
        call.progress.rethrow_if_raised();
        return r;
    }, nb::arg("A"), nb::arg("b"), nb::arg("x"), nb::arg("lam"), nb::arg("rho") = 0.0, nb::arg("dims") = 2,
          nb::arg("isotropic") = true, nb::arg("inner_cg_iterations") = 5, nb::arg("nonnegative") = false,
          nb::arg("max_iterations") = 50, nb::arg("tolerance") = 0.0, nb::arg("callback") = nb::none(),
          "ADMM for min 0.5 ||A x - b||^2 + lam TV(x) over the last `dims` axes; x in place.");
}

}  // namespace

void bind_solvers(nb::module_& m) {
    nb::class_<SolverResult>(m, "SolverResult", "What a solver did: iterations, why it stopped, its history.")
        .def_ro("iterations", &SolverResult::iterations)
        .def_ro("converged", &SolverResult::converged, "stopped on tolerance")
        .def_ro("stop_reason", &SolverResult::stop_reason,
                "'max_iterations', 'tolerance', 'discrepancy' or 'callback'")
        .def_ro("discrepancy_tau", &SolverResult::discrepancy_tau)
        .def_ro("history", &SolverResult::history, "one IterationInfo per iteration")
        .def_ro("elapsed_s", &SolverResult::elapsed_s)
        .def("__repr__", [](const SolverResult& r) {
            return "SolverResult(iterations=" + std::to_string(r.iterations) + ", stop_reason='" + r.stop_reason + "')";
        });
    bind_typed<float>(m);
    bind_typed<complex64>(m);
    m.def("sirt", [](const LinearOperator<float>& A, nb::handle b, nb::handle x, double relaxation, float lower, float upper, int max_iterations, double tolerance, nb::object callback) {
        Problem<float> p(A, b, x);
        SolverCall call(max_iterations, tolerance, std::move(callback));
        SirtOptions s;
        s.relaxation = relaxation;
        s.lower = lower;
        s.upper = upper;
        SolverResult r;
        {
            nb::gil_scoped_release release;
            r = sirt(A, p.b, p.x, s, call.options);
        }
        call.progress.rethrow_if_raised();
        return r;
    }, nb::arg("A"), nb::arg("b"), nb::arg("x"), nb::arg("relaxation") = 1.0, nb::arg("lower") = 0.0f,
          nb::arg("upper") = 3.0e38f, nb::arg("max_iterations") = 50, nb::arg("tolerance") = 0.0,
          nb::arg("callback") = nb::none(), "SIRT with the box [lower, upper] (non-negativity by default); x in place.");
}

}  // namespace lumen::py
