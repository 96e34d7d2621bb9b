// lumen-ptycho with a multi-slice object (docs/ptychography.md, "Multi-slice"): simulate a
// two-slice scan, see it in `info`, reconstruct it with the distance the file states, find the
// slices in the result and in its `info`; the bad flag combinations exit with 2 naming the flag.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/ptycho/io.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

std::string app() { return test::app_path("lumen-ptycho"); }

nlohmann::json json_of(const std::string& output) { return nlohmann::json::parse(output.substr(output.find('{'))); }

}  // namespace

TEST(PtychoMultisliceApp, SimulateInfoReconstructInfo) {
    const std::string sim = test::temp_path("thick.cxi"), out = test::temp_path("thick.h5");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " simulate " + sim +
                                    " --frame 16 --positions 16 --photons 1e5 --slices 2 --slice-distance 2e-5 -q",
                                &log),
              0)
        << log;
    ASSERT_EQ(test::run_command(app() + " info " + sim + " --json", &log), 0) << log;
    const auto info = json_of(log);
    EXPECT_EQ(info["truth_slices"], 2);
    EXPECT_DOUBLE_EQ(info["slice_distance_m"].get<double>(), 2e-5);
    ASSERT_EQ(test::run_command(app() + " info " + sim, &log), 0) << log;
    EXPECT_NE(log.find("slice distance"), std::string::npos) << log;

    // The distance comes from the file.
    ASSERT_EQ(test::run_command(app() + " recon " + sim + " -o " + out + " --slices 2 --iters 5 --no-png --json -q", &log), 0)
        << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["slices"], 2);
    EXPECT_DOUBLE_EQ(j["slice_distance_m"].get<double>(), 2e-5);
    const io::H5File f = io::H5File::open(out);
    ASSERT_TRUE(f.is_dataset("/slices"));
    EXPECT_EQ(f.info("/slices").shape.dims()[0], 2);
    EXPECT_EQ(f.info("/slices").shape.drop_front(), f.info("/object").shape);
    ASSERT_EQ(test::run_command(app() + " info " + out + " --json", &log), 0) << log;
    EXPECT_EQ(json_of(log)["slices"], 2);
    ASSERT_EQ(test::run_command(app() + " info " + out, &log), 0) << log;
    EXPECT_NE(log.find("slices"), std::string::npos) << log;
}

TEST(PtychoMultisliceApp, BadFlagsExitWith2NamingTheFlag) {
    const std::string thin = test::temp_path("thin.cxi"), out = test::temp_path("never.h5");
    std::string log;
    ASSERT_EQ(test::run_command(app() + " simulate " + thin + " --frame 16 --positions 9 -q", &log), 0) << log;
    struct Case {
        std::string args, needle;
    };
    for (const Case& c : {Case{"recon " + thin + " -o " + out + " --slices 2", "--slice-distance"},
                          Case{"recon " + thin + " -o " + out + " --slices 2 --slice-distance 1e-5 --method epie", "--slices"},
                          Case{"recon " + thin + " -o " + out + " --slices 2 --slice-distance 1e-5 --refine-positions",
                               "--slices"},
                          Case{"recon " + thin + " -o " + out + " --slices 0", "--slices"},
                          Case{"recon " + thin + " -o " + out + " --slices 2 --slice-distance -1", "--slice-distance"},
                          Case{"simulate " + out + " --slices 2", "--slice-distance"}}) {
        const std::string extra = c.args.rfind("recon", 0) == 0 ? " --no-png -q" : " -q";
        EXPECT_EQ(test::run_command(app() + " " + c.args + extra, &log), 2) << c.args << "\n" << log;
        EXPECT_NE(log.find(c.needle), std::string::npos) << c.args << "\n" << log;
        EXPECT_FALSE(std::filesystem::exists(out)) << c.args;
    }
}
