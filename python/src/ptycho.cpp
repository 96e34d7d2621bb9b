// lumen.ptycho: ptychography (lumen/ptycho/*.hpp).
#include <nanobind/stl/shared_ptr.h>

#include "common.hpp"
#include "lumen/ptycho/io.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/ptycho.hpp"

namespace lumen::py {

namespace {
const char* pattern_name(ptycho::ScanPattern p) { return p == ptycho::ScanPattern::raster ? "raster" : "spiral"; }

// out: None -> a fresh array of `shape` on `device`; else the caller's array, checked.
template <class T>
struct Destination {
    Array<T> fresh;
    View<T> view;
    nb::handle out;
    Destination(nb::handle out_obj, const Shape& shape, Device device) : out(out_obj) {
        if (out.is_none()) {
            fresh = Array<T>(shape, device);
            view = fresh.view();
        } else {
            view = output<T>(out, "out");
            require_shape(view.shape(), shape, "out");
            require_device(view.device(), device, "out");
        }
    }
    nb::object result(nb::handle like) { return out.is_none() ? give(std::move(fresh), framework_of(like)) : nb::borrow(out); }
};
template <class T>
View<const T> checked(nb::handle obj, const char* what, const Shape& shape, Device device) {
    View<const T> v = input<T>(obj, what);
    require_shape(v.shape(), shape, what);
    require_device(v.device(), device, what);
    return v;
}
}  // namespace

void bind_ptycho(nb::module_& top) {
    nb::module_ m = top.def_submodule("ptycho", "Ptychography (lumen/ptycho).");
    using namespace lumen::ptycho;

    nb::class_<ModelOptions>(m, "ModelOptions", "Batching, sub-pixel shifts and near-field propagation of the model.")
        .def(nb::init<>())
        .def_rw("batch", &ModelOptions::batch).def_rw("subpixel", &ModelOptions::subpixel)
        .def_rw("fresnel_y", &ModelOptions::fresnel_y).def_rw("fresnel_x", &ModelOptions::fresnel_x);

    nb::class_<Model>(m, "Model",
                      "The ptychographic forward model: far field Psi_j = F(P_j . S_j O) for J positions, its "
                      "adjoints in the object and in the probe, the losses and their gradients. Far fields are in "
                      "FFT order; measured intensities in detector order (docs/ptychography.md).")
        .def("__init__", [](Model* self, const std::vector<index_t>& object_shape, const std::vector<index_t>& probe_shape, nb::handle positions, const std::string& device, const ModelOptions& o) {
            new (self) Model(Shape(object_shape), Shape(probe_shape), input<float>(positions, "positions"), device_arg(device), o);
        }, nb::arg("object_shape"), nb::arg("probe_shape"), nb::arg("positions"), nb::arg("device") = "cpu",
             nb::arg("options") = ModelOptions(), "positions [J, 2] (row, column) window corners in object pixels.")
        .def_prop_ro("object_shape", [](const Model& md) { return shape_tuple(md.object_shape()); })
        .def_prop_ro("probe_shape", [](const Model& md) { return shape_tuple(md.probe_shape()); })
        .def_prop_ro("data_shape", [](const Model& md) { return shape_tuple(md.data_shape()); })
        .def_prop_ro("positions", &Model::positions)
        .def_prop_ro("device", [](const Model& md) { return std::string(device_name(md.device())); })
        .def("set_probe", [](Model& md, nb::handle probe) {
            View<const complex64> v = input<complex64>(probe, "probe");
            require_shape(v.shape(), md.probe_shape(), "probe");
            md.set_probe(v);
        }, nb::arg("probe"), "Sets the probe [my, mx] (copied) and its shifted copies.")
        .def("probe", [](nb::handle self) {
            const Model& md = nb::cast<const Model&>(self);
            return give(Array<complex64>::copy_of(md.probe(), Device::cpu));
        }, "A host copy of the current probe.")
        .def("far_field", [](const Model& md, nb::handle object, nb::handle out) {
            View<const complex64> o = checked<complex64>(object, "object", md.object_shape(), md.device());
            Destination<complex64> d(out, md.data_shape(), md.device());
            {
                nb::gil_scoped_release release;
                md.far_field(o, d.view);
            }
            return d.result(object);
        }, nb::arg("object"), nb::arg("out") = nb::none(), "Psi = A O [J, my, mx] for the current probe.")
        .def("adjoint_object", [](const Model& md, nb::handle g, nb::handle out) {
            View<const complex64> v = checked<complex64>(g, "g", md.data_shape(), md.device());
            Destination<complex64> d(out, md.object_shape(), md.device());
            {
                nb::gil_scoped_release release;
                md.adjoint_object(v, d.view);
            }
            return d.result(g);
        }, nb::arg("g"), nb::arg("out") = nb::none(), "A^H g = sum_j S_j^T conj(P_j) F^H g_j [H, W].")
        .def("far_field_of_probe", [](const Model& md, nb::handle probe, nb::handle object, nb::handle out) {
            View<const complex64> p = checked<complex64>(probe, "probe", md.probe_shape(), md.device());
            View<const complex64> o = checked<complex64>(object, "object", md.object_shape(), md.device());
            Destination<complex64> d(out, md.data_shape(), md.device());
            {
                nb::gil_scoped_release release;
                md.far_field_of_probe(p, o, d.view);
            }
            return d.result(probe);
        }, nb::arg("probe"), nb::arg("object"), nb::arg("out") = nb::none(), "B P = F(T_j P . S_j O) for a fixed object.")
        .def("adjoint_probe", [](const Model& md, nb::handle g, nb::handle object, nb::handle out) {
            View<const complex64> v = checked<complex64>(g, "g", md.data_shape(), md.device());
            View<const complex64> o = checked<complex64>(object, "object", md.object_shape(), md.device());
            Destination<complex64> d(out, md.probe_shape(), md.device());
            {
                nb::gil_scoped_release release;
                md.adjoint_probe(v, o, d.view);
            }
            return d.result(g);
        }, nb::arg("g"), nb::arg("object"), nb::arg("out") = nb::none(), "B^H g = sum_j T_j^H (conj(S_j O) F^H g_j).")
        .def("intensities", [](const Model& md, nb::handle object, nb::handle out) {
            View<const complex64> o = checked<complex64>(object, "object", md.object_shape(), md.device());
            Destination<float> d(out, md.data_shape(), md.device());
            {
                nb::gil_scoped_release release;
                md.intensities(o, d.view);
            }
            return d.result(object);
        }, nb::arg("object"), nb::arg("out") = nb::none(), "|Psi|^2 in detector order [J, my, mx].")
        .def("illumination", [](const Model& md) { return give(md.illumination().to(Device::cpu)); })
        .def("set_data", [](Model& md, nb::handle intensities, nb::handle mask) {
            md.set_data(input<float>(intensities, "intensities"), optional_input<float>(mask, "mask"));
        }, nb::arg("intensities"), nb::arg("mask") = nb::none(), "The measurements [J, my, mx] in detector order.")
        .def("loss", [](const Model& md, const std::string& loss, nb::handle object, nb::handle grad_object, nb::handle grad_probe) {
            View<const complex64> o = checked<complex64>(object, "object", md.object_shape(), md.device());
            View<complex64> go = grad_object.is_none() ? View<complex64>() : output<complex64>(grad_object, "grad_object");
            View<complex64> gp = grad_probe.is_none() ? View<complex64>() : output<complex64>(grad_probe, "grad_probe");
            if (!go.empty()) require_shape(go.shape(), md.object_shape(), "grad_object");
            if (!gp.empty()) require_shape(gp.shape(), md.probe_shape(), "grad_probe");
            Loss l = parse_loss(loss);
            nb::gil_scoped_release release;
            return md.loss(l, o, go, gp);
        }, nb::arg("loss"), nb::arg("object"), nb::arg("grad_object") = nb::none(), nb::arg("grad_probe") = nb::none(),
             "The loss ('amplitude', 'intensity', 'poisson') and its gradients (2 df/d conj) into the given arrays.");

    m.def("object_operator", [](nb::handle model) {
        return std::const_pointer_cast<LinearOperator<complex64>>(object_operator(nb::cast<const Model&>(model)));
    }, nb::arg("model"), nb::keep_alive<0, 1>(), "O -> A O for the model's current probe, as a ComplexOperator.");
    m.def("probe_operator", [](nb::handle model, nb::handle object) {
        const Model& md = nb::cast<const Model&>(model);
        return std::const_pointer_cast<LinearOperator<complex64>>(
            probe_operator(md, checked<complex64>(object, "object", md.object_shape(), md.device())));
    }, nb::arg("model"), nb::arg("object"), nb::keep_alive<0, 1>(), "P -> B P for a fixed object, as a ComplexOperator.");
    m.def("object_shape_for", [](nb::handle positions, const std::vector<index_t>& probe_shape) {
        return shape_tuple(object_shape_for(input<float>(positions, "positions"), Shape(probe_shape)));
    }, nb::arg("positions"), nb::arg("probe_shape"));

    nb::class_<Geometry>(m, "Geometry", "Far-field geometry: photon energy (J), distance and detector pixel sizes (m).")
        .def(nb::init<>())
        .def_rw("energy_j", &Geometry::energy_j).def_rw("distance_m", &Geometry::distance_m)
        .def_rw("pixel_x_m", &Geometry::pixel_x_m).def_rw("pixel_y_m", &Geometry::pixel_y_m)
        .def("wavelength_m", &Geometry::wavelength_m)
        .def_static("joules_from_kev", &Geometry::joules_from_kev);

    nb::class_<Scan> scan(m, "Scan", "A ptychographic scan in memory (intensities, positions, probe, geometry, truth).");
    scan.def(nb::init<>())
        .def_rw("geometry", &Scan::geometry).def_rw("near_field", &Scan::near_field)
        .def_prop_rw("object_shape", [](const Scan& s) { return shape_tuple(s.object_shape); },
                     [](Scan& s, const std::vector<index_t>& d) { s.object_shape = Shape(d); }, nb::arg("value"))
        .def_prop_ro("n_positions", &Scan::n_positions)
        .def("has_truth", &Scan::has_truth)
        .def("model_options", &Scan::model_options, nb::arg("batch") = 0, nb::arg("subpixel") = true,
             "The model's options for this scan (far field, or its near-field coefficients).");
    array_property(scan, "intensities", &Scan::intensities, "[J, ny, nx] photons, detector order");
    array_property(scan, "positions", &Scan::positions, "[J, 2] (row, column) object pixels");
    array_property(scan, "mask", &Scan::mask, "[ny, nx] 1 = measured; None: all");
    array_property(scan, "probe", &Scan::probe, "[ny, nx] initial probe; None: estimated from the data");
    array_property(scan, "true_object", &Scan::true_object, "[H, W] or None");
    array_property(scan, "true_probe", &Scan::true_probe, "[ny, nx] or None");
    array_property(scan, "true_positions", &Scan::true_positions, "[J, 2] or None");
    array_property(scan, "true_slices", &Scan::true_slices, "[N, H, W] of a simulated multi-slice object, or None");
    scan.def_rw("slice_distance_m", &Scan::slice_distance_m);

    nb::class_<SimulationOptions> sim(m, "SimulationOptions", "Options of ptycho.simulate (lumen/ptycho/simulate.hpp).");
    sim.def(nb::init<>())
        .def_rw("frame", &SimulationOptions::frame).def_rw("positions", &SimulationOptions::positions)
        .def_rw("beam_diameter", &SimulationOptions::beam_diameter).def_rw("overlap", &SimulationOptions::overlap)
        .def_rw("jitter", &SimulationOptions::jitter).def_rw("photons", &SimulationOptions::photons)
        .def_rw("poisson", &SimulationOptions::poisson).def_rw("position_error", &SimulationOptions::position_error)
        .def_rw("integer_positions", &SimulationOptions::integer_positions)
        .def_rw("phase_range", &SimulationOptions::phase_range).def_rw("min_amplitude", &SimulationOptions::min_amplitude)
        .def_rw("energy_kev", &SimulationOptions::energy_kev).def_rw("distance_m", &SimulationOptions::distance_m)
        .def_rw("detector_pixel_m", &SimulationOptions::detector_pixel_m).def_rw("store_probe", &SimulationOptions::store_probe)
        .def_rw("near_field", &SimulationOptions::near_field).def_rw("seed", &SimulationOptions::seed)
        .def_rw("slices", &SimulationOptions::slices, "a thick object of this many slices")
        .def_rw("slice_distance_m", &SimulationOptions::slice_distance_m)
        .def("validate", &SimulationOptions::validate);
    enum_property(sim, "scan", &SimulationOptions::scan, parse_scan_pattern, pattern_name, "'raster' or 'spiral'");
    m.def("_simulate", [](const SimulationOptions& o, const std::string& device) {
        Device d = device_arg(device);
        nb::gil_scoped_release release;
        return simulate(o, d);
    }, nb::arg("options"), nb::arg("device") = "cpu");

    nb::class_<ReconOptions> options(m, "ReconOptions", "Options of ptycho.reconstruct (lumen/ptycho/recon.hpp); see docs/ptychography.md.");
    options.def(nb::init<>())
        .def_rw("iterations", &ReconOptions::iterations).def_rw("refine_probe", &ReconOptions::refine_probe)
        .def_rw("orientation", &ReconOptions::orientation).def_rw("check_orientation", &ReconOptions::check_orientation)
        .def_rw("probe_delay", &ReconOptions::probe_delay).def_rw("restart", &ReconOptions::restart)
        .def_rw("alpha", &ReconOptions::alpha).def_rw("beta", &ReconOptions::beta)
        .def_rw("subpixel", &ReconOptions::subpixel).def_rw("batch", &ReconOptions::batch)
        .def_rw("seed", &ReconOptions::seed)
        .def_rw("modes", &ReconOptions::modes, "incoherent probe modes (mixed states; AWF / WF)")
        .def_rw("refine_positions", &ReconOptions::refine_positions, "refine the scan positions (AWF / WF)")
        .def_rw("position_delay", &ReconOptions::position_delay, "iterations before positions move")
        .def_rw("position_search", &ReconOptions::position_search,
                "the whole-pixel position search before the gradient steps (with refine_positions)")
        .def_rw("discrepancy_tau", &ReconOptions::discrepancy_tau, "the discrepancy rule's tau (0: the method's default)")
        .def_rw("slices", &ReconOptions::slices, "multi-slice object: the number of slices (AWF / WF)")
        .def_rw("slice_distance", &ReconOptions::slice_distance, "metres between slices (0: the scan's)")
        .def("validate", &ReconOptions::validate);
    enum_property(options, "stop", &ReconOptions::stop, parse_stop, stop_name, "'discrepancy' or 'iterations'");
    enum_property(options, "method", &ReconOptions::method, parse_method, method_name, "'awf', 'wf', 'epie' or 'rpie'");
    enum_property(options, "loss", &ReconOptions::loss, parse_loss, loss_name, "'amplitude', 'intensity' or 'poisson'");
    options.def_prop_rw("device", [](const ReconOptions& c) { return std::string(device_name(c.device)); },
                        [](ReconOptions& c, const std::string& d) { c.device = device_arg(d); }, nb::arg("value"));

    nb::class_<StepSizes>(m, "StepSizes")
        .def_ro("object", &StepSizes::object).def_ro("probe", &StepSizes::probe)
        .def_ro("lipschitz_object", &StepSizes::lipschitz_object).def_ro("lipschitz_probe", &StepSizes::lipschitz_probe)
        .def_ro("curvature", &StepSizes::curvature).def_ro("lipschitz_slices", &StepSizes::lipschitz_slices);
    nb::class_<Model::Residual>(m, "Residual", "The fit against the data: ratio() about 1 at the Poisson noise level.")
        .def_ro("squared", &Model::Residual::squared).def_ro("expected", &Model::Residual::expected)
        .def_ro("pixels", &Model::Residual::pixels).def("ratio", &Model::Residual::ratio);
    nb::class_<ReconInfo> info(m, "ReconInfo", "What a reconstruction did (Reconstructor.reconstruct; ReconResult adds the arrays).");
    info.def_ro("solver", &ReconInfo::solver).def_ro("steps", &ReconInfo::steps)
        .def_ro("refined_probe", &ReconInfo::refined_probe).def_ro("probe_from_data", &ReconInfo::probe_from_data)
        .def_ro("residual", &ReconInfo::residual).def_ro("quality", &ReconInfo::quality)
        .def_ro("mode_fractions", &ReconInfo::mode_fractions, "each probe mode's fraction of the power (modes > 1)")
        .def_ro("refined_positions", &ReconInfo::refined_positions)
        .def_ro("position_error", &ReconInfo::position_error, "rms px against the simulation's true positions (NaN: none)")
        .def_ro("recorded_position_error", &ReconInfo::recorded_position_error)
        .def_ro("stopping", &ReconInfo::stopping, "'discrepancy', 'iterations' or 'cap' (the data are not photon counts)")
        .def_ro("stopping_note", &ReconInfo::stopping_note)
        .def_ro("kept_iteration", &ReconInfo::kept_iteration, "stop_reason 'diverged': the iteration returned")
        .def_ro("slice_distance", &ReconInfo::slice_distance, "multi-slice: metres between the slices (0: one slice)");
    info.def_prop_ro("positions", [](nb::handle s) { return borrow(nb::cast<ReconInfo&>(s).positions, s); },
                     "[J, 2] float32: the positions used (refined ones when refined)");
    info.def_prop_ro("probe_modes", [](nb::handle s) { return borrow(nb::cast<ReconInfo&>(s).probe_modes, s); },
                     "[K, my, mx] complex64 by descending power (None for one mode)");
    info.def_prop_ro("slices", [](nb::handle s) { return borrow(nb::cast<ReconInfo&>(s).slices, s); },
                     "[N, H, W] complex64: the slices of a multi-slice object (None for one slice; object is their product)");
    nb::class_<ReconResult, ReconInfo> result(m, "ReconResult", "A ptychographic reconstruction: object, probe and what the solver did.");
    result.def_prop_ro("object", [](nb::handle s) { return borrow(nb::cast<ReconResult&>(s).object, s); }, "[H, W] complex64");
    result.def_prop_ro("probe", [](nb::handle s) { return borrow(nb::cast<ReconResult&>(s).probe, s); }, "[my, mx] complex64");
    result.def_prop_ro("illumination", [](nb::handle s) { return borrow(nb::cast<ReconResult&>(s).illumination, s); }, "[H, W] float32");

    nb::class_<Reconstructor>(m, "Reconstructor",
                              "Reconstructions of one scan layout, call after call, keeping the model, its FFT plans "
                              "and device buffers (lumen::ptycho::Reconstructor).")
        .def("reconstruct", [](Reconstructor& r, nb::handle intensities, nb::handle mask, nb::handle probe,
                               nb::handle object_out, nb::handle probe_out) {
            View<const float> in = input<float>(intensities, "intensities");
            View<const float> msk = optional_input<float>(mask, "mask");
            View<const complex64> p0 = optional_input<complex64>(probe, "probe");
            // Outputs: the caller's arrays (written in place), else fresh ones on the options' device.
            Array<complex64> fresh_object, fresh_probe;
            View<complex64> ov, pv;
            const Device dev = r.options().device;
            if (object_out.is_none()) {
                fresh_object = Array<complex64>(r.object_shape(), dev);
                ov = fresh_object.view();
            } else {
                ov = output<complex64>(object_out, "object_out");
            }
            if (probe_out.is_none()) {
                fresh_probe = Array<complex64>(r.probe_shape(), dev);
                pv = fresh_probe.view();
            } else {
                pv = output<complex64>(probe_out, "probe_out");
            }
            ReconInfo info;
            {
                nb::gil_scoped_release release;
                info = r.reconstruct(in, msk, p0, ov, pv);
            }
            const Framework f = framework_of(intensities);
            nb::object o = object_out.is_none() ? give(std::move(fresh_object), f) : nb::borrow(object_out);
            nb::object pr = probe_out.is_none() ? give(std::move(fresh_probe), f) : nb::borrow(probe_out);
            return nb::make_tuple(o, pr, std::move(info));
        }, nb::arg("intensities"), nb::arg("mask") = nb::none(), nb::arg("probe") = nb::none(),
             nb::arg("object_out") = nb::none(), nb::arg("probe_out") = nb::none(),
             "One scan on this layout: intensities [J, ny, nx] float32, mask [ny, nx] (None: all measured), probe "
             "[ny, nx] complex64 (None: estimated from the data). Returns (object, probe, info); object_out / "
             "probe_out are written in place when given.")
        .def("compare_with_truth", [](Reconstructor& r, nb::handle object, nb::handle probe, bool refined,
                                      nb::handle true_object, nb::handle true_probe) {
            return r.compare_with_truth(input<complex64>(object, "object"), input<complex64>(probe, "probe"), refined,
                                        input<complex64>(true_object, "true_object"),
                                        optional_input<complex64>(true_probe, "true_probe"));
        }, nb::arg("object"), nb::arg("probe"), nb::arg("refined_probe"), nb::arg("true_object"),
             nb::arg("true_probe") = nb::none())
        .def_prop_ro("object_shape", [](const Reconstructor& r) { return shape_tuple(r.object_shape()); })
        .def_prop_ro("probe_shape", [](const Reconstructor& r) { return shape_tuple(r.probe_shape()); })
        .def_prop_ro("positions", [](nb::handle self) {
            const View<const float> v = nb::cast<Reconstructor&>(self).positions();
            return give(Array<float>::copy_of(v, Device::cpu));
        }, "[J, 2] float32: the positions used (after the orientation)")
        .def_prop_ro("options", &Reconstructor::options);
    m.def("_reconstructor", [](const Scan& s, ReconOptions o, nb::object progress) {
        // The callable stays with the reconstructor (as mri.SliceReconstructor's does).
        Progress p(std::move(progress));
        o.progress = p.callback();
        return Reconstructor(s, o);
    }, nb::arg("scan"), nb::arg("options"), nb::arg("progress") = nb::none());

    m.def("_reconstruct", [](const Scan& s, ReconOptions o, nb::object progress) {
        Progress p(std::move(progress));
        o.progress = p.callback();
        ReconResult r;
        {
            nb::gil_scoped_release release;
            r = reconstruct(s, o);
        }
        p.rethrow_if_raised();
        return r;
    }, nb::arg("scan"), nb::arg("options"), nb::arg("progress") = nb::none());
    m.def("probe_from_data", [](nb::handle intensities, nb::handle mask) {
        return give(probe_from_data(input<float>(intensities, "intensities"), optional_input<float>(mask, "mask")));
    }, nb::arg("intensities"), nb::arg("mask") = nb::none(), "A probe estimate from the mean diffraction pattern.");

    m.def("illuminated_region", [](nb::handle illumination, double fraction) {
        return give(illuminated_region(input<float>(illumination, "illumination"), fraction));
    }, nb::arg("illumination"), nb::arg("fraction") = 0.1);
    m.def("object_nrmse", [](nb::handle truth, nb::handle estimate, nb::handle region, bool blind) {
        return object_nrmse(input<complex64>(truth, "truth"), input<complex64>(estimate, "estimate"),
                            optional_input<float>(region, "region"), blind);
    }, nb::arg("truth"), nb::arg("estimate"), nb::arg("region") = nb::none(), nb::arg("blind") = false,
          "NRMSE after removing the ambiguities of (blind) ptychography.");

    // Files.
    m.def("read_cxi", [](const std::string& path, const std::string& propagation) {
        Propagation p = parse_propagation(propagation);
        nb::gil_scoped_release release;
        return read_cxi(path, p);
    }, nb::arg("path"), nb::arg("propagation") = "file", "Reads a CXI scan ('file', 'far' or 'near' propagation).");
    m.def("write_cxi", [](const std::string& path, const Scan& s) {
        nb::gil_scoped_release release;
        write_cxi(path, s);
    }, nb::arg("path"), nb::arg("scan"), "Writes a scan as CXI (atomic).");
    m.def("write_result", [](const std::string& path, const ReconResult& r, const ReconOptions& o) {
        nb::gil_scoped_release release;
        write_result(path, r, o);
    }, nb::arg("path"), nb::arg("result"), nb::arg("options"), "Writes /object, /probe, /illumination, /history as lumen-ptycho does.");
}

}  // namespace lumen::py
