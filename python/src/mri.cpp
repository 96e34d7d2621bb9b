// lumen.mri: Cartesian multi-coil MRI (lumen/mri/*.hpp).
#include <nanobind/stl/optional.h>

#include "common.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mri.hpp"

namespace lumen::py {

void bind_mri(nb::module_& top) {
    nb::module_ m = top.def_submodule("mri", "Cartesian multi-coil MRI (lumen/mri).");
    using namespace lumen::mri;

    nb::class_<SenseOperator, LinearOperator<complex64>>(
        m, "SenseOperator",
        "The SENSE operator of one slice: image [H, W] (or [D, H, W]) -> masked coil k-space [coils, H, W], "
        "A x = M F(S_c x), with its exact adjoint and a fused normal operator. The maps and mask are copied "
        "to the device once; set_maps / set_mask swap them without new FFT plans.")
        .def("__init__", [](SenseOperator* self, nb::handle maps, nb::handle mask, const std::string& device) {
            new (self) SenseOperator(input<complex64>(maps, "maps"), input<float>(mask, "mask"), device_arg(device));
        }, nb::arg("maps"), nb::arg("mask"), nb::arg("device") = "cpu")
        .def("set_maps", [](SenseOperator& op, nb::handle maps) { op.set_maps(input<complex64>(maps, "maps")); }, nb::arg("maps"))
        .def("set_mask", [](SenseOperator& op, nb::handle mask) { op.set_mask(input<float>(mask, "mask")); }, nb::arg("mask"))
        .def_prop_ro("coils", &SenseOperator::coils);

    m.def("fft_centered", [](nb::handle data, int rank) {
        View<complex64> v = output<complex64>(data, "data");
        nb::gil_scoped_release release;
        fft_centered(v, rank);
    }, nb::arg("data"), nb::arg("rank") = 2, "In place: fastMRI's fft2c over the last `rank` axes.");
    m.def("ifft_centered", [](nb::handle data, int rank) {
        View<complex64> v = output<complex64>(data, "data");
        nb::gil_scoped_release release;
        ifft_centered(v, rank);
    }, nb::arg("data"), nb::arg("rank") = 2, "In place: fastMRI's ifft2c over the last `rank` axes.");
    m.def("rss", [](nb::handle coil_images) {
        View<const complex64> v = input<complex64>(coil_images, "coil_images");
        Array<float> out(v.shape().drop_front(), v.device());
        rss(v, out.view());
        return give(std::move(out), framework_of(coil_images));
    }, nb::arg("coil_images"), "Root-sum-of-squares over the first (coil) axis.");
    m.def("center_crop", [](nb::handle in, index_t h, index_t w) -> nb::object {
        InArray a;
        if (nb::try_cast(in, a, false) && a.dtype() == nb::dtype<std::complex<float>>())
            return give(center_crop(input<complex64>(in, "image"), h, w));
        return give(center_crop(input<float>(in, "image"), h, w));
    }, nb::arg("image"), nb::arg("height"), nb::arg("width"), "fastMRI's centre crop of the last two axes.");

    // Masks.
    nb::class_<MaskSpec> spec(m, "MaskSpec", "A Cartesian sampling mask (fastMRI's random / equispaced, or Poisson disc).");
    spec.def(nb::init<>())
        .def_rw("acceleration", &MaskSpec::acceleration).def_rw("center_fraction", &MaskSpec::center_fraction)
        .def_rw("calibration", &MaskSpec::calibration).def_rw("seed", &MaskSpec::seed)
        .def("validate", &MaskSpec::validate);
    enum_property(spec, "kind", &MaskSpec::kind, parse_mask_kind, mask_kind_name,
                  "'random', 'equispaced', 'equispaced-fraction' or 'poisson'");
    m.def("_make_mask", [](const MaskSpec& s, index_t h, index_t w) { return give(make_mask(s, h, w)); },
          nb::arg("spec"), nb::arg("height"), nb::arg("width"));
    m.def("restrict_columns", [](nb::handle mask, index_t first, index_t last) {
        View<float> v = output<float>(mask, "mask");
        restrict_columns(v, first, last);
    }, nb::arg("mask"), nb::arg("first"), nb::arg("last"),
          "In place: zeroes the mask's columns outside [first, last) (the header's acquired phase encodes).");
    m.def("sampled_fraction", [](nb::handle mask) { return sampled_fraction(input<float>(mask, "mask")); }, nb::arg("mask"));

    // ESPIRiT.
    nb::class_<EspiritOptions>(m, "EspiritOptions", "ESPIRiT settings (lumen/mri/espirit.hpp).")
        .def(nb::init<>())
        .def_rw("kernel", &EspiritOptions::kernel).def_rw("calibration", &EspiritOptions::calibration)
        .def_rw("threshold", &EspiritOptions::threshold).def_rw("crop", &EspiritOptions::crop)
        .def_rw("iterations", &EspiritOptions::iterations).def("validate", &EspiritOptions::validate);
    m.def("_espirit", [](nb::handle kspace, nb::handle mask, const EspiritOptions& o, const std::string& device) {
        View<const complex64> k = input<complex64>(kspace, "kspace");
        View<const float> msk = optional_input<float>(mask, "mask");
        Device d = device_arg(device);
        EspiritResult r;
        {
            nb::gil_scoped_release release;
            r = espirit(k, msk, o, d);
        }
        return nb::make_tuple(give(std::move(r.maps), framework_of(kspace)), give(std::move(r.eigenvalues), framework_of(kspace)));
    }, nb::arg("kspace"), nb::arg("mask").none(), nb::arg("options"), nb::arg("device") = "cpu");

    // Reconstruction.
    nb::class_<ReconOptions> options(m, "ReconOptions", "Options of mri.reconstruct_slice (lumen/mri/recon.hpp); see docs/mri.md.");
    options.def(nb::init<>())
        .def_rw("iterations", &ReconOptions::iterations, "0: the method's default")
        .def_rw("lam", &ReconOptions::lambda, "relative regularisation weight (None: the method's default)")
        .def_rw("tolerance", &ReconOptions::tolerance)
        .def_rw("wavelet_levels", &ReconOptions::wavelet_levels)
        .def_rw("pocs_iterations", &ReconOptions::pocs_iterations)
        .def_rw("discrepancy_tau", &ReconOptions::discrepancy_tau, "the discrepancy rule's tau (0: the method's default)")
        .def_rw("noise_variance", &ReconOptions::noise_variance,
                "k-space noise variance per sample in the data's units (0: the pre-scan's or the readout margin's estimate)")
        .def_rw("cycle_spinning", &ReconOptions::cycle_spinning, "L1-wavelet: random wavelet shifts per iteration")
        .def_rw("cycle_spinning_seed", &ReconOptions::cycle_spinning_seed)
        .def("validate", &ReconOptions::validate);
    enum_property(options, "stop", &ReconOptions::stop, parse_stop, stop_name, "'discrepancy' or 'iterations'");
    enum_property(options, "method", &ReconOptions::method, parse_method, method_name, "'zf', 'cg-sense', 'l1-wavelet' or 'tv'");
    options.def_prop_rw("device", [](const ReconOptions& c) { return std::string(device_name(c.device)); },
                        [](ReconOptions& c, const std::string& d) { c.device = device_arg(d); }, nb::arg("value"));

    nb::class_<SliceRecon> slice(m, "SliceRecon", "One reconstructed slice.");
    slice.def_ro("solver", &SliceRecon::solver)
        .def_ro("data_scale", &SliceRecon::data_scale).def_ro("lam", &SliceRecon::lambda)
        .def_ro("residual_sq", &SliceRecon::residual_sq).def_ro("measured", &SliceRecon::measured)
        .def_ro("noise_variance", &SliceRecon::noise_variance, "sigma^2 per k-space sample the stop used (0: none)");
    slice.def_prop_ro("magnitude", [](nb::handle self) { return borrow(nb::cast<SliceRecon&>(self).magnitude, self); },
                      "[H, W] float32: RSS of the estimated coil images");
    slice.def_prop_ro("image", [](nb::handle self) { return borrow(nb::cast<SliceRecon&>(self).image, self); },
                      "[H, W] complex64: the SENSE image (None for zero-filled)");

    nb::class_<SliceReconstructor>(m, "SliceReconstructor",
                                   "Reconstructs slice after slice, keeping the SENSE operator, FFT plans and device "
                                   "buffers from one slice to the next.")
        .def("__init__", [](SliceReconstructor* self, const ReconOptions& o) { new (self) SliceReconstructor(o); }, nb::arg("options"))
        .def("reconstruct", [](SliceReconstructor& r, nb::handle kspace, nb::handle mask, nb::handle maps, index_t part, index_t parts) {
            View<const complex64> k = input<complex64>(kspace, "kspace");
            View<const float> msk = input<float>(mask, "mask");
            View<const complex64> s = optional_input<complex64>(maps, "maps");
            nb::gil_scoped_release release;
            return r.reconstruct(k, msk, s, part, parts);
        }, nb::arg("kspace"), nb::arg("mask"), nb::arg("maps").none(), nb::arg("part") = 0, nb::arg("parts") = 1,
             "One slice: kspace [coils, H, W], mask [H, W], maps [coils, H, W] (None for zero-filled).")
        .def_prop_ro("options", &SliceReconstructor::options);
    m.def("_reconstruct_slice", [](nb::handle kspace, nb::handle mask, nb::handle maps, ReconOptions o, nb::object progress) {
        View<const complex64> k = input<complex64>(kspace, "kspace");
        View<const float> msk = input<float>(mask, "mask");
        View<const complex64> s = optional_input<complex64>(maps, "maps");
        Progress p(std::move(progress));
        o.progress = p.callback();
        SliceRecon r;
        {
            nb::gil_scoped_release release;
            r = reconstruct_slice(k, msk, s, o);
        }
        p.rethrow_if_raised();
        return r;
    }, nb::arg("kspace"), nb::arg("mask"), nb::arg("maps").none(), nb::arg("options"), nb::arg("progress") = nb::none());
    m.def("_slice_reconstructor", [](ReconOptions o, nb::object progress) {
        // The callable stays with the reconstructor (its errors cannot be raised again after each
        // call; a raising callable simply stops the slice).
        Progress p(std::move(progress));
        o.progress = p.callback();
        return SliceReconstructor(o);
    }, nb::arg("options"), nb::arg("progress") = nb::none());

    m.def("fastmri_quality", [](nb::handle ref, nb::handle rec) {
        return fastmri_quality(input<float>(ref, "reference"), input<float>(rec, "reconstruction"));
    }, nb::arg("reference"), nb::arg("reconstruction"), "fastMRI's NMSE, PSNR and SSIM of magnitude volumes [slices, h, w].");

    // Simulation.
    nb::class_<SimulationOptions>(m, "SimulationOptions", "Options of mri.simulate (lumen/mri/simulate.hpp).")
        .def(nb::init<>())
        .def_rw("height", &SimulationOptions::height).def_rw("width", &SimulationOptions::width)
        .def_rw("recon_height", &SimulationOptions::recon_height).def_rw("recon_width", &SimulationOptions::recon_width)
        .def_rw("coils", &SimulationOptions::coils).def_rw("slices", &SimulationOptions::slices)
        .def_rw("noise", &SimulationOptions::noise).def_rw("scale", &SimulationOptions::scale)
        .def_rw("seed", &SimulationOptions::seed).def("validate", &SimulationOptions::validate);
    nb::class_<SimulatedScan> sim(m, "SimulatedScan", "A simulated fully sampled multi-coil scan with its truth.");
    sim.def_ro("recon_height", &SimulatedScan::recon_height).def_ro("recon_width", &SimulatedScan::recon_width);
    sim.def_prop_ro("kspace", [](nb::handle s) { return borrow(nb::cast<SimulatedScan&>(s).kspace, s); }, "[slices, coils, H, W]");
    sim.def_prop_ro("image", [](nb::handle s) { return borrow(nb::cast<SimulatedScan&>(s).image, s); }, "[slices, H, W]");
    sim.def_prop_ro("sensitivities", [](nb::handle s) { return borrow(nb::cast<SimulatedScan&>(s).sensitivities, s); }, "[coils, H, W]");
    sim.def_prop_ro("target", [](nb::handle s) { return borrow(nb::cast<SimulatedScan&>(s).target, s); }, "[slices, rh, rw] noiseless RSS target");
    sim.def_prop_ro("rss", [](nb::handle s) { return borrow(nb::cast<SimulatedScan&>(s).rss, s); }, "[slices, rh, rw] RSS of the data");
    m.def("_simulate", [](const SimulationOptions& o) {
        nb::gil_scoped_release release;
        return simulate(o);
    }, nb::arg("options"));

    // Files.
    nb::class_<ScanHeader>(m, "ScanHeader", "What a fastMRI or ISMRMRD file holds (lumen/mri/io.hpp).")
        .def_ro("path", &ScanHeader::path).def_ro("format", &ScanHeader::format)
        .def_ro("slices", &ScanHeader::slices).def_ro("coils", &ScanHeader::coils)
        .def_ro("height", &ScanHeader::height).def_ro("width", &ScanHeader::width)
        .def_ro("single_coil", &ScanHeader::single_coil)
        .def_ro("recon_height", &ScanHeader::recon_height).def_ro("recon_width", &ScanHeader::recon_width)
        .def_ro("first_column", &ScanHeader::first_column).def_ro("last_column", &ScanHeader::last_column)
        .def_ro("first_row", &ScanHeader::first_row).def_ro("last_row", &ScanHeader::last_row)
        .def_ro("noise_scans", &ScanHeader::noise_scans).def_ro("has_mask", &ScanHeader::has_mask)
        .def_ro("has_truth", &ScanHeader::has_truth).def_ro("target", &ScanHeader::target)
        .def_ro("acquisition", &ScanHeader::acquisition);
    nb::class_<ScanReader>(m, "ScanReader", "A fastMRI or Cartesian ISMRMRD file, read slice by slice.")
        .def_static("open", [](const std::string& path) {
            nb::gil_scoped_release release;
            return ScanReader::open(path);
        }, nb::arg("path"))
        .def_prop_ro("header", &ScanReader::header)
        .def("read_slice", [](const ScanReader& r, index_t s) { return give(r.read_slice(s)); }, nb::arg("slice"),
             "k-space [coils, H, W] complex64")
        .def("file_mask", [](const ScanReader& r) { return give(r.file_mask()); }, "the file's mask [H, W], or None")
        .def("noise_samples", [](const ScanReader& r) { return give(r.noise_samples()); })
        .def("truth_image", [](const ScanReader& r) { return give(r.truth_image()); })
        .def("truth_sensitivities", [](const ScanReader& r) { return give(r.truth_sensitivities()); })
        .def("reference", [](const ScanReader& r) { return give(r.reference()); },
             "[slices, rh, rw]: the truth's RSS target, else the file's fastMRI target, else None");
    m.def("write_fastmri", [](const std::string& path, nb::handle kspace, nb::handle mask, nb::handle truth_image, nb::handle truth_sensitivities, nb::handle reconstruction_rss, index_t recon_height, index_t recon_width, bool single_coil) {
        FastMriWriteOptions o;
        o.mask = optional_input<float>(mask, "mask");
        o.truth_image = optional_input<complex64>(truth_image, "truth_image");
        o.truth_sensitivities = optional_input<complex64>(truth_sensitivities, "truth_sensitivities");
        o.reconstruction_rss = optional_input<float>(reconstruction_rss, "reconstruction_rss");
        o.recon_height = recon_height;
        o.recon_width = recon_width;
        View<const complex64> k = input<complex64>(kspace, "kspace");
        nb::gil_scoped_release release;
        write_fastmri(path, k, o, single_coil);
    }, nb::arg("path"), nb::arg("kspace"), nb::arg("mask") = nb::none(), nb::arg("truth_image") = nb::none(),
          nb::arg("truth_sensitivities") = nb::none(), nb::arg("reconstruction_rss") = nb::none(),
          nb::arg("recon_height") = 0, nb::arg("recon_width") = 0, nb::arg("single_coil") = false,
          "Writes k-space [slices, coils, H, W] in fastMRI layout (atomic).");
    m.def("write_ismrmrd", [](const std::string& path, nb::handle kspace, nb::handle mask, index_t recon_height, index_t recon_width) {
        View<const complex64> k = input<complex64>(kspace, "kspace");
        View<const float> msk = optional_input<float>(mask, "mask");
        nb::gil_scoped_release release;
        write_ismrmrd(path, k, msk, recon_height, recon_width);
    }, nb::arg("path"), nb::arg("kspace"), nb::arg("mask") = nb::none(), nb::arg("recon_height") = 0, nb::arg("recon_width") = 0,
          "Writes k-space [slices, coils, H, W] as a Cartesian ISMRMRD dataset.");
}

}  // namespace lumen::py
