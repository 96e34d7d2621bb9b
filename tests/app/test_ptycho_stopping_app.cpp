// lumen-ptycho recon's stopping options end to end (docs/ptychography.md, "Stopping and
// defaults"): --stop and --tau refused with exit 2 naming the flag, --stop iterations runs exactly
// --iters, the default rule on photon counts, and the fall-back to the cap on data that are not
// counts, as the --json summary and the output file report them.
#include <nlohmann/json.hpp>

#include <string>

#include "lumen/io/hdf5.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

std::string app() { return test::app_path("lumen-ptycho"); }

nlohmann::json json_of(const std::string& output) {
    const auto start = output.find('{');
    return nlohmann::json::parse(output.substr(start));
}

std::string simulate(const std::string& name, const std::string& extra = "") {
    const std::string path = test::temp_path(name);
    std::string log;
    EXPECT_EQ(test::run_command(app() + " simulate " + path + " --frame 32 --positions 49 --photons 1e4 -q " + extra,
                                &log),
              0)
        << log;
    return path;
}

}  // namespace

TEST(PtychoStoppingApp, BadStopOptionsExitWithTwo) {
    const std::string sim = simulate("stop_bad.cxi");
    std::string log;
    const std::string out = " -o " + test::temp_path("stop_bad.h5") + " -q --no-png";
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --stop never", &log), 2) << log;
    EXPECT_NE(log.find("--stop"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --tau -1", &log), 2) << log;
    EXPECT_NE(log.find("--tau"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(app() + " recon " + sim + out + " --tau nan", &log), 2) << log;
    EXPECT_NE(log.find("--tau"), std::string::npos) << log;
}

TEST(PtychoStoppingApp, StopIterationsAndTheDefaultRule) {
    const std::string sim = simulate("stop_counts.cxi");
    std::string log;
    const std::string out = test::temp_path("stop_counts.h5");
    const std::string common = " -o " + out + " -q --no-png --json --no-orientation-check --method rpie";
    ASSERT_EQ(test::run_command(app() + " recon " + sim + common + " --stop iterations --iters 7", &log), 0) << log;
    auto j = json_of(log);
    EXPECT_EQ(j["iterations"], 7);
    EXPECT_EQ(j["stop_reason"], "max_iterations");
    EXPECT_EQ(j["stopping"], "iterations");
    EXPECT_FALSE(j.contains("discrepancy_tau"));

    // The default on photon counts: the rule is on, --iters is the cap.
    ASSERT_EQ(test::run_command(app() + " recon " + sim + common + " --iters 12", &log), 0) << log;
    j = json_of(log);
    EXPECT_EQ(j["stopping"], "discrepancy");
    EXPECT_EQ(j["iteration_cap"], 12);
    EXPECT_LE(j["iterations"].get<int>(), 12);
    // 1 - unknowns / measurements: 49 frames of 32x32, the object and the probe refined.
    EXPECT_GT(j["discrepancy_tau"].get<double>(), 0.7);
    EXPECT_LT(j["discrepancy_tau"].get<double>(), 0.95);
    const io::H5File f = io::H5File::open(out);
    EXPECT_EQ(f.attr_string("/", "stopping"), "discrepancy");
    EXPECT_EQ(f.attr_double("/", "iteration_cap"), 12);
    EXPECT_EQ(f.attr_double("/history", "discrepancy_tau"), j["discrepancy_tau"].get<double>());
}

TEST(PtychoStoppingApp, DataThatAreNotCountsRunToTheCapWithANote) {
    const std::string sim = simulate("stop_noiseless.cxi", "--noiseless");
    std::string log;
    const std::string out = test::temp_path("stop_noiseless.h5");
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + out +
                                    " -q --no-png --json --no-orientation-check --iters 9",
                                &log),
              0)
        << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["stopping"], "cap");
    EXPECT_EQ(j["iterations"], 9);
    EXPECT_EQ(j["stop_reason"], "max_iterations");
    EXPECT_NE(j["stopping_note"].get<std::string>().find("not photon counts"), std::string::npos) << log;
    const io::H5File f = io::H5File::open(out);
    EXPECT_NE(f.attr_string("/", "stopping_note").find("not photon counts"), std::string::npos);
    // Without --json the note is printed.
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + out + " --no-png --no-orientation-check --iters 3",
                                &log),
              0)
        << log;
    EXPECT_NE(log.find("note: the intensities are not photon counts"), std::string::npos) << log;
}
