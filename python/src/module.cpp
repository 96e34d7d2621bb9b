// lumen._lumen: the compiled half of the lumen package. The Python modules of the package
// (lumen/__init__.py, ct.py, mri.py, ptycho.py) add keyword-argument options and re-export this.
#include "common.hpp"
#include "lumen/core/error.hpp"
#include "lumen/version.hpp"

namespace nb = nanobind;

NB_MODULE(_lumen, m) {
    m.doc() = "lumen: GPU-accelerated imaging reconstruction (CT, MRI, ptychography)";

    // lumen::Error -> lumen.LumenError (a ValueError) or its subclass for the code, carrying lumen's
    // message, the code's name and, for invalid options, the option field.
    nb::register_exception_translator([](const std::exception_ptr& p, void*) {
        try {
            std::rethrow_exception(p);
        } catch (const lumen::Error& e) {
            nb::object make = nb::module_::import_("lumen._errors").attr("_from_lumen");
            nb::object exc = make(lumen::error_code_name(e.code()), e.what(), e.field().empty() ? nb::none() : nb::cast(e.field()));
            PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        }
    });

    m.attr("__version__") = LUMEN_VERSION;
    lumen::py::bind_common(m);
    lumen::py::bind_operators(m);
    lumen::py::bind_solvers(m);
    lumen::py::bind_ct(m);
    lumen::py::bind_mri(m);
    lumen::py::bind_ptycho(m);
}
