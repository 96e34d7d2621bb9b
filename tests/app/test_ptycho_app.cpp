// lumen-ptycho end to end: simulate a CXI scan, reconstruct it through the program with each
// method, read the JSON summary and the output file; every bad input and usage error exits with 2.
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/ptycho/io.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

std::string app() { return test::app_path("lumen-ptycho"); }

nlohmann::json json_of(const std::string& output) {
    const auto start = output.find('{');
    return nlohmann::json::parse(output.substr(start));
}

// A small scan: 64 positions of 32x32, Poisson noise at 1e5 photons per frame.
std::string simulate(const std::string& name, const std::string& extra = "") {
    const std::string path = test::temp_path(name);
    std::string log;
    EXPECT_EQ(test::run_command(app() + " simulate " + path + " --frame 32 --positions 64 --photons 1e5 -q " + extra,
                                &log),
              0)
        << log;
    return path;
}

}  // namespace

TEST(PtychoApp, SimulateReconstructAndScore) {
    const std::string sim = simulate("scan.cxi"), out = test::temp_path("awf.h5"), png = test::temp_path("awf");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " info " + sim + " --json", &log), 0) << log;
    const auto info = json_of(log);
    EXPECT_EQ(info["program"], "lumen-ptycho");
    EXPECT_EQ(info["command"], "info");
    EXPECT_EQ(info["kind"], "scan");
    EXPECT_EQ(info["positions"], 64);
    EXPECT_EQ(info["has_truth"], true);
    EXPECT_EQ(info["has_probe"], true);
    ASSERT_EQ(test::run_command(app() + " info " + sim, &log), 0) << log;
    EXPECT_NE(log.find("readable by lumen"), std::string::npos);

    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + out + " --method awf --device cpu --json -q --png " + png,
                                &log),
              0)
        << log;
    const auto j = json_of(log);
    // The keys every --json summary starts with (docs/cli.md).
    EXPECT_EQ(j["program"], "lumen-ptycho");
    EXPECT_EQ(j["command"], "recon");
    EXPECT_TRUE(j.contains("lumen_version"));
    EXPECT_GT(j["time_s"].get<double>(), 0.0);
    EXPECT_EQ(j["stop_reason"], "max_iterations");
    EXPECT_EQ(j["iterations"], 100);
    // The file's probe is refined by default. Measured: 0.030 after the default 100 iterations.
    EXPECT_EQ(j["refined_probe"], true);
    EXPECT_LT(j["quality"]["nrmse"].get<double>(), 0.05);
    // The checks ran and passed; the fit is at the noise level (measured 0.89).
    EXPECT_EQ(j["warnings"], 0);
    EXPECT_GE(j["checks"].size(), 5u);
    EXPECT_GT(j["residual_ratio"].get<double>(), 0.7);
    EXPECT_LT(j["residual_ratio"].get<double>(), 1.3);
    for (const char* p : {"_object_amplitude.png", "_object_phase.png", "_probe_amplitude.png", "_probe_phase.png"})
        EXPECT_TRUE(std::filesystem::exists(png + p)) << p;
    const io::H5File f = io::H5File::open(out);
    EXPECT_EQ(f.info("/object").shape, Shape({j["object_shape"][0].get<index_t>(), j["object_shape"][1].get<index_t>()}));
    EXPECT_EQ(f.info("/probe").shape, Shape({32, 32}));
    EXPECT_EQ(f.info("/history/objective").shape, Shape({100}));
    EXPECT_EQ(f.attr_string("/", "method"), "awf");
    EXPECT_NEAR(f.attr_double("/", "residual_ratio"), j["residual_ratio"].get<double>(), 1e-9);
    EXPECT_EQ(f.attr_string("/", "loss"), "amplitude");
    EXPECT_NEAR(f.attr_double("/", "nrmse_object"), j["quality"]["nrmse"].get<double>(), 1e-12);
    EXPECT_NEAR(f.attr_double("/", "nrmse_probe"), j["quality"]["nrmse_probe"].get<double>(), 1e-12);

    // info describes the result too.
    ASSERT_EQ(test::run_command(app() + " info " + out + " --json", &log), 0) << log;
    const auto ri = json_of(log);
    EXPECT_EQ(ri["kind"], "result");
    EXPECT_EQ(ri["method"], "awf");
    EXPECT_EQ(ri["iterations"], 100);
    EXPECT_EQ(ri["object_shape"], j["object_shape"]);
    EXPECT_NEAR(ri["quality"]["nrmse"].get<double>(), j["quality"]["nrmse"].get<double>(), 1e-12);
    ASSERT_EQ(test::run_command(app() + " info " + out, &log), 0) << log;
    EXPECT_NE(log.find("ptychography reconstruction"), std::string::npos) << log;
    // Without --json the result lines go to stdout, and --quiet silences them.
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + test::temp_path("t.h5") + " --iters 5 --no-png", &log), 0)
        << log;
    EXPECT_NE(log.find("against the truth: NRMSE"), std::string::npos) << log;
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + test::temp_path("t.h5") + " --iters 5 --no-png -q", &log),
              0)
        << log;
    EXPECT_EQ(log, "");

    // The baselines through the same program. Measured after 30 iterations: WF 0.139, ePIE 0.078,
    // rPIE 0.044 (with the former default alpha 0.1; the limits hold with 0.5).
    for (const auto& [method, limit] : {std::pair<std::string, double>{"wf", 0.25}, {"epie", 0.15}, {"rpie", 0.08}}) {
        ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + test::temp_path(method + ".h5") +
                                        " --method " + method + " --iters 30 --json -q",
                                    &log),
                  0)
            << log;
        const auto m = json_of(log);
        EXPECT_EQ(m["method"], method);
        EXPECT_LT(m["quality"]["nrmse"].get<double>(), limit) << method;
    }
}

TEST(PtychoApp, FixedProbeOrientationAndFrameOrderOptions) {
    const std::string sim = simulate("opts.cxi");
    std::string log;
    const std::string out = " -o " + test::temp_path("o.h5") + " --iters 10 --json -q --no-png --no-orientation-check";
    ASSERT_EQ(test::run_command(app() + " recon " + sim + out + " --fixed-probe", &log), 0) << log;
    EXPECT_EQ(json_of(log)["refined_probe"], false);
    ASSERT_EQ(test::run_command(app() + " recon " + sim + out + " --orientation 3", &log), 0) << log;
    EXPECT_EQ(json_of(log)["orientation"], 3);
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --orientation 9", &log), 2) << log;
    EXPECT_NE(log.find("--orientation"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --frame-order middle", &log), 2) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --fixed-probe --refine-probe", &log), 2) << log;
}

// A file in another convention (frames in FFT order): info and recon warn and say what to pass;
// --strict makes the warning an error; the option reconstructs it.
TEST(PtychoApp, ChecksWarnAndStrictRefuses) {
    const std::string sim = simulate("centred.cxi");
    const ptycho::Scan s = ptycho::read_cxi(sim);
    const std::string path = test::temp_path("fftorder.cxi");
    {
        const index_t J = s.n_positions(), n = 32;
        Array<float> y(s.intensities.shape());
        for (index_t j = 0; j < J; ++j)
            for (index_t r = 0; r < n; ++r)
                for (index_t c = 0; c < n; ++c)
                    y[(j * n + r) * n + c] = s.intensities[(j * n + (r + n / 2) % n) * n + (c + n / 2) % n];
        io::H5Writer w(path);
        w.write(ptycho::cxi::data, y.view());
        const double dx = s.geometry.object_pixel_x_m(n);
        Array<float> t(Shape{J, 3});
        for (index_t j = 0; j < J; ++j) {
            t[3 * j] = float(s.positions[2 * j + 1] * dx);
            t[3 * j + 1] = float(s.positions[2 * j] * dx);
        }
        w.write(ptycho::cxi::translation, t.view());
        w.write_scalar(ptycho::cxi::distance, s.geometry.distance_m);
        w.write_scalar(ptycho::cxi::x_pixel_size, s.geometry.pixel_x_m);
        w.write_scalar(ptycho::cxi::y_pixel_size, s.geometry.pixel_y_m);
        w.write_scalar(ptycho::cxi::energy, s.geometry.energy_j);
        w.write(ptycho::cxi::illumination, s.probe.view());
        w.commit();
    }
    std::string log;
    ASSERT_EQ(test::run_command(app() + " info " + path, &log), 0) << log;
    EXPECT_NE(log.find("warning: [ptycho.frames_centred]"), std::string::npos) << log;
    EXPECT_NE(log.find("--frame-order) fft or auto"), std::string::npos) << log;
    EXPECT_NE(log.find("check: [ptycho.overlap] ok"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " info " + path + " --strict", &log), 2) << log;
    const std::string out = " --iters 30 --json --no-png --no-orientation-check -o ";
    ASSERT_EQ(test::run_command(app() + " recon " + path + out + test::temp_path("f.h5"), &log), 0) << log;
    auto j = json_of(log);
    EXPECT_GE(j["warnings"].get<int>(), 1);
    // A wrong model leaves a residual far above the noise (measured: ~40x).
    EXPECT_GT(j["residual_ratio"].get<double>(), 5.0);
    EXPECT_EQ(test::run_command(app() + " recon " + path + " --strict" + out + test::temp_path("strict.h5"), &log), 2) << log;
    EXPECT_NE(log.find("ptycho.frames_centred"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(test::temp_path("strict.h5")));
    ASSERT_EQ(test::run_command(app() + " recon " + path + " --frame-order auto --strict" + out + test::temp_path("auto.h5"), &log), 0) << log;
    j = json_of(log);
    EXPECT_EQ(j["frames_reordered"], true);
    EXPECT_EQ(j["warnings"], 0);
    EXPECT_LT(j["residual_ratio"].get<double>(), 2.0);
}

// Near field end to end: simulated with the Fresnel propagator (lambda z / (32 p)^2 = 0.05), the
// file says so, and recon picks the model.
TEST(PtychoApp, NearFieldScan) {
    const std::string sim = simulate("near.cxi", "--near-field --detector-pixel 1e-7 --distance 0.0033 --beam-diameter 26");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " info " + sim, &log), 0) << log;
    EXPECT_NE(log.find("near field (Fresnel)"), std::string::npos) << log;
    const std::string out = " --iters 40 --json -q --no-png --no-orientation-check --fixed-probe -o ";
    ASSERT_EQ(test::run_command(app() + " recon " + sim + out + test::temp_path("n.h5"), &log), 0) << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["propagation"], "near");
    // Measured: 0.052 after 40 iterations.
    EXPECT_LT(j["quality"]["nrmse"].get<double>(), 0.08);
    // At the noise level (measured 0.80).
    EXPECT_LT(j["residual_ratio"].get<double>(), 1.3);
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + test::temp_path("x.h5") + " --propagation sideways", &log), 2);
}

TEST(PtychoApp, BlindReconstructionWithoutAProbe) {
    const std::string sim = simulate("noprobe.cxi", "--no-probe --scan spiral");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + test::temp_path("blind.h5") +
                                    " --method awf --iters 120 --json -q",
                                &log),
              0)
        << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["probe_from_data"], true);
    EXPECT_EQ(j["refined_probe"], true);
    // Measured: object 0.065, probe 0.056.
    EXPECT_LT(j["quality"]["nrmse"].get<double>(), 0.1);
    EXPECT_LT(j["quality"]["nrmse_probe"].get<double>(), 0.1);
}

TEST(PtychoApp, BadInputAndUsageExitWithTwo) {
    const std::string sim = simulate("ok.cxi");
    std::string log;
    const std::string out = " -o " + test::temp_path("x.h5") + " -q";
    EXPECT_EQ(test::run_command(app() + " recon " + test::temp_path("nope.cxi") + out, &log), 2) << log;
    EXPECT_NE(log.find("nope.cxi"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --method gradient", &log), 2) << log;
    EXPECT_NE(log.find("--method"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --loss l2", &log), 2) << log;
    EXPECT_NE(log.find("--loss: unknown loss 'l2'"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --alpha -1", &log), 2) << log;
    EXPECT_NE(log.find("--alpha:"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + " -o " + sim + " -q", &log), 2) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --iters -3", &log), 2) << log;
    EXPECT_EQ(test::run_command(app() + " simulate " + test::temp_path("s.cxi") + " --scan zigzag -q", &log), 2) << log;
    EXPECT_EQ(test::run_command(app() + " simulate " + test::temp_path("s.cxi") + " --frame 4 -q", &log), 2) << log;
    EXPECT_NE(log.find("--frame: must be in [8, 4096], got 4"), std::string::npos) << log;
    if (!cuda_available()) {
        EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --device cuda", &log), 2) << log;
    }

    // Broken files: each is a lumen::Error naming what is wrong, exit code 2.
    const ptycho::Scan good = ptycho::read_cxi(sim);
    auto write_broken = [&](const std::string& name, bool drop_energy, bool negative, bool nan, index_t positions) {
        const std::string path = test::temp_path(name);
        io::H5Writer w(path);
        Array<float> data = good.intensities.clone();
        if (negative) data[10] = -1.0f;
        if (nan) data[11] = std::nanf("");
        w.write(ptycho::cxi::data, data.view());
        Array<float> t(Shape{positions, 3});
        for (index_t j = 0; j < positions; ++j) t[3 * j] = float(j) * 1e-7f;
        w.write(ptycho::cxi::translation, t.view());
        w.write_scalar(ptycho::cxi::distance, 2.0);
        w.write_scalar(ptycho::cxi::x_pixel_size, 75e-6);
        w.write_scalar(ptycho::cxi::y_pixel_size, 75e-6);
        if (!drop_energy) w.write_scalar(ptycho::cxi::energy, good.geometry.energy_j);
        w.commit();
        return path;
    };
    const std::string no_geometry = write_broken("nogeo.cxi", true, false, false, 64);
    const std::string negative = write_broken("neg.cxi", false, true, false, 64);
    const std::string nan = write_broken("nan.cxi", false, false, true, 64);
    const std::string shapes = write_broken("shape.cxi", false, false, false, 50);
    for (const auto& [path, fragment] : {std::pair<std::string, std::string>{no_geometry, "energy"},
                                        {negative, "non-negative"},
                                        {nan, "finite"},
                                        {shapes, "translation"}}) {
        EXPECT_EQ(test::run_command(app() + " recon " + path + out, &log), 2) << log;
        EXPECT_NE(log.find(fragment), std::string::npos) << log;
        EXPECT_EQ(test::run_command(app() + " info " + path, &log), 2) << log;
        EXPECT_FALSE(std::filesystem::exists(test::temp_path("x.h5")));
    }
}
