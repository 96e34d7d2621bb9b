// lumen-ct end to end: simulate, info, recon with every method through the program (JSON summary,
// output file, PNG previews), project; every bad input and usage error exits with 2 and a message
// naming the problem.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "lumen/ct/io.hpp"
#include "lumen/io/hdf5.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

std::string app() { return test::app_path("lumen-ct"); }

nlohmann::json json_of(const std::string& output) {
    const auto start = output.find('{');
    return nlohmann::json::parse(output.substr(start));
}

std::string simulate(const std::string& name, const std::string& extra) {
    const std::string path = test::temp_path(name);
    std::string log;
    EXPECT_EQ(test::run_command(app() + " simulate " + path + " -q " + extra, &log), 0) << log;
    return path;
}

// Runs the program, expects exit code 2 and `needle` in its output.
void expect_exit_2(const std::string& args, const std::string& needle) {
    std::string log;
    EXPECT_EQ(test::run_command(app() + " " + args, &log), 2) << args << "\n" << log;
    EXPECT_NE(log.find(needle), std::string::npos) << args << "\n" << log;
}

}  // namespace

TEST(CtApp, SimulateInfoReconstructAndScore) {
    const std::string sim = simulate("scan.h5", "--size 48 --views 120");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " info " + sim + " --json", &log), 0) << log;
    const auto info = json_of(log);
    EXPECT_EQ(info["readable"], true);
    EXPECT_EQ(info["has_truth"], true);
    EXPECT_EQ(info["geometry"]["views"], 120);
    EXPECT_EQ(info["white_frames"], 10);
    ASSERT_EQ(test::run_command(app() + " info " + sim, &log), 0) << log;
    EXPECT_NE(log.find("readable by lumen"), std::string::npos);

    const std::string out = test::temp_path("fdk.h5");
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + out + " --method fdk --device cpu --json -q", &log), 0)
        << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["method"], "fdk");
    EXPECT_EQ(j["has_truth"], true);
    // Measured 27.2 dB (peak = the truth's maximum, 0.02 / mm).
    EXPECT_GT(j["quality"]["psnr_db"].get<double>(), 26.0);
    EXPECT_NEAR(j["quality"]["peak"].get<double>(), 0.02, 1e-6);
    // The keys every --json summary starts with (docs/cli.md).
    EXPECT_EQ(j["program"], "lumen-ct");
    EXPECT_EQ(j["command"], "recon");
    EXPECT_TRUE(j.contains("lumen_version"));
    EXPECT_GE(j["time_s"].get<double>(), 0.0);
    EXPECT_EQ(j["device"], "cpu");
    for (const auto& p : j["previews"]) EXPECT_TRUE(std::filesystem::exists(p.get<std::string>())) << p;
    EXPECT_EQ(j["previews"].size(), 3u);
    const io::H5File f = io::H5File::open(out);
    EXPECT_EQ(f.info("/volume").shape, Shape({48, 48, 48}));
    EXPECT_EQ(f.info("/volume").dtype, "float32");
    EXPECT_EQ(f.attr_string("/", "method"), "fdk");
    EXPECT_EQ(f.attr_string("/", "filter"), "ram-lak");
    EXPECT_TRUE(f.has_attr("/", "lumen_version"));
    EXPECT_NEAR(f.attr_double("/", "psnr_db"), j["quality"]["psnr_db"].get<double>(), 1e-9);
    // info describes the reconstruction it wrote (a volume, no /exchange/data).
    ASSERT_EQ(test::run_command(app() + " info " + out + " --json", &log), 0) << log;
    const auto vi = json_of(log);
    EXPECT_EQ(vi["kind"], "reconstruction");
    EXPECT_EQ(vi["command"], "info");
    EXPECT_EQ(vi["geometry"]["volume"], nlohmann::json({48, 48, 48}));
    EXPECT_EQ(vi["attributes"]["method"], "fdk");
    EXPECT_NEAR(vi["quality"]["psnr_db"].get<double>(), j["quality"]["psnr_db"].get<double>(), 1e-9);
    ASSERT_EQ(test::run_command(app() + " info " + out, &log), 0) << log;
    EXPECT_NE(log.find("CT reconstruction"), std::string::npos) << log;
    // --quiet silences everything but errors.
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + test::temp_path("quiet.h5") + " -q --no-png", &log),
              0);
    EXPECT_EQ(log, "");
    EXPECT_EQ(f.attr_string("/lumen/geometry", "type"), "cone");

    // The iterative methods through the program, a few iterations each on a smaller scan (their
    // quality is asserted in tests/ct/test_recon.cpp). Measured after 4 iterations: SIRT 21.0,
    // CGLS 24.2, TV 22.4, nonlinear 27.2 dB.
    const std::string small = simulate("small.h5", "--size 32 --views 60");
    for (const char* method : {"sirt", "cgls", "tv", "nonlinear"}) {
        const std::string o = test::temp_path(std::string(method) + ".h5");
        ASSERT_EQ(test::run_command(app() + " recon " + small + " -o " + o + " --method " + method +
                                        " --iters 4 --stop iterations --json -q --no-png",
                                    &log),
                  0)
            << log;
        const auto m = json_of(log);
        EXPECT_EQ(m["method"], method);
        EXPECT_EQ(m["iterations"], 4) << method;
        EXPECT_EQ(m["previews"].size(), 0u);
        EXPECT_GT(m["quality"]["psnr_db"].get<double>(), 19.0) << method;
        const io::H5File r = io::H5File::open(o);
        EXPECT_EQ(r.info("/history/objective").shape, Shape({4})) << method;
        // --stop iterations runs exactly --iters (by default it is a cap).
        EXPECT_EQ(m["stop_reason"], "max_iterations") << method;
        EXPECT_EQ(r.attr_string("/history", "stop_reason"), "max_iterations") << method;
        EXPECT_EQ(m["parameters"]["stopping"], "iterations") << method;
    }
    // With the default (the discrepancy rule, cap 30), CGLS stops where the misfit reaches tau and
    // says so in --json, the history and the attributes.
    const std::string o = test::temp_path("cgls_default.h5");
    ASSERT_EQ(test::run_command(app() + " recon " + small + " -o " + o + " --method cgls --json -q --no-png", &log), 0)
        << log;
    const auto m = json_of(log);
    EXPECT_EQ(m["stop_reason"], "discrepancy") << log;
    EXPECT_LT(m["iterations"].get<int>(), 30);
    EXPECT_LE(m["misfit"].get<double>(), m["discrepancy_tau"].get<double>());
    EXPECT_EQ(m["parameters"]["stopping"], "discrepancy");
    const io::H5File r = io::H5File::open(o);
    EXPECT_EQ(r.attr_string("/history", "stop_reason"), "discrepancy");
    EXPECT_EQ(r.info("/history/misfit").shape, Shape({m["iterations"].get<index_t>()}));
}

TEST(CtApp, ProjectAVolumeAndReconstructIt) {
    const std::string sim = simulate("scan.h5", "--size 24 --views 60 --noiseless");
    const std::string rec = test::temp_path("rec.h5"), proj = test::temp_path("proj.h5");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + rec + " -q --no-png", &log), 0) << log;
    // The reconstruction carries its geometry: project it back into a scan, then reconstruct that.
    ASSERT_EQ(test::run_command(app() + " project " + rec + " -o " + proj + " --i0 1e4 --json -q", &log), 0) << log;
    EXPECT_EQ(json_of(log)["geometry"]["views"], 60);
    EXPECT_EQ(json_of(log)["command"], "project");
    EXPECT_GE(json_of(log)["time_s"].get<double>(), 0.0);
    ASSERT_EQ(test::run_command(app() + " info " + proj + " --json", &log), 0) << log;
    EXPECT_EQ(json_of(log)["kind"], "scan");
    EXPECT_EQ(json_of(log)["has_truth"], true);
    ASSERT_EQ(test::run_command(app() + " recon " + proj + " -o " + test::temp_path("rr.h5") + " --json -q --no-png",
                                &log),
              0)
        << log;
    // FDK of the projection of an FDK volume against that volume; measured 31 dB.
    EXPECT_GT(json_of(log)["quality"]["psnr_db"].get<double>(), 27.0);
    // A geometry taken from another file must match the volume's size.
    const std::string other = simulate("other.h5", "--size 20 --views 10");
    expect_exit_2("project " + rec + " -o " + test::temp_path("bad.h5") + " --geometry " + other, "(nz, ny, nx)");
}

TEST(CtApp, BadInputExitsWithTwo) {
    const std::string dir = test::temp_dir();
    expect_exit_2("info " + dir + "/missing.h5", "missing.h5");
    expect_exit_2("recon " + dir + "/missing.h5 -o " + dir + "/out.h5", "missing.h5");

    // A file without the geometry group, and one with a negative distance.
    const std::string no_geom = dir + "/no_geometry.h5", neg = dir + "/negative.h5", starved = dir + "/starved.h5",
                      mismatch = dir + "/mismatch.h5";
    auto write = [](const std::string& path, bool geometry, double dso, float value, index_t white_nu) {
        io::H5Writer out(path);
        Array<float> data(Shape{4, 5, 6}), white(Shape{1, 5, white_nu}), theta(Shape{4});
        for (float& v : data) v = value;
        for (float& v : white) v = 1000.0f;
        for (index_t i = 0; i < 4; ++i) theta[i] = float(90 * i);
        out.write("/exchange/data", data.view());
        out.write("/exchange/data_white", white.view());
        out.write("/exchange/theta", theta.view());
        if (geometry) {
            out.create_group("/lumen/geometry");
            out.set_attr("/lumen/geometry", "type", "cone");
            out.set_attr("/lumen/geometry", "dso_mm", dso);
            out.set_attr("/lumen/geometry", "dsd_mm", 200.0);
            out.set_attr("/lumen/geometry", "du_mm", 3.0);
            out.set_attr("/lumen/geometry", "dv_mm", 3.0);
            for (const char* n : {"nx", "ny", "nz"}) out.set_attr("/lumen/geometry", n, std::int64_t(8));
            out.set_attr("/lumen/geometry", "voxel_mm", 1.0);
        }
        out.commit();
    };
    write(no_geom, false, 100, 500, 6);
    write(neg, true, -100, 500, 6);
    write(starved, true, 100, 0, 6);
    write(mismatch, true, 100, 500, 7);
    expect_exit_2("info " + no_geom, "/lumen/geometry");
    expect_exit_2("recon " + no_geom + " -o " + dir + "/o.h5", "/lumen/geometry");
    expect_exit_2("recon " + neg + " -o " + dir + "/o.h5", "dso_mm");
    expect_exit_2("recon " + starved + " -o " + dir + "/o.h5", "--clamp-transmission");
    expect_exit_2("recon " + mismatch + " -o " + dir + "/o.h5", "data_white");
    EXPECT_FALSE(std::filesystem::exists(dir + "/o.h5"));  // failed runs leave no output

    // Usage errors.
    const std::string sim = simulate("scan.h5", "--size 16 --views 8");
    expect_exit_2("recon " + sim + " -o " + sim, "input");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --method magic", "--method");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --filter box", "--filter");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --iters -3", "--iters");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --method sirt --stop soon", "--stop");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --method sirt --tau -1", "--tau");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --method sirt --objective poisson", "--objective");
    expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --method sirt --relaxation 3", "--relaxation");
    expect_exit_2("simulate " + dir + "/s.h5 --phantom cat", "--phantom");
    expect_exit_2("simulate " + dir + "/s.h5 --size 2", "--size");
    expect_exit_2("simulate " + dir + "/s.h5 --beam fan", "--beam");
    expect_exit_2("recon", "input");
    if (!cuda_available()) expect_exit_2("recon " + sim + " -o " + dir + "/o.h5 --device cuda", "GPU");
    EXPECT_FALSE(std::filesystem::exists(dir + "/o.h5"));
    // A short scan that FDK cannot handle: a clear message pointing to the iterative methods.
    const std::string short_scan = simulate("short.h5", "--size 16 --views 20 --arc 150");
    expect_exit_2("recon " + short_scan + " -o " + dir + "/o.h5", "fan angle");
}

// A scan as TomoPy/dxchange write it (no /lumen/geometry, the axis off the middle, theta in
// radians without a units attribute) through the program: the geometry from options, the axis
// estimated and reported in info, the summary and the output; a wrong --centre warns, --strict
// turns the warning into exit 2.
TEST(CtApp, ForeignScanWithOptionsAndChecks) {
    const std::string sim = simulate("par.h5", "--size 32 --views 90 --arc 180 --beam parallel --nu 48");
    const ct::Scan s = ct::read_scan(sim);
    const std::string foreign = test::temp_path("foreign.h5");
    {
        // Keep columns 0..39: the axis (column 23.5 of 48) is now 4 columns right of the middle.
        auto crop = [](const Array<float>& a) {
            const index_t n = a.dim(0), nv = a.dim(1), nu = a.dim(2), keep = nu - 8;
            Array<float> out(Shape{n, nv, keep});
            for (index_t k = 0; k < n * nv; ++k)
                for (index_t j = 0; j < keep; ++j) out[k * keep + j] = a[k * nu + j];
            return out;
        };
        io::H5Writer out(foreign);
        out.write("/exchange/data", crop(s.data).view());
        out.write("/exchange/data_white", crop(s.white).view());
        out.write("/exchange/data_dark", crop(s.dark).view());
        Array<float> theta(Shape{s.geometry.n_angles()});
        for (index_t i = 0; i < theta.size(); ++i) theta[i] = float(s.geometry.angles[std::size_t(i)]);
        out.write("/exchange/theta", theta.view());
        out.write("/lumen/truth/volume", s.truth.view());
        out.commit();
    }
    expect_exit_2("info " + foreign, "--beam, --pixel-mm");
    const std::string geometry = " --beam parallel --pixel-mm 1 --volume 32 ";
    std::string log;
    ASSERT_EQ(test::run_command(app() + " info " + foreign + geometry, &log), 0) << log;
    EXPECT_NE(log.find("check: [ct.rotation_axis] ok"), std::string::npos) << log;
    EXPECT_NE(log.find("warning: [ct.theta_units]"), std::string::npos) << log;  // radians inferred
    ASSERT_EQ(test::run_command(app() + " info " + foreign + geometry + "--theta-units rad --json 2>/dev/null", &log), 0)
        << log;
    const auto info = json_of(log);
    EXPECT_EQ(info["rotation_centre"]["source"], "estimated");
    EXPECT_NEAR(info["rotation_centre"]["column"].get<double>(), 23.5, 0.2);
    for (const auto& c : info["checks"]) EXPECT_TRUE(c["ok"].get<bool>()) << c;

    const std::string out = test::temp_path("foreign_fdk.h5");
    ASSERT_EQ(test::run_command(app() + " recon " + foreign + geometry + "--theta-units rad -o " + out +
                                    " --json -q --no-png",
                                &log),
              0)
        << log;
    const auto j = json_of(log);
    EXPECT_NEAR(j["rotation_centre"]["column"].get<double>(), 23.5, 0.2);
    EXPECT_GT(j["quality"]["psnr_db"].get<double>(), 25.0);  // measured 27.1 (15.8 with the axis in the middle)
    EXPECT_GT(j["noise_normalised_residual"].get<double>(), 0.5);
    EXPECT_LT(j["noise_normalised_residual"].get<double>(), 25.0);
    const io::H5File f = io::H5File::open(out);
    EXPECT_EQ(f.attr_string("/", "rotation_centre_source"), "estimated");
    EXPECT_NEAR(std::stod(f.attr_string("/", "rotation_centre_column")), 23.5, 0.2);
    EXPECT_TRUE(f.has_attr("/", "noise_normalised_residual"));
    EXPECT_NEAR(f.attr_double("/lumen/geometry", "offset_u_mm"), -4.0, 0.2);

    // The axis forced to the middle: a warning naming the better column; --strict refuses.
    ASSERT_EQ(test::run_command(app() + " recon " + foreign + geometry + "--theta-units rad --centre 19.5 -o " + out +
                                    " --no-png",
                                &log),
              0)
        << log;
    EXPECT_NE(log.find("warning: [ct.rotation_axis]"), std::string::npos) << log;
    expect_exit_2("recon " + foreign + geometry + "--theta-units rad --centre 19.5 --strict -o " + out + " --no-png",
                  "ct.rotation_axis");
    expect_exit_2("recon " + foreign + geometry + "--centre middle -o " + out, "--centre");
    expect_exit_2("recon " + foreign + geometry + "--rotation left -o " + out, "--rotation");
    expect_exit_2("recon " + foreign + geometry + "--theta-units grad -o " + out, "--theta-units");
}
