// lumen.ct: cone- and parallel-beam CT (lumen/ct/*.hpp).
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>

#include "common.hpp"
#include "lumen/ct/ct.hpp"
#include "lumen/ct/io.hpp"

namespace lumen::py {

namespace {
const char* short_scan_name(ct::ShortScan s) {
    switch (s) {
        case ct::ShortScan::automatic: return "auto";
        case ct::ShortScan::parker: return "parker";
        case ct::ShortScan::off: return "off";
    }
    return "?";
}
const char* theta_units_name(ct::ThetaUnits u) {
    switch (u) {
        case ct::ThetaUnits::file: return "file";
        case ct::ThetaUnits::degrees: return "degrees";
        case ct::ThetaUnits::radians: return "radians";
    }
    return "?";
}
template <class C>
void device_property(nb::class_<C>& cls) {
    cls.def_prop_rw("device", [](const C& c) { return std::string(device_name(c.device)); },
                    [](C& c, const std::string& d) { c.device = device_arg(d); }, nb::arg("value"),
                    "'cpu', 'cuda' (or 'gpu') or 'auto'");
}
}  // namespace

void bind_ct(nb::module_& top) {
    nb::module_ m = top.def_submodule("ct", "Cone- and parallel-beam CT (lumen/ct).");
    using namespace lumen::ct;

    nb::class_<VolumeGrid>(m, "VolumeGrid", "The reconstruction grid: [nz][ny][nx] voxels in mm, centred at the offsets.")
        .def(nb::init<>())
        .def_rw("nx", &VolumeGrid::nx).def_rw("ny", &VolumeGrid::ny).def_rw("nz", &VolumeGrid::nz)
        .def_rw("voxel_x", &VolumeGrid::voxel_x).def_rw("voxel_y", &VolumeGrid::voxel_y).def_rw("voxel_z", &VolumeGrid::voxel_z)
        .def_rw("offset_x", &VolumeGrid::offset_x).def_rw("offset_y", &VolumeGrid::offset_y).def_rw("offset_z", &VolumeGrid::offset_z)
        .def_prop_ro("shape", [](const VolumeGrid& g) { return shape_tuple(g.shape()); }, "(nz, ny, nx)");

    nb::class_<Geometry> geometry(m, "Geometry",
                                  "Circular cone-beam or parallel-beam geometry (docs/ct.md): source and detector "
                                  "distances, detector, angles (radians) and the volume grid.");
    geometry.def(nb::init<>())
        .def_rw("dso", &Geometry::dso, "source to rotation axis, mm (cone)")
        .def_rw("dsd", &Geometry::dsd, "source to detector, mm (cone)")
        .def_rw("nu", &Geometry::nu, "detector columns").def_rw("nv", &Geometry::nv, "detector rows")
        .def_rw("du", &Geometry::du, "column pitch, mm").def_rw("dv", &Geometry::dv, "row pitch, mm")
        .def_rw("offset_u", &Geometry::offset_u).def_rw("offset_v", &Geometry::offset_v)
        .def_rw("angles", &Geometry::angles, "projection angles, radians (a list; assigning replaces it)")
        .def_rw("volume", &Geometry::volume, "the VolumeGrid")
        .def_prop_ro("n_angles", &Geometry::n_angles)
        .def_prop_ro("projection_shape", [](const Geometry& g) { return shape_tuple(g.projection_shape()); }, "(n_angles, nv, nu)")
        .def_prop_ro("volume_shape", [](const Geometry& g) { return shape_tuple(g.volume_shape()); }, "(nz, ny, nx)")
        .def("magnification", &Geometry::magnification, "dsd / dso (1 for parallel beam)")
        .def("validate", &Geometry::validate, nb::arg("context") = "CT geometry", "LumenError naming the offending field.")
        .def("describe", &Geometry::describe)
        .def("__repr__", [](const Geometry& g) { return "ct.Geometry(" + g.describe() + ")"; });
    enum_property(geometry, "type", &Geometry::type, [](const std::string& s) { return parse_beam_type(s, "Geometry.type"); },
                  beam_type_name, "'cone' or 'parallel'");

    m.def("equally_spaced_angles", &equally_spaced_angles, nb::arg("n"), nb::arg("arc"), nb::arg("start") = 0.0,
          "n angles from `start` over `arc` radians (a full circle without repeating the first).");
    m.def("default_cone_geometry", &default_cone_geometry, nb::arg("n"), nb::arg("voxel"), nb::arg("views"),
          nb::arg("arc") = 2.0 * kPi, "A cone-beam geometry for an n^3 volume with a detector covering it.");

    nb::class_<Projector, LinearOperator<float>>(m, "Projector",
                                                 "The ray-driven projector A (volume [nz, ny, nx] -> projections "
                                                 "[n_angles, nv, nu]) and its exact adjoint, on one device.")
        .def("__init__", [](Projector* self, const Geometry& g, const std::string& device) {
            new (self) Projector(g, device_arg(device));
        }, nb::arg("geometry"), nb::arg("device") = "cpu")
        .def_prop_ro("geometry", &Projector::geometry);

    nb::class_<FdkOptions> fdk_options(m, "FdkOptions", "FDK's filter: window, cutoff (fraction of Nyquist), short-scan weights.");
    fdk_options.def(nb::init<>()).def_rw("cutoff", &FdkOptions::cutoff).def("validate", &FdkOptions::validate);
    enum_property(fdk_options, "window", &FdkOptions::window, parse_filter_window, filter_window_name,
                  "'ram-lak', 'shepp-logan', 'cosine', 'hamming' or 'hann'");
    enum_property(fdk_options, "short_scan", &FdkOptions::short_scan, parse_short_scan, short_scan_name,
                  "'auto', 'parker' or 'off'");

    m.def("fdk", [](const Projector& p, nb::handle line_integrals, const FdkOptions& options, nb::handle out) {
        View<const float> b = input<float>(line_integrals, "line_integrals");
        require_shape(b.shape(), p.range_shape(), "line_integrals");
        require_device(b.device(), p.device(), "line_integrals");
        Array<float> fresh;
        View<float> dst;
        if (out.is_none()) {
            fresh = Array<float>(p.domain_shape(), p.device());
            dst = fresh.view();
        } else {
            dst = output<float>(out, "out");
            require_shape(dst.shape(), p.domain_shape(), "out");
            require_device(dst.device(), p.device(), "out");
        }
        {
            nb::gil_scoped_release release;
            fdk(p, b, dst, options);
        }
        return out.is_none() ? give(std::move(fresh), framework_of(line_integrals)) : nb::borrow(out);
    }, nb::arg("projector"), nb::arg("line_integrals"), nb::arg("options") = FdkOptions(), nb::arg("out") = nb::none(),
          "FDK (filtered back projection) of line integrals into a volume on the projector's device.");

    nb::class_<Scan> scan(m, "Scan", "A CT scan in memory: raw intensities, flat and dark fields, geometry, optional truth.");
    scan.def(nb::init<>())
        .def_rw("path", &Scan::path)
        .def_rw("geometry", &Scan::geometry)
        .def_rw("i0", &Scan::i0, "flat level used when there are no flat fields")
        .def_rw("axis_given", &Scan::axis_given)
        .def_rw("flip_u", &Scan::flip_u)
        .def_ro("conventions", &Scan::conventions, "how the file was read, as (name, value) pairs");
    array_property(scan, "data", &Scan::data, "raw intensities [n_angles, nv, nu] (float32; assigning copies)");
    array_property(scan, "white", &Scan::white, "flat fields [frames, nv, nu] or None");
    array_property(scan, "dark", &Scan::dark, "dark fields [frames, nv, nu] or None");
    array_property(scan, "truth", &Scan::truth, "the true volume [nz, ny, nx] or None");

    m.def("transmission", [](const Scan& s, const std::string& device) { return give(transmission(s, device_arg(device))); },
          nb::arg("scan"), nb::arg("device") = "cpu", "Normalised intensities t = (I - dark) / (white - dark).");
    m.def("line_integrals", [](nb::handle t, double min_transmission) {
        View<const float> v = input<float>(t, "transmission");
        require_device(v.device(), Device::cpu, "transmission");
        return give(line_integrals(v, min_transmission, "transmission"));
    }, nb::arg("transmission"), nb::arg("min_transmission") = 0.0, "-log t (t clamped to min_transmission when > 0).");

    nb::class_<CountNoise>(m, "CountNoise", "What the counts say about each ray (for the discrepancy rule and the Poisson objective).")
        .def_prop_ro("variance", [](nb::handle self) { return borrow(nb::cast<CountNoise&>(self).variance, self); })
        .def_prop_ro("gain", [](nb::handle self) { return borrow(nb::cast<CountNoise&>(self).gain, self); })
        .def_prop_ro("dark", [](nb::handle self) { return borrow(nb::cast<CountNoise&>(self).dark, self); });
    m.def("count_noise", &count_noise, nb::arg("scan"));

    nb::class_<ReconOptions> options(m, "ReconOptions", "Options of ct.reconstruct (lumen/ct/recon.hpp); see docs/ct.md.");
    options.def(nb::init<>())
        .def_rw("iterations", &ReconOptions::iterations, "0: the method's default (a cap when stopping on the discrepancy)")
        .def_rw("fdk", &ReconOptions::fdk, "FdkOptions")
        .def_rw("min_transmission", &ReconOptions::min_transmission)
        .def_rw("sirt_relaxation", &ReconOptions::sirt_relaxation)
        .def_rw("cgls_restart", &ReconOptions::cgls_restart)
        .def_rw("discrepancy_tau", &ReconOptions::discrepancy_tau)
        .def_rw("model_error", &ReconOptions::model_error)
        .def_rw("tv_lambda", &ReconOptions::tv_lambda)
        .def_rw("tv_weight", &ReconOptions::tv_weight)
        .def_rw("tv_inner", &ReconOptions::tv_inner)
        .def_rw("nonlinear_tv", &ReconOptions::nonlinear_tv)
        .def_rw("nonlinear_tv_eps", &ReconOptions::nonlinear_tv_eps)
        .def_rw("power_iterations", &ReconOptions::power_iterations)
        .def("validate", &ReconOptions::validate, "LumenError (InvalidOptionError) naming the first field out of range.");
    enum_property(options, "method", &ReconOptions::method, parse_method, method_name, "'fdk', 'sirt', 'cgls', 'tv' or 'nonlinear'");
    enum_property(options, "stop", &ReconOptions::stop, parse_stop, stop_name, "'discrepancy' or 'iterations'");
    enum_property(options, "objective", &ReconOptions::objective, parse_objective, objective_name, "'least-squares' or 'poisson'");
    enum_property(options, "init", &ReconOptions::init, parse_init, init_name, "'fdk' or 'zero'");
    device_property(options);

    nb::class_<ReconInfo> info(m, "ReconInfo", "What a reconstruction did (Reconstructor.reconstruct; ReconResult adds the volume).");
    info.def_ro("solver", &ReconInfo::solver)
        .def_ro("elapsed_s", &ReconInfo::elapsed_s)
        .def_ro("parameters", &ReconInfo::parameters, "what was used, as (name, value) pairs");
    nb::class_<ReconResult, ReconInfo> result(m, "ReconResult", "A CT reconstruction: the volume (attenuation per mm) and what the solver did.");
    result.def_prop_ro("volume", [](nb::handle self) { return borrow(nb::cast<ReconResult&>(self).volume, self); },
                       "[nz, ny, nx] float32, lumen's memory (kept alive by the array)");

    m.def("_reconstruct_scan", [](const Scan& s, ReconOptions options, nb::object progress) {
        Progress p(std::move(progress));
        options.progress = p.callback();
        ReconResult r;
        {
            nb::gil_scoped_release release;
            r = reconstruct(s, options);
        }
        p.rethrow_if_raised();
        return r;
    }, nb::arg("scan"), nb::arg("options"), nb::arg("progress") = nb::none());
    m.def("_reconstruct", [](const Geometry& g, nb::handle t, const CountNoise* noise, ReconOptions options, nb::object progress) {
        View<const float> v = input<float>(t, "transmission");
        require_shape(v.shape(), g.projection_shape(), "transmission");
        Progress p(std::move(progress));
        options.progress = p.callback();
        ReconResult r;
        {
            nb::gil_scoped_release release;
            r = reconstruct(g, v, noise, options);
        }
        p.rethrow_if_raised();
        return r;
    }, nb::arg("geometry"), nb::arg("transmission"), nb::arg("noise").none(), nb::arg("options"), nb::arg("progress") = nb::none());

    nb::class_<Reconstructor>(m, "Reconstructor",
                              "Reconstructions of one geometry, call after call, keeping the projector pair and "
                              "device buffers (lumen::ct::Reconstructor).")
        .def("reconstruct", [](Reconstructor& r, nb::handle transmission, const CountNoise* noise, nb::handle out) {
            const Geometry& g = r.geometry();
            View<const float> t = input<float>(transmission, "transmission");
            require_shape(t.shape(), g.projection_shape(), "transmission");
            // The volume: the caller's array (written in place), else a fresh one on the options' device.
            Array<float> fresh;
            View<float> dst;
            if (out.is_none()) {
                fresh = Array<float>(g.volume_shape(), r.options().device);
                dst = fresh.view();
            } else {
                dst = output<float>(out, "out");
                require_shape(dst.shape(), g.volume_shape(), "out");
            }
            ReconInfo info;
            {
                nb::gil_scoped_release release;
                info = r.reconstruct(t, noise, dst);
            }
            nb::object volume = out.is_none() ? give(std::move(fresh), framework_of(transmission)) : nb::borrow(out);
            return nb::make_tuple(volume, info);
        }, nb::arg("transmission"), nb::arg("noise").none() = nb::none(), nb::arg("out") = nb::none(),
             "One scan on this geometry: normalised intensities [n_angles, nv, nu] float32 (any device, not "
             "copied when on the options' device). Returns (volume, info); `out` [nz, ny, nx] is written in place.")
        .def_prop_ro("geometry", &Reconstructor::geometry)
        .def_prop_ro("options", &Reconstructor::options);
    m.def("_reconstructor", [](const Geometry& g, ReconOptions options, nb::object progress) {
        // The callable stays with the reconstructor (as mri.SliceReconstructor's does).
        Progress p(std::move(progress));
        options.progress = p.callback();
        return Reconstructor(g, options);
    }, nb::arg("geometry"), nb::arg("options"), nb::arg("progress") = nb::none());

    m.def("compare_with_truth", [](nb::handle truth, nb::handle volume) {
        return compare_with_truth(input<float>(truth, "truth"), input<float>(volume, "volume"));
    }, nb::arg("truth"), nb::arg("volume"), "PSNR (peak = max of the truth), NRMSE and SSIM of a volume.");

    nb::class_<SimulationOptions> sim(m, "SimulationOptions", "Options of ct.simulate (lumen/ct/simulate.hpp).");
    sim.def(nb::init<>())
        .def_rw("size", &SimulationOptions::size).def_rw("voxel_mm", &SimulationOptions::voxel_mm)
        .def_rw("views", &SimulationOptions::views).def_rw("arc_deg", &SimulationOptions::arc_deg)
        .def_rw("dso_mm", &SimulationOptions::dso_mm).def_rw("dsd_mm", &SimulationOptions::dsd_mm)
        .def_rw("du_mm", &SimulationOptions::du_mm).def_rw("nu", &SimulationOptions::nu).def_rw("nv", &SimulationOptions::nv)
        .def_rw("mu_scale", &SimulationOptions::mu_scale).def_rw("metal_mu", &SimulationOptions::metal_mu)
        .def_rw("i0", &SimulationOptions::i0).def_rw("dark", &SimulationOptions::dark)
        .def_rw("flat_frames", &SimulationOptions::flat_frames).def_rw("dark_frames", &SimulationOptions::dark_frames)
        .def_rw("noise", &SimulationOptions::noise).def_rw("seed", &SimulationOptions::seed)
        .def_rw("subsample", &SimulationOptions::subsample).def_rw("supersample", &SimulationOptions::supersample)
        .def_rw("analytic", &SimulationOptions::analytic)
        .def("validate", &SimulationOptions::validate);
    enum_property(sim, "type", &SimulationOptions::type, [](const std::string& s) { return parse_beam_type(s, "SimulationOptions.type"); },
                  beam_type_name, "'cone' or 'parallel'");
    enum_property(sim, "phantom", &SimulationOptions::phantom, parse_phantom, phantom_name, "'shepp-logan' or 'metal'");
    m.def("_simulate", [](const SimulationOptions& o, const std::string& device) {
        Device d = device_arg(device);
        nb::gil_scoped_release release;
        return simulate(o, d);
    }, nb::arg("options"), nb::arg("device") = "cpu");
    m.def("simulation_geometry", &simulation_geometry, nb::arg("options"));

    // Files (lumen/ct/io.hpp).
    nb::class_<ReadOptions> read(m, "ReadOptions", "What a file leaves out or stores in another convention (lumen/ct/io.hpp).");
    read.def(nb::init<>())
        .def_rw("geometry", &ReadOptions::geometry, "geometry attributes by name, as text (override the file)")
        .def_rw("geometry_file", &ReadOptions::geometry_file)
        .def_rw("clockwise", &ReadOptions::clockwise).def_rw("flip_u", &ReadOptions::flip_u).def_rw("flip_v", &ReadOptions::flip_v)
        .def_rw("centre_column", &ReadOptions::centre_column).def_rw("estimate_centre", &ReadOptions::estimate_centre);
    enum_property(read, "theta_units", &ReadOptions::theta_units, parse_theta_units, theta_units_name, "'file', 'degrees' or 'radians'");
    m.def("_read_scan", [](const std::string& path, const ReadOptions& o) {
        nb::gil_scoped_release release;
        return read_scan(path, o);
    }, nb::arg("path"), nb::arg("options"));
    m.def("write_scan", [](const std::string& path, const Scan& s, const std::map<std::string, std::string>& attributes) {
        nb::gil_scoped_release release;
        write_scan(path, s, attributes);
    }, nb::arg("path"), nb::arg("scan"), nb::arg("attributes") = std::map<std::string, std::string>(),
          "Writes a scan as DXchange HDF5 with lumen's geometry group (atomic).");
    m.def("write_reconstruction", [](const std::string& path, const Geometry& g, const ReconResult& r, const std::string& device, std::optional<Quality> quality, const std::string& png_prefix) {
        nb::gil_scoped_release release;
        return write_reconstruction(path, g, r, device, quality ? &*quality : nullptr, png_prefix);
    }, nb::arg("path"), nb::arg("geometry"), nb::arg("result"), nb::arg("device") = "cpu", nb::arg("quality") = nb::none(),
          nb::arg("png_prefix") = "", "Writes /volume, /history and the geometry as lumen-ct recon does; returns PNG paths.");
}

}  // namespace lumen::py
