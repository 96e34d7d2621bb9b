// Broken inputs, options and output paths through the three programs (issue #10). Every case
// asserts: the exit code (2), a message naming the file, dataset or option, no file at the output
// path (or the old one unchanged), no staged leftovers or PNGs beside it, and the input unchanged.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/h5craft.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
namespace fs = std::filesystem;

namespace {

// ---- well-formed small inputs, each with knobs that break one thing

struct CtFile {
    std::vector<std::uint64_t> data_shape{12, 16, 16};
    float data_value = 900.0f;  // i0 1000: transmission 0.9
    std::map<std::uint64_t, float> data_at;  // element overrides
    std::vector<float> theta;                // default: 12 angles over 360 degrees
    std::map<std::string, double> attrs{{"dso_mm", 100}, {"dsd_mm", 200}, {"du_mm", 1}, {"dv_mm", 1}, {"nx", 8},
                                        {"ny", 8},       {"nz", 8},       {"voxel_mm", 1}, {"i0", 1000}};
    std::map<std::string, std::string> text_attrs{{"type", "cone"}};
    bool data = true, theta_ds = true, geometry = true;
    bool data_as_string = false;
    std::vector<std::uint64_t> declared_data;  // non-empty: a chunked, never-written /exchange/data
};

void write_ct(const std::string& path, const CtFile& c) {
    test::H5Craft f(path);
    std::uint64_t n = 1;
    for (auto d : c.data_shape) n *= d;
    if (!c.declared_data.empty()) {
        f.declared("/exchange/data", c.declared_data, false);
    } else if (c.data_as_string) {
        f.string("/exchange/data", "not numbers");
    } else if (c.data) {
        std::vector<float> v(n, c.data_value);
        for (std::uint64_t i = 0; i < n; ++i) v[i] += float(i % 7);  // some structure
        for (const auto& [i, x] : c.data_at) v[i] = x;
        f.floats("/exchange/data", c.data_shape, v);
    }
    if (c.theta_ds) {
        std::vector<float> theta = c.theta;
        if (theta.empty())
            for (int i = 0; i < 12; ++i) theta.push_back(30.0f * float(i));
        f.floats("/exchange/theta", {theta.size()}, theta);
    }
    if (c.geometry) {
        f.group("/lumen/geometry");
        for (const auto& [k, v] : c.attrs) f.attr("/lumen/geometry", k, v);
        for (const auto& [k, v] : c.text_attrs) f.attr("/lumen/geometry", k, v);
    }
}

struct MriFile {
    std::vector<std::uint64_t> shape{1, 2, 16, 12};
    float scale = 1.0f;
    std::map<std::uint64_t, float> re_at;  // element overrides (real part)
    std::string re_name = "r", im_name = "i";
    bool kspace = true, real_kspace = false;
    std::vector<std::uint64_t> declared;  // non-empty: declared /kspace of this shape
    std::vector<float> mask;               // non-empty: a 1-D /mask
    std::string header_xml;                // non-empty: /ismrmrd_header
};

void write_mri(const std::string& path, const MriFile& m) {
    test::H5Craft f(path);
    std::uint64_t n = 1;
    for (auto d : m.shape) n *= d;
    if (!m.declared.empty()) {
        f.declared("/kspace", m.declared, true);
    } else if (m.real_kspace) {
        f.floats("/kspace", m.shape, std::vector<float>(n, m.scale));
    } else if (m.kspace) {
        std::vector<float> pairs(2 * n);
        for (std::uint64_t i = 0; i < n; ++i) {
            pairs[2 * i] = m.scale * float(std::sin(0.37 * double(i)) + 0.1);
            pairs[2 * i + 1] = m.scale * float(std::cos(0.21 * double(i)));
        }
        for (const auto& [i, x] : m.re_at) pairs[2 * i] = x;
        f.complex("/kspace", m.shape, pairs, m.re_name, m.im_name);
    } else {
        f.floats("/other", {1}, {1.0f});
    }
    if (!m.mask.empty()) f.floats("/mask", {m.mask.size()}, m.mask);
    if (!m.header_xml.empty()) f.string("/ismrmrd_header", m.header_xml);
}

struct PtychoFile {
    std::vector<std::uint64_t> data_shape{4, 16, 16};
    float data_scale = 1.0f;
    std::map<std::uint64_t, float> data_at;
    std::vector<float> translation{0, 0, 0, 3e-7f, 0, 0, 0, 3e-7f, 0, 3e-7f, 3e-7f, 0};  // (4, 3), metres
    std::vector<std::uint64_t> translation_shape{4, 3};
    double distance = 1.0;
    bool data = true, distance_ds = true;
    std::vector<float> float_mask;         // non-empty: a float (16, 16) mask
    std::vector<float> probe;              // non-empty: (16, 16) complex pairs
    std::string probe_re = "r", probe_im = "i";
};

const char* const k_data = "/entry_1/data_1/data";
const char* const k_translation = "/entry_1/sample_1/geometry_1/translation";
const char* const k_distance = "/entry_1/instrument_1/detector_1/distance";
const char* const k_mask = "/entry_1/instrument_1/detector_1/mask";
const char* const k_illumination = "/entry_1/instrument_1/source_1/illumination";

void write_ptycho(const std::string& path, const PtychoFile& p) {
    test::H5Craft f(path);
    if (p.data) {
        std::uint64_t n = 1;
        for (auto d : p.data_shape) n *= d;
        std::vector<float> v(n);
        for (std::uint64_t i = 0; i < n; ++i) v[i] = p.data_scale * float(1 + (i * 7) % 13);
        for (const auto& [i, x] : p.data_at) v[i] = x;
        f.floats(k_data, p.data_shape, v);
    }
    f.floats(k_translation, p.translation_shape, p.translation);
    if (p.distance_ds) f.doubles(k_distance, {}, {p.distance});
    f.doubles("/entry_1/instrument_1/detector_1/x_pixel_size", {}, {1e-4});
    f.doubles("/entry_1/instrument_1/detector_1/y_pixel_size", {}, {1e-4});
    f.doubles("/entry_1/instrument_1/source_1/energy", {}, {1.6e-15});
    if (!p.float_mask.empty()) f.floats(k_mask, {16, 16}, p.float_mask);
    if (!p.probe.empty()) f.complex(k_illumination, {16, 16}, p.probe, p.probe_re, p.probe_im);
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// ---- the cases

struct Case {
    Case(std::string n, std::string a, std::string ar, std::function<void(const std::string&, const std::string&)> m,
         std::vector<std::string> ne, std::string in = "in.h5", std::string e = "")
        : name(std::move(n)), app(std::move(a)), args(std::move(ar)), make(std::move(m)), needles(std::move(ne)),
          in_name(std::move(in)), env(std::move(e)) {}
    std::string name;
    std::string app;   // lumen-ct, lumen-mri, lumen-ptycho
    std::string args;  // {in}, {out}, {dir} are substituted
    std::function<void(const std::string& dir, const std::string& in)> make;  // writes {in} (and more)
    std::vector<std::string> needles;                                          // all in the message
    std::string in_name;
    std::string env;  // environment assignments before the program
};

// gtest prints a failing parameter by its name, not as bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string ct_recon() { return "recon {in} -o {out} --method fdk -q"; }
std::string mri_recon() { return "recon {in} -o {out} --method zf -q"; }
std::string ptycho_recon() { return "recon {in} -o {out} --iters 2 -q"; }

auto ct(std::function<void(CtFile&)> edit) {
    return [edit](const std::string&, const std::string& in) {
        CtFile c;
        edit(c);
        write_ct(in, c);
    };
}
auto mri(std::function<void(MriFile&)> edit) {
    return [edit](const std::string&, const std::string& in) {
        MriFile m;
        edit(m);
        write_mri(in, m);
    };
}
auto ptycho(std::function<void(PtychoFile&)> edit) {
    return [edit](const std::string&, const std::string& in) {
        PtychoFile p;
        edit(p);
        write_ptycho(in, p);
    };
}
auto valid_for(const std::string& app) {
    return [app](const std::string& dir, const std::string& in) {
        if (app == "lumen-ct") ct([](CtFile&) {})(dir, in);
        else if (app == "lumen-mri") mri([](MriFile&) {})(dir, in);
        else ptycho([](PtychoFile&) {})(dir, in);
    };
}
std::string recon_for(const std::string& app) {
    return app == "lumen-ct" ? ct_recon() : app == "lumen-mri" ? mri_recon() : ptycho_recon();
}

std::vector<Case> cases() {
    std::vector<Case> v;
    // Not HDF5, empty, truncated, missing, a directory, a FIFO, output problems: every program.
    for (const std::string app : {"lumen-ct", "lumen-mri", "lumen-ptycho"}) {
        const std::string p = app.substr(6);
        v.push_back({p + "_not_hdf5", app, recon_for(app),
                     [](const std::string&, const std::string& in) { write_text(in, "this is not HDF5\n"); },
                     {"in.h5", "not an HDF5 file"}});
        v.push_back({p + "_empty_file", app, recon_for(app),
                     [](const std::string&, const std::string& in) { write_text(in, ""); }, {"in.h5", "not an HDF5 file"}});
        v.push_back({p + "_truncated", app, recon_for(app),
                     [app](const std::string& dir, const std::string& in) {
                         valid_for(app)(dir, dir + "/whole.h5");
                         const std::string bytes = test::file_bytes(dir + "/whole.h5");
                         write_text(in, bytes.substr(0, bytes.size() / 2));
                     },
                     {"in.h5"}});
        v.push_back({p + "_missing_input", app, recon_for(app), [](const std::string&, const std::string&) {},
                     {"in.h5", "no such file"}});
        v.push_back({p + "_input_is_directory", app, recon_for(app),
                     [](const std::string&, const std::string& in) { fs::create_directory(in); },
                     {"in.h5", "is a directory"}});
        v.push_back({p + "_input_is_fifo", app, recon_for(app),
                     [](const std::string&, const std::string& in) { ::mkfifo(in.c_str(), 0600); },
                     {"in.h5", "not a regular file"}});
        v.push_back({p + "_output_dir_missing", app, "recon {in} -o {dir}/nowhere/out.h5 -q", valid_for(app),
                     {"nowhere", "does not exist"}});
        v.push_back({p + "_output_parent_is_a_file", app, "recon {in} -o {dir}/afile/out.h5 -q",
                     [app](const std::string& dir, const std::string& in) {
                         valid_for(app)(dir, in);
                         write_text(dir + "/afile", "x");
                     },
                     {"afile", "not a directory"}});
        v.push_back({p + "_output_is_input", app, "recon {in} -o {in} -q", valid_for(app), {"in.h5", "is the input"}});
        // The read watchdog (lumen/io/watchdog.hpp): a read that stays inside the library past
        // LUMEN_READ_TIMEOUT ends the run with exit 2 naming the file. The stall is the test hook
        // (reads of files named *stall* sleep LUMEN_TEST_READ_STALL seconds inside their watch).
        v.push_back({p + "_read_past_the_time_limit", app, recon_for(app), valid_for(app),
                     {"stall.h5", "LUMEN_READ_TIMEOUT"}, "stall.h5", "LUMEN_READ_TIMEOUT=1 LUMEN_TEST_READ_STALL=30"});
        v.push_back({p + "_output_links_to_input", app, "recon {in} -o {dir}/link.h5 -q",
                     [app](const std::string& dir, const std::string& in) {
                         valid_for(app)(dir, in);
                         fs::create_symlink(in, dir + "/link.h5");
                     },
                     {"link.h5", "is the input"}});
        v.push_back({p + "_output_is_directory", app, "recon {in} -o {dir}/outdir -q",
                     [app](const std::string& dir, const std::string& in) {
                         valid_for(app)(dir, in);
                         fs::create_directory(dir + "/outdir");
                     },
                     {"outdir", "is a directory"}});
        v.push_back({p + "_iters_zero", app, "recon {in} -o {out} --iters 0 -q", valid_for(app), {"--iters"}});
        v.push_back({p + "_png_is_input", app, "recon {in} -o {out} --png {dir}/scan -q", valid_for(app),
                     {"is the input"},
                     app == "lumen-ct" ? "scan_axial.png" : app == "lumen-mri" ? "scan_s000.png" : "scan_object_amplitude.png"});
    }

    // CT
    auto add_ct = [&](const std::string& name, std::function<void(CtFile&)> edit, std::vector<std::string> needles,
                      std::string env = "") {
        v.push_back({"ct_" + name, "lumen-ct", ct_recon(), ct(std::move(edit)), std::move(needles), "in.h5", env});
    };
    add_ct("missing_data", [](CtFile& c) { c.data = false; }, {"/exchange/data is missing"});
    add_ct("missing_theta", [](CtFile& c) { c.theta_ds = false; }, {"/exchange/theta is missing"});
    add_ct("missing_geometry", [](CtFile& c) { c.geometry = false; }, {"/lumen/geometry is missing"});
    add_ct("missing_dso", [](CtFile& c) { c.attrs.erase("dso_mm"); }, {"/lumen/geometry", "dso_mm"});
    add_ct("dso_is_text", [](CtFile& c) { c.attrs.erase("dso_mm"); c.text_attrs["dso_mm"] = "far"; },
           {"dso_mm", "far"});
    add_ct("data_rank_2", [](CtFile& c) { c.data_shape = {12, 256}; }, {"/exchange/data", "(n_angles, nv, nu)"});
    add_ct("data_is_text", [](CtFile& c) { c.data_as_string = true; }, {"/exchange/data", "string"});
    add_ct("theta_count_mismatch", [](CtFile& c) { c.theta = {0, 90, 180}; }, {"/exchange/theta", "3 angles"});
    add_ct("theta_nan", [](CtFile& c) { c.theta = std::vector<float>(12, NAN); }, {"/lumen/geometry", "angle 0"});
    add_ct("data_nan", [](CtFile& c) { c.data_at[5] = NAN; }, {"/exchange/data", "nan"});
    add_ct("data_negative", [](CtFile& c) { c.data_at[7] = -3; }, {"/exchange/data", "-3"});
    add_ct("dsd_below_dso", [](CtFile& c) { c.attrs["dsd_mm"] = 50; }, {"/lumen/geometry", "dsd_mm"});
    add_ct("voxel_zero", [](CtFile& c) { c.attrs["voxel_mm"] = 0; }, {"/lumen/geometry", "voxel"});
    add_ct("no_flat_no_i0", [](CtFile& c) { c.attrs.erase("i0"); }, {"data_white", "i0"});
    add_ct("huge_volume",
           [](CtFile& c) {
               c.attrs["nx"] = c.attrs["ny"] = c.attrs["nz"] = 1000000;
               c.attrs["voxel_mm"] = 1e-5;
           },
           {"/lumen/geometry", "nx 1000000", "memory"}, "LUMEN_MEMORY_LIMIT=1G");
    add_ct("volume_beyond_2_pow_20", [](CtFile& c) { c.attrs["nx"] = 2000000; c.attrs["voxel_mm"] = 1e-6; },
           {"/lumen/geometry", "nx 2000000"});
    add_ct("declared_data_overflows", [](CtFile& c) { c.declared_data = {12, 1000000000, 1000000000}; },
           {"/exchange/data", "64 bits"});
    add_ct("declared_data_too_big", [](CtFile& c) { c.declared_data = {12, 100000, 100000}; },
           {"/exchange/data", "memory"}, "LUMEN_MEMORY_LIMIT=1G");
    // info says whether lumen can read a file: not when its reconstruction cannot fit.
    v.push_back({"ct_info_huge_volume", "lumen-ct", "info {in}",
                 ct([](CtFile& c) {
                     c.attrs["nx"] = c.attrs["ny"] = c.attrs["nz"] = 1000000;
                     c.attrs["voxel_mm"] = 1e-5;
                 }),
                 {"/lumen/geometry", "memory"}, "in.h5", "LUMEN_MEMORY_LIMIT=1G"});
    v.push_back({"mri_info_declared_kspace_too_big", "lumen-mri", "info {in}",
                 mri([](MriFile& m) { m.declared = {1, 1000000, 272, 616}; }), {"/kspace", "memory"}, "in.h5",
                 "LUMEN_MEMORY_LIMIT=1G"});
    // Issue #10 item 5: a corrupt global-heap entry behind a variable-length string attribute made
    // libHDF5 1.10 copy past its buffers (H5HG_read) and `lumen-ct info` die of SIGSEGV. Found by
    // fuzz_ct; the string is now read in a child process.
    v.push_back({"ct_corrupt_vlen_string_attribute", "lumen-ct", "info {in}",
                 [](const std::string&, const std::string& in) {
                     fs::copy_file(std::string(LUMEN_SOURCE_DIR) +
                                       "/fuzz/upstream/fuzz_ct/hdf5_H5HG_read_memcpy_overlap_vlen_string_attribute.h5",
                                   in);
                 },
                 {"in.h5", "attribute", "crashed"}});
    v.push_back({"ct_bad_method", "lumen-ct", "recon {in} -o {out} --method magic -q", valid_for("lumen-ct"),
                 {"--method", "magic"}});

    // MRI
    auto add_mri = [&](const std::string& name, std::function<void(MriFile&)> edit, std::vector<std::string> needles,
                       std::string args = "", std::string env = "") {
        v.push_back({"mri_" + name, "lumen-mri", args.empty() ? mri_recon() : args, mri(std::move(edit)),
                     std::move(needles), "in.h5", env});
    };
    add_mri("no_kspace", [](MriFile& m) { m.kspace = false; }, {"in.h5", "/kspace"});
    add_mri("kspace_real", [](MriFile& m) { m.real_kspace = true; }, {"/kspace", "float32", "complex"});
    add_mri("kspace_rank_2", [](MriFile& m) { m.shape = {16, 12}; }, {"/kspace", "(16, 12)"});
    add_mri("kspace_unknown_members", [](MriFile& m) { m.re_name = "a"; m.im_name = "b"; }, {"/kspace", "{a, b}"});
    add_mri("kspace_nan", [](MriFile& m) { m.re_at[3] = NAN; }, {"k-space slice 0", "NaN"});
    add_mri("kspace_all_zero", [](MriFile& m) { m.scale = 0; }, {"k-space slice 0", "all zero"});
    add_mri("kspace_near_1e31", [](MriFile& m) { m.scale = 1e31f; }, {"k-space slice 0", "rescale"});
    add_mri("kspace_near_1e_minus_35", [](MriFile& m) { m.scale = 1e-35f; }, {"k-space slice 0", "rescale"});
    add_mri("mask_1d_nan", [](MriFile& m) { m.mask = std::vector<float>(12, 1.0f); m.mask[4] = NAN; },
            {"/mask", "non-finite"});
    add_mri("mask_wrong_length", [](MriFile& m) { m.mask = std::vector<float>(5, 1.0f); }, {"/mask", "5 entries"});
    add_mri("declared_kspace_overflows", [](MriFile& m) { m.declared = {1, 1100000000000ull, 272, 61681}; },
            {"/kspace", "64 bits"});
    add_mri("declared_kspace_too_big", [](MriFile& m) { m.declared = {1, 1000000, 272, 616}; },
            {"/kspace", "memory"}, "", "LUMEN_MEMORY_LIMIT=1G");
    add_mri("header_not_xml", [](MriFile& m) { m.header_xml = "<ismrmrdHeader"; }, {"/ismrmrd_header"});
    // Issue #10 item 5/8: libismrmrd copied as many samples as the header claims (heap over-read).
    v.push_back({"mri_ismrmrd_acquisition_shorter_than_its_header", "lumen-mri", mri_recon(),
                 [](const std::string&, const std::string& in) {
                     std::string log;
                     ASSERT_EQ(test::run_command(test::app_path("lumen-mri") + " simulate " + in +
                                                     " --size 32x16 --coils 2 --format ismrmrd -q",
                                                 &log),
                               0)
                         << log;
                     test::set_ismrmrd_samples(in, 3, 4000);
                 },
                 {"/dataset/data", "acquisition 3", "4000 samples"}});
    // fuzz_mri (fuzz/reproducers/fuzz_mri/ismrmrd_data_heap_object_shorter_than_its_length.h5): a
    // record whose header (65535 samples, 1 channel) and stored length (131070 floats) agree while
    // its heap object holds 256 bytes; libHDF5 1.10 and libismrmrd 1.8 read 512 KB from it (under
    // ASan: a heap over-read; without: a later, unrelated refusal or garbage accepted).
    v.push_back({"mri_ismrmrd_heap_object_shorter_than_its_length", "lumen-mri", mri_recon(),
                 [](const std::string&, const std::string& in) {
                     std::string log;
                     ASSERT_EQ(test::run_command(test::app_path("lumen-mri") + " simulate " + in +
                                                     " --size 32x16 --coils 1 --format ismrmrd -q",
                                                 &log),
                               0)
                         << log;
                     test::set_ismrmrd_samples(in, 5, 65535);
                     test::set_ismrmrd_data_length(in, 5, 131070);
                 },
                 {"/dataset/data", "acquisition 5", "131070 elements", "256 bytes"}});
    // A table declaring a billion acquisitions in a tiny file: refused at once, not read record by
    // record for hours.
    v.push_back({"mri_ismrmrd_declares_a_billion_acquisitions", "lumen-mri", "info {in}",
                 [](const std::string&, const std::string& in) {
                     test::H5Craft f(in);
                     f.declared_ismrmrd(1000000000, "<ismrmrdHeader/>");
                 },
                 {"/dataset/data", "1000000000 acquisitions"}});
    add_mri("lambda_minus_one", [](MriFile&) {}, {"--lambda"}, "recon {in} -o {out} --method cg-sense --lambda -1 -q");
    add_mri("bad_maps", [](MriFile&) {}, {"--maps"}, "recon {in} -o {out} --method cg-sense --maps guess -q");
    // The library names option fields; lumen-mri reports the flag that set each.
    add_mri("bad_method", [](MriFile&) {}, {"--method", "grappa"}, "recon {in} -o {out} --method grappa -q");
    add_mri("bad_mask_kind", [](MriFile&) {}, {"--mask", "spiral"}, "recon {in} -o {out} --accel 4 --mask spiral -q");
    add_mri("accel_below_one", [](MriFile&) {}, {"--accel", "at least 1"}, "recon {in} -o {out} --accel 0.5 -q");
    add_mri("espirit_kernel_zero", [](MriFile&) {}, {"--espirit-kernel"},
            "recon {in} -o {out} --method cg-sense --espirit-kernel 0 -q");
    add_mri("pocs_iters_zero", [](MriFile&) {}, {"--pocs-iters"}, "recon {in} -o {out} --pocs-iters 0 -q");
    add_mri("coil_energy_above_one", [](MriFile&) {}, {"--coil-energy"},
            "recon {in} -o {out} --method cg-sense --coil-energy 1.5 -q");
    add_mri("virtual_coils_negative", [](MriFile&) {}, {"--virtual-coils"},
            "recon {in} -o {out} --method cg-sense --virtual-coils -1 -q");

    // Ptychography
    auto add_p = [&](const std::string& name, std::function<void(PtychoFile&)> edit, std::vector<std::string> needles) {
        v.push_back({"ptycho_" + name, "lumen-ptycho", ptycho_recon(), ptycho(std::move(edit)), std::move(needles)});
    };
    add_p("no_data", [](PtychoFile& p) { p.data = false; }, {k_data, "missing"});
    add_p("data_rank_2", [](PtychoFile& p) { p.data_shape = {4, 256}; }, {k_data, "rank"});
    add_p("data_negative", [](PtychoFile& p) { p.data_at[9] = -1; }, {k_data, "-1"});
    add_p("data_all_zero", [](PtychoFile& p) { p.data_scale = 0; }, {k_data, "all zero"});
    add_p("no_distance", [](PtychoFile& p) { p.distance_ds = false; }, {k_distance, "missing"});
    add_p("distance_zero", [](PtychoFile& p) { p.distance = 0; }, {k_distance, "positive"});
    add_p("distance_nan", [](PtychoFile& p) { p.distance = NAN; }, {k_distance, "positive"});
    add_p("translation_shape", [](PtychoFile& p) { p.translation_shape = {2, 6}; }, {k_translation, "(2, 6)"});
    add_p("translation_nan", [](PtychoFile& p) { p.translation[4] = NAN; }, {k_translation, "non-finite"});
    add_p("translation_1e15", [](PtychoFile& p) { p.translation[3] = 1e15f; }, {k_translation, "units"});
    add_p("mask_nan", [](PtychoFile& p) { p.float_mask = std::vector<float>(256, 0.0f); p.float_mask[17] = NAN; },
          {k_mask, "whole numbers"});
    add_p("probe_all_zero", [](PtychoFile& p) { p.probe = std::vector<float>(512, 0.0f); }, {k_illumination, "all zero"});
    add_p("probe_unknown_members",
          [](PtychoFile& p) {
              p.probe = std::vector<float>(512, 1.0f);
              p.probe_re = "x";
              p.probe_im = "y";
          },
          {k_illumination, "{x, y}"});
    v.push_back({"ptycho_bad_loss", "lumen-ptycho", "recon {in} -o {out} --loss square -q", valid_for("lumen-ptycho"),
                 {"--loss", "square"}});
    return v;
}

std::string substitute(std::string s, const std::string& key, const std::string& value) {
    for (auto pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + value.size()))
        s.replace(pos, key.size(), value);
    return s;
}

// Names in `dir` other than the ones that were there before: leftovers of the run.
std::vector<std::string> new_entries(const std::string& dir, const std::vector<std::string>& before) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (std::find(before.begin(), before.end(), name) == before.end()) out.push_back(name);
    }
    return out;
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, RefusedWithExit2NamingTheProblemAndNothingWritten) {
    const Case& c = GetParam();
    const std::string dir = test::temp_dir();
    const std::string in = dir + "/" + c.in_name, out = dir + "/out.h5";
    c.make(dir, in);
    std::error_code ec;
    const bool in_regular = fs::is_regular_file(fs::symlink_status(in, ec));
    const std::string before = in_regular ? test::file_bytes(in) : "";
    const std::vector<std::string> listing = entries(dir);

    std::string args = substitute(substitute(substitute(c.args, "{in}", in), "{out}", out), "{dir}", dir);
    // timeout: a program that blocks (on a FIFO, say) fails the test instead of hanging it.
    const std::string cmd = (c.env.empty() ? "" : "env " + c.env + " ") + "timeout 60 " + test::app_path(c.app) + " " + args;
    std::string log;
    const int code = test::run_command(cmd, &log);
    EXPECT_EQ(code, 2) << cmd << "\n" << log;
    for (const std::string& needle : c.needles) EXPECT_NE(log.find(needle), std::string::npos) << needle << "\n" << log;
    EXPECT_NE(log.find(c.app + ": error: "), std::string::npos) << log;
    EXPECT_FALSE(fs::exists(fs::symlink_status(out, ec))) << out;
    EXPECT_EQ(new_entries(dir, listing), std::vector<std::string>{}) << "left behind in " << dir;
    if (in_regular) {
        EXPECT_TRUE(test::file_bytes(in) == before) << "the input changed";
    }
}

INSTANTIATE_TEST_SUITE_P(Apps, BadInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The base files are valid: each case above fails because of its one change.
TEST(BadInputBase, TheUnbrokenFilesReconstruct) {
    for (const std::string app : {"lumen-ct", "lumen-mri", "lumen-ptycho"}) {
        const std::string dir = test::temp_dir() + "/" + app;
        fs::create_directories(dir);
        valid_for(app)(dir, dir + "/in.h5");
        std::string log;
        const std::string args = substitute(substitute(recon_for(app), "{in}", dir + "/in.h5"), "{out}", dir + "/out.h5");
        EXPECT_EQ(test::run_command(test::app_path(app) + " " + args, &log), 0) << app << "\n" << log;
        EXPECT_TRUE(fs::exists(dir + "/out.h5")) << app;
        // The .h5 and its PNG previews, and no staging directory.
        for (const std::string& name : entries(dir)) EXPECT_EQ(name.find(".lumen-tmp-"), std::string::npos) << name;
    }
}

// Item 3 of issue #10: when a PNG preview cannot be written, the older result stays in place
// (the .h5 is committed together with its previews, not before them).
TEST(BadInputOutputs, AFailedPreviewKeepsTheOldResult) {
    for (const std::string app : {"lumen-ct", "lumen-mri", "lumen-ptycho"}) {
        const std::string dir = test::temp_dir() + "/" + app;
        fs::create_directories(dir);
        valid_for(app)(dir, dir + "/in.h5");
        const std::string out = dir + "/out.h5";
        write_text(out, "the older result");
        // A directory where the first preview goes: that preview cannot be written.
        const std::string blocked = app == "lumen-ct" ? "p_axial.png" : app == "lumen-mri" ? "p_s000.png" : "p_object_amplitude.png";
        fs::create_directory(dir + "/" + blocked);
        const std::vector<std::string> listing = entries(dir);
        std::string log;
        const std::string args = "recon " + dir + "/in.h5 -o " + out + " --png " + dir + "/p -q";
        EXPECT_EQ(test::run_command(test::app_path(app) + " " + args, &log), 2) << app << "\n" << log;
        EXPECT_NE(log.find(blocked), std::string::npos) << log;
        EXPECT_EQ(test::file_bytes(out), "the older result") << app;
        EXPECT_EQ(new_entries(dir, listing), std::vector<std::string>{}) << app;
    }
}

}  // namespace
