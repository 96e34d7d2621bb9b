// Distributed runs through the apps (docs/scaling.md): `mpirun -np N lumen-mri recon ...` gives the
// serial result, a rank that fails mid-run ends the job with a clear error and no output, and what
// a distributed run cannot do (checkpoints) is refused with exit 2. Run by CTest with label mpi
// when lumen is built with MPI and an MPI launcher was found (LUMEN_TEST_MPIEXEC).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/mpi/mpi_support.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using test::json_of;
using test::mpirun;
using test::serial;

namespace {

std::string mri_app() { return test::app_path("lumen-mri"); }


// A 5-slice scan (uneven over 2 and 3 ranks), small enough for seconds per run.
std::string simulated_scan() {
    static const std::string path = [] {
        const std::string p = test::temp_path("mpi_scan.h5");
        std::string log;
        EXPECT_EQ(test::run_command(mri_app() + " simulate " + p + " --size 64x48 --coils 4 --slices 5 --noise 0.02 -q",
                                    &log),
                  0)
            << log;
        return p;
    }();
    return path;
}

}  // namespace

// A slice's coils split over ranks (CoilsOverRanksOnOneSlice): the adjoint's coil sum and the data
// sums are taken in another order, and the iterations amplify that rounding. Measured (64 x 48,
// 5 coils, 2-core dev VM), max |difference| / max |serial|: CG-SENSE (30 iterations) 1.2e-5 on 2
// ranks and 8.7e-6 on 3, L1-wavelet (200 FISTA iterations) 5.4e-5 and 4.7e-5, TV (100 ADMM
// iterations) 3.6e-6 and 2.6e-6; the residual 6e-7 and 7e-7 (CG-SENSE), 1.7e-5 and 3.4e-5
// (L1-wavelet), 1.6e-6 and 2.1e-6 (TV) relative. A missing sum (one rank's
// coils alone) gives differences of order 1.
constexpr double k_coil_split_tolerance = 2e-4;

TEST(MpiMri, SlicesOverRanksGiveTheSerialResult) {
    const std::string scan = simulated_scan();
    const std::string flags = " --method l1-wavelet --accel 4 --mask poisson --device cpu --json -q";
    std::string log;
    const std::string one = test::temp_path("mpi_serial.h5");
    ASSERT_EQ(test::run_command(serial() + mri_app() + " recon " + scan + " -o " + one + flags, &log), 0) << log;
    EXPECT_EQ(json_of(log)["ranks"], 1);
    const io::H5File serial_file = io::H5File::open(one);
    const Array<float> expected = serial_file.read_float("/reconstruction");
    const Array<std::int64_t> expected_slices = serial_file.read_int("/history/slice");
    for (int ranks : {2, 3}) {
        SCOPED_TRACE(std::to_string(ranks) + " ranks");
        const std::string out = test::temp_path("mpi_" + std::to_string(ranks) + ".h5");
        ASSERT_EQ(test::run_command(mpirun(ranks) + mri_app() + " recon " + scan + " -o " + out + flags, &log), 0) << log;
        // One JSON summary (rank 0's), saying how many ranks took part.
        EXPECT_EQ(log.find('{'), log.rfind("{\n  \"")) << log;
        const auto j = json_of(log);
        EXPECT_EQ(j["ranks"], ranks);
        // The gather: at least the volume (5 slices of 32 x 32 float32) went through the collectives.
        EXPECT_EQ(j["communication"]["ranks"], ranks);
        EXPECT_GE(j["communication"]["bytes"].get<double>(), 5 * 32 * 32 * 4.0);
        EXPECT_GE(j["communication"]["communication_s"].get<double>(), 0.0);
        ASSERT_EQ(j["slice_iterations"].size(), 5u) << log;
        const io::H5File f = io::H5File::open(out);
        EXPECT_EQ(f.attr_double("/", "ranks"), double(ranks));
        const Array<float> got = f.read_float("/reconstruction");
        ASSERT_EQ(got.shape(), expected.shape());
        EXPECT_TRUE(test::same_bits(got.view(), expected.view()))
            << "max relative difference " << test::max_rel_diff(got.view(), expected.view());
        // The merged history: every slice's iterations, in slice order.
        const Array<std::int64_t> slices = f.read_int("/history/slice");
        ASSERT_EQ(slices.size(), expected_slices.size());
        for (index_t i = 0; i < slices.size(); ++i) EXPECT_EQ(slices[i], expected_slices[i]) << i;
        EXPECT_EQ(f.attr_string("/history", "slice_stop_reasons"), serial_file.attr_string("/history", "slice_stop_reasons"));
        EXPECT_DOUBLE_EQ(f.attr_double("/", "acceleration"), serial_file.attr_double("/", "acceleration"));
        EXPECT_NEAR(f.attr_double("/", "noise_normalised_residual"),
                    serial_file.attr_double("/", "noise_normalised_residual"), 1e-9);
    }
}

TEST(MpiMri, MoreRanksThanSlicesWhereNoCoilSplitApplies) {
    // 3 ranks, 2 slices, and a coil split does not apply (zero-filled has no SENSE operator; 2 coils
    // cannot be split over 3 ranks): the third rank has nothing to do, still takes part in the
    // collectives, and the check mri.distribution warns, saying why.
    std::string log;
    for (const auto& [coils, method] : {std::pair<int, std::string>{4, "zero-filled"}, {2, "cg-sense"}}) {
        SCOPED_TRACE(method + " with " + std::to_string(coils) + " coils");
        const std::string tag = std::to_string(coils) + method;
        const std::string scan = test::temp_path("mpi_two_slices" + tag + ".h5"),
                          one = test::temp_path("mpi_two_serial" + tag + ".h5"), out = test::temp_path("mpi_two_3" + tag + ".h5");
        ASSERT_EQ(test::run_command(mri_app() + " simulate " + scan + " --size 64x48 --coils " + std::to_string(coils) +
                                        " --slices 2 -q",
                                    &log),
                  0)
            << log;
        const std::string flags = " --method " + method + " --accel 3 --maps truth --device cpu --json -q";
        ASSERT_EQ(test::run_command(serial() + mri_app() + " recon " + scan + " -o " + one + flags, &log), 0) << log;
        ASSERT_EQ(test::run_command(mpirun(3) + mri_app() + " recon " + scan + " -o " + out + flags, &log), 0) << log;
        bool warned = false;
        const auto summary = json_of(log);
        for (const auto& c : summary["checks"])
            if (c["id"] == "mri.distribution") {
                warned = !c["ok"].get<bool>();
                const std::string message = c["message"];
                EXPECT_NE(message.find("rank 2 idles"), std::string::npos) << message;
                EXPECT_NE(message.find(coils == 2 ? "2 coil(s) cannot be split over 3 ranks" : "zero-filled"),
                          std::string::npos)
                    << message;
            }
        EXPECT_TRUE(warned) << log;
        const Array<float> a = io::H5File::open(one).read_float("/reconstruction");
        const Array<float> b = io::H5File::open(out).read_float("/reconstruction");
        EXPECT_TRUE(test::same_bits(a.view(), b.view())) << test::max_rel_diff(a.view(), b.view());
    }
}

TEST(MpiMri, CoilsOverRanksOnOneSlice) {
    // One slice on 2 and 3 ranks: the ranks split its 5 coils (3 + 2, 2 + 2 + 1), every adjoint's
    // coil sum and every sum over the data is completed over the ranks. The result is the serial
    // one to the rounding of those sums (taken in another order).
    const std::string scan = test::temp_path("mpi_one_slice.h5");
    std::string log;
    ASSERT_EQ(test::run_command(mri_app() + " simulate " + scan + " --size 64x48 --coils 5 --slices 1 --noise 0.02 -q", &log),
              0)
        << log;
    // CG-SENSE with the default (1-D) mask and stop: the discrepancy rule on the noise the
    // readout margin of every coil gives (the simulated maps: this small centre is too narrow for
    // ESPIRiT's kernel); L1-wavelet and TV on a 2-D Poisson-disc mask with ESPIRiT maps.
    for (const std::string& flags : {std::string(" --method cg-sense --accel 4 --maps truth"),
                                     std::string(" --method l1-wavelet --accel 4 --mask poisson"),
                                     std::string(" --method tv --accel 4 --mask poisson")}) {
        SCOPED_TRACE(flags);
        const std::string common = flags + " --device cpu --json -q";
        const std::string one = test::temp_path("mpi_one_slice_serial.h5");
        ASSERT_EQ(test::run_command(serial() + mri_app() + " recon " + scan + " -o " + one + common, &log), 0) << log;
        const auto serial_summary = json_of(log);
        const Array<float> expected = io::H5File::open(one).read_float("/reconstruction");
        for (int ranks : {2, 3}) {
            SCOPED_TRACE(std::to_string(ranks) + " ranks");
            const std::string out = test::temp_path("mpi_one_slice_" + std::to_string(ranks) + ".h5");
            ASSERT_EQ(test::run_command(mpirun(ranks) + mri_app() + " recon " + scan + " -o " + out + common, &log), 0)
                << log;
            const auto j = json_of(log);
            EXPECT_EQ(j["ranks"], ranks);
            EXPECT_EQ(j["communication"]["ranks"], ranks);
            // At least one image (64 x 48 complex64, or the reconstructed rows x 48 when the readout
            // oversampling was removed first) per iteration went through the collectives.
            const double rows = j["readout_cropped"].get<bool>() ? double(expected.dim(expected.rank() - 2)) : 64.0;
            EXPECT_GE(j["communication"]["bytes"].get<double>(), j["iterations"].get<double>() * rows * 48 * 8);
            EXPECT_EQ(j["iterations"], serial_summary["iterations"]);
            EXPECT_EQ(j["stop_reason"], serial_summary["stop_reason"]);
            bool split = false;
            for (const auto& c : j["checks"])
                if (c["id"] == "mri.distribution") split = c["ok"].get<bool>();
            EXPECT_TRUE(split) << log;
            const double a = serial_summary["noise_normalised_residual"].get<double>();
            const double b = j["noise_normalised_residual"].get<double>();
            const Array<float> got = io::H5File::open(out).read_float("/reconstruction");
            ASSERT_EQ(got.shape(), expected.shape());
            const double diff = test::max_rel_diff(got.view(), expected.view());
            std::printf("%s on %d ranks: max relative difference %.3g, residual %.9g vs %.9g, stop %s after %d\n",
                        flags.c_str(), ranks, diff, b, a, j["stop_reason"].get<std::string>().c_str(),
                        j["iterations"].get<int>());
            EXPECT_LE(diff, k_coil_split_tolerance);
            EXPECT_LE(std::abs(b - a), 1e-4 * std::abs(a));
        }
    }
}

TEST(MpiMri, ARankFailingMidRunEndsTheJobAndWritesNothing) {
    // Slice 3 of 4 holds a NaN: only the rank that owns it (rank 1 of 2: slices 2 and 3) fails, after
    // its first slice, while rank 0 waits for it in the gather.
    mri::SimulationOptions so;
    so.height = 64;
    so.width = 48;
    so.coils = 4;
    so.slices = 4;
    so.noise = 0.02;
    mri::SimulatedScan sim = mri::simulate(so);
    const index_t per_slice = sim.kspace.size() / 4;
    sim.kspace[3 * per_slice + 17] = complex64(NAN, 0.0f);
    const std::string scan = test::temp_path("mpi_nan_slice.h5"), out = test::temp_path("mpi_nan_out.h5");
    mri::FastMriWriteOptions wo;
    wo.recon_height = sim.recon_height;
    wo.recon_width = sim.recon_width;
    wo.truth_sensitivities = sim.sensitivities.view();
    wo.truth_image = sim.image.view();
    mri::write_fastmri(scan, sim.kspace.view(), wo);
    std::filesystem::remove(out);
    std::string log;
    const int status = test::run_command(mpirun(2) + mri_app() + " recon " + scan + " -o " + out +
                                             " --method cg-sense --accel 3 --maps truth --device cpu -q",
                                         &log);
    EXPECT_NE(status, 0) << log;
    EXPECT_NE(log.find("slice 3"), std::string::npos) << log;
    EXPECT_NE(log.find("NaN"), std::string::npos) << log;
    EXPECT_NE(log.find("rank 1 of 2 failed"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(out));
    // Nothing staged left beside it either.
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(out).parent_path()))
        EXPECT_EQ(entry.path().filename().string().rfind("mpi_nan_out.h5", 0), std::string::npos) << entry.path();
}

TEST(MpiMri, CheckpointsAreRefusedWithExit2) {
    const std::string scan = simulated_scan(), out = test::temp_path("mpi_ckpt.h5");
    std::string log;
    const int status = test::run_command(mpirun(2) + mri_app() + " recon " + scan + " -o " + out +
                                             " --method cg-sense --device cpu -q --checkpoint-every 2",
                                         &log);
    EXPECT_EQ(status, 2) << log;
    EXPECT_NE(log.find("--checkpoint"), std::string::npos) << log;
    EXPECT_NE(log.find("does not checkpoint"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(out));
}
