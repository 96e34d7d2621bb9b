// lumen-mri end to end: simulate a fastMRI-layout file, reconstruct it through the program, read
// the JSON summary and the output file; every bad input and usage error exits with code 2.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "lumen/io/hdf5.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {

std::string mri() { return test::app_path("lumen-mri"); }

nlohmann::json json_of(const std::string& output) {
    // The JSON object is the last thing printed; progress lines go to stderr (merged here).
    const auto start = output.find('{');
    return nlohmann::json::parse(output.substr(start));
}

}  // namespace

TEST(MriApp, SimulateReconstructAndScore) {
    const std::string sim = test::temp_path("sim.h5"), out = test::temp_path("out.h5");
    const std::string png = test::temp_path("png");
    std::string log;
    ASSERT_EQ(test::run_command(mri() + " simulate " + sim + " --size 128x96 --coils 6 --slices 2 --noise 0.01 -q", &log), 0)
        << log;
    ASSERT_EQ(test::run_command(mri() + " info " + sim + " --json", &log), 0) << log;
    const auto info = json_of(log);
    EXPECT_EQ(info["slices"], 2);
    EXPECT_EQ(info["coils"], 6);
    EXPECT_EQ(info["has_truth"], true);

    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + out +
                                    " --method l1-wavelet --accel 6 --mask poisson --iters 30 --device cpu --json -q --png " + png,
                                &log),
              0)
        << log;
    const auto j = json_of(log);
    EXPECT_NEAR(j["acceleration"].get<double>(), 6.0, 0.15);
    // Measured: SSIM 0.993, PSNR 42.9 dB on this scan (zero-filled: 0.601, 23.3 dB).
    EXPECT_GT(j["quality"]["ssim"].get<double>(), 0.9);
    EXPECT_GT(j["quality"]["psnr_db"].get<double>(), 30.0);
    EXPECT_EQ(j["previews"].size(), 4u);
    for (const auto& p : j["previews"]) EXPECT_TRUE(std::filesystem::exists(p.get<std::string>()));
    const io::H5File f = io::H5File::open(out);
    EXPECT_EQ(f.info("/reconstruction").shape, Shape({2, 64, 64}));
    EXPECT_EQ(f.attr_string("/", "method"), "l1-wavelet");

    // Zero-filled is worse than the CS result on the same mask.
    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + test::temp_path("zf.h5") +
                                    " --method zf --accel 6 --mask poisson --json -q",
                                &log),
              0)
        << log;
    EXPECT_LT(json_of(log)["quality"]["ssim"].get<double>(), j["quality"]["ssim"].get<double>() - 0.1);

    // ESPIRiT maps for every slice.
    const std::string maps = test::temp_path("maps.h5");
    ASSERT_EQ(test::run_command(mri() + " espirit " + sim + " -o " + maps + " --json -q", &log), 0) << log;
    EXPECT_EQ(io::H5File::open(maps).info("/sensitivities").shape, Shape({2, 6, 128, 96}));
    EXPECT_EQ(json_of(log)["command"], "espirit");

    // The common JSON keys, and info on what recon and espirit wrote.
    for (const char* key : {"program", "command", "lumen_version", "time_s", "input", "output", "device", "method",
                            "iterations", "stop_reason"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["program"], "lumen-mri");
    EXPECT_EQ(j["command"], "recon");
    ASSERT_EQ(test::run_command(mri() + " info " + out + " --json", &log), 0) << log;
    auto w = json_of(log);
    EXPECT_EQ(w["kind"], "reconstruction");
    EXPECT_EQ(w["shape"], nlohmann::json({2, 64, 64}));
    EXPECT_EQ(w["attributes"]["method"], "l1-wavelet");
    ASSERT_EQ(test::run_command(mri() + " info " + maps + " --json", &log), 0) << log;
    w = json_of(log);
    EXPECT_EQ(w["kind"], "maps");
    EXPECT_EQ(w["shape"], nlohmann::json({2, 6, 128, 96}));
    ASSERT_EQ(test::run_command(mri() + " info " + out, &log), 0) << log;
    EXPECT_NE(log.find("reconstruction"), std::string::npos) << log;

    // --quiet: nothing but errors.
    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + test::temp_path("q.h5") + " --method zf -q --no-png", &log),
              0);
    EXPECT_EQ(log, "");
}

TEST(MriApp, FileMaskAndIsmrmrdInput) {
    // An undersampled file keeps its own mask; ISMRMRD input reconstructs too.
    const std::string sim = test::temp_path("under.h5"), mrd = test::temp_path("scan.mrd"), out = test::temp_path("o.h5");
    std::string log;
    ASSERT_EQ(test::run_command(mri() + " simulate " + sim + " --size 96x80 --coils 4 --accel 4 --mask equispaced -q", &log), 0)
        << log;
    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + out + " --method cg-sense --iters 5 --json -q", &log), 0)
        << log;
    EXPECT_EQ(json_of(log)["mask_source"], "file");
    ASSERT_EQ(test::run_command(mri() + " simulate " + mrd + " --size 96x80 --coils 4 --format ismrmrd -q", &log), 0) << log;
    ASSERT_EQ(test::run_command(mri() + " recon " + mrd + " -o " + out + " --method tv --iters 5 --accel 3 --json -q", &log), 0)
        << log;
    const auto j = json_of(log);
    EXPECT_EQ(j["scan"]["format"], "ismrmrd");
    EXPECT_EQ(j["mask_source"], "generated");
}

TEST(MriApp, BadInputExitsWithTwo) {
    const std::string dir = test::temp_dir();
    const std::string sim = dir + "/sim.h5";
    std::string log;
    ASSERT_EQ(test::run_command(mri() + " simulate " + sim + " --size 64x48 --coils 2 -q", &log), 0) << log;
    {
        io::H5Writer w(dir + "/nokspace.h5");
        w.write_scalar("/something", 1.0);
        w.commit();
    }
    {
        io::H5Writer w(dir + "/zeros.h5");
        w.write("/kspace", Array<complex64>(Shape{1, 2, 16, 16}));
        w.commit();
    }
    {
        std::ofstream(dir + "/text.h5") << "not hdf5";
    }
    const std::string o = " -o " + dir + "/out.h5 -q";
    const std::vector<std::string> cases = {
        mri() + " recon " + dir + "/missing.h5" + o,
        mri() + " recon " + dir + "/text.h5" + o,
        mri() + " recon " + dir + "/nokspace.h5" + o,
        mri() + " recon " + dir + "/zeros.h5" + o,
        mri() + " recon " + sim + " -o " + sim + " -q",                  // output = input
        mri() + " recon " + sim + o + " --method grappa",                 // unknown method
        mri() + " recon " + sim + o + " --accel 4 --mask spiral",         // unknown mask
        mri() + " recon " + sim + o + " --accel 0.5",                     // acceleration < 1
        mri() + " recon " + sim + o + " --accel 4.5 --mask equispaced",   // equispaced needs an integer
        mri() + " recon " + sim + o + " --lambda -3",
        mri() + " recon " + sim + o + " --accel 8 --center-fraction 0.02 --method cg-sense",  // ACS too small for ESPIRiT
        mri() + " recon " + sim + o + " --device banana",
        mri() + " recon " + sim + o + " --maps telepathy",
        mri() + " simulate " + dir + "/s.h5 --size 8x8 -q",
        mri() + " simulate " + dir + "/s.h5 --coils 0 -q",
        mri() + " simulate " + dir + "/s.h5 --size 12xq -q",
        mri() + " info " + dir + "/nokspace.h5",
        mri() + " frobnicate",
    };
    for (const auto& c : cases) {
        std::string out;
        EXPECT_EQ(test::run_command(c, &out), 2) << c << "\n" << out;
        EXPECT_NE(out.find("error"), std::string::npos) << c << "\n" << out;
    }
    EXPECT_FALSE(std::filesystem::exists(dir + "/out.h5"));
}

TEST(MriApp, StopFlags) {
    const std::string dir = test::temp_dir();
    const std::string sim = dir + "/stop.h5", out = dir + "/stop_out.h5";
    std::string log;
    ASSERT_EQ(test::run_command(mri() + " simulate " + sim + " --size 128x96 --coils 4 --noise 0.05 -q", &log), 0) << log;
    // The default: the discrepancy stop, --iters a cap, the reason in the summary and the file
    // (a tau of 3 is reached within CG-SENSE's cap of 30 on this scan).
    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + out + " --method cg-sense --tau 3 --accel 4 --json -q --no-png",
                                &log),
              0)
        << log;
    auto j = json_of(log);
    EXPECT_EQ(j["stopping"], "discrepancy");
    EXPECT_EQ(j["discrepancy_tau"].get<double>(), 3.0);
    const std::string why = j["stop_reason"];
    EXPECT_EQ(why, "discrepancy");
    EXPECT_LT(j["iterations"].get<int>(), 30);
    EXPECT_EQ(j["noise_source"], "readout margin");
    {
        const io::H5File f = io::H5File::open(out);
        EXPECT_EQ(f.attr_string("/", "stopping"), "discrepancy");
        EXPECT_EQ(f.attr_string("/history", "slice_stop_reasons"), why);
    }
    // --stop iterations: exactly --iters.
    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + out +
                                    " --method l1-wavelet --accel 4 --stop iterations --iters 6 --no-cycle-spinning "
                                    "--json -q --no-png",
                                &log),
              0)
        << log;
    j = json_of(log);
    EXPECT_EQ(j["iterations"], 6);
    EXPECT_EQ(j["stop_reason"], "max_iterations");
    EXPECT_EQ(j["cycle_spinning"], false);
    EXPECT_EQ(io::H5File::open(out).attr_string("/", "cycle_spinning"), "off");
    // A given noise variance is used as given.
    ASSERT_EQ(test::run_command(mri() + " recon " + sim + " -o " + out +
                                    " --method cg-sense --accel 4 --noise-variance 2.5e-3 --json -q --no-png",
                                &log),
              0)
        << log;
    j = json_of(log);
    EXPECT_EQ(j["noise_source"], "given");
    EXPECT_DOUBLE_EQ(j["noise_variance"].get<double>(), 2.5e-3);
    // Bad values: exit 2, naming the flag.
    const std::pair<std::string, std::string> bad[] = {
        {" --stop sometimes", "--stop"}, {" --tau -1", "--tau"}, {" --noise-variance -2", "--noise-variance"}};
    for (const auto& [args, flag] : bad) {
        EXPECT_EQ(test::run_command(mri() + " recon " + sim + " -o " + out + " -q" + args, &log), 2) << args << "\n" << log;
        EXPECT_NE(log.find(flag), std::string::npos) << args << "\n" << log;
    }
}

TEST(MriApp, PlausibilityChecksInInfoAndRecon) {
    // A partial-Fourier scan with bipolar (reversed) readouts, as lumen simulates it.
    const std::string dir = test::temp_dir();
    const std::string mrd = dir + "/pf_rev.mrd", out = dir + "/o.h5";
    std::string log;
    ASSERT_EQ(test::run_command(mri() + " simulate " + mrd +
                                    " --size 96x64 --coils 4 --noise 0.02 --format ismrmrd --reverse-lines --partial-fourier 0.75 -q",
                                &log),
              0)
        << log;
    // info: a line per check, passed ones included.
    ASSERT_EQ(test::run_command(mri() + " info " + mrd, &log), 0) << log;
    for (const char* id : {"mri.kspace_centre", "mri.reversed_lines", "mri.noise_prewhitening", "mri.partial_fourier",
                           "mri.readout_oversampling"})
        EXPECT_NE(log.find(std::string("check: [") + id + "] ok"), std::string::npos) << id << "\n" << log;
    EXPECT_NE(log.find("24 readouts flagged ACQ_IS_REVERSE"), std::string::npos) << log;
    ASSERT_EQ(test::run_command(mri() + " info " + mrd + " --json -q", &log), 0) << log;
    const auto info = json_of(log);
    EXPECT_EQ(info["reversed_lines"], 24);  // the odd lines of the 48 acquired
    EXPECT_EQ(info["partial_fourier"], true);
    EXPECT_EQ(info["warnings"], 0);

    // zf fills the left-out part by POCS: no warning, no residual (it fits the samples exactly).
    ASSERT_EQ(test::run_command(mri() + " recon " + mrd + " -o " + out + " --method zf --json -q --no-png", &log), 0) << log;
    auto j = json_of(log);
    EXPECT_EQ(j["warnings"], 0);
    EXPECT_TRUE(j["noise_normalised_residual"].is_null());
    // CG-SENSE fills it with a phase-constrained model, and ends with a noise-normalised residual.
    ASSERT_EQ(test::run_command(mri() + " recon " + mrd + " -o " + out + " --method cg-sense --iters 10 --json -q --no-png",
                                &log),
              0)
        << log;
    j = json_of(log);
    EXPECT_EQ(j["warnings"], 0);
    EXPECT_EQ(j["noise_source"], "readout margin");
    ASSERT_TRUE(j["noise_normalised_residual"].is_number());
    EXPECT_GT(j["noise_normalised_residual"].get<double>(), 0.3);
    // Without filling, it warns; --strict turns the warning into an error for pipelines.
    ASSERT_EQ(test::run_command(mri() + " recon " + mrd + " -o " + out +
                                    " --method cg-sense --iters 5 --partial-fourier zero-fill --json -q --no-png",
                                &log),
              0)
        << log;
    j = json_of(log);
    EXPECT_EQ(j["warnings"], 1);
    bool pf_warned = false;
    for (const auto& c : j["checks"]) pf_warned = pf_warned || (c["id"] == "mri.partial_fourier" && c["ok"] == false);
    EXPECT_TRUE(pf_warned);
    EXPECT_EQ(test::run_command(mri() + " recon " + mrd + " -o " + out +
                                    " --method cg-sense --iters 3 --partial-fourier zero-fill --strict -q --no-png",
                                &log),
              2);
    EXPECT_NE(log.find("mri.partial_fourier"), std::string::npos) << log;
    // Bad values of the new options.
    EXPECT_EQ(test::run_command(mri() + " recon " + mrd + " -o " + out + " --partial-fourier homodyne -q", &log), 2) << log;
    EXPECT_EQ(test::run_command(mri() + " simulate " + dir + "/x.h5 --partial-fourier 0.3 -q", &log), 2) << log;
    EXPECT_EQ(test::run_command(mri() + " simulate " + dir + "/x.h5 --reverse-lines -q", &log), 2) << log;
}
