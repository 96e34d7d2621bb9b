// Distributed CT (docs/scaling.md): `mpirun -np N lumen-ct recon ...` gives the serial result.
// FDK splits the volume into slabs of slices; the iterative methods split the views and sum the
// back-projected volumes and every sum over rays. A rank that fails alone (bad data in its views)
// ends the job with no output; checkpoints are refused with exit 2. Run by CTest with label mpi
// when lumen is built with MPI and an MPI launcher was found (LUMEN_TEST_MPIEXEC).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "lumen/ct/io.hpp"
#include "lumen/io/hdf5.hpp"
#include "tests/mpi/mpi_support.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using test::json_of;
using test::mpirun;
using test::serial;

namespace {

std::string ct_app() { return test::app_path("lumen-ct"); }


// A 32^3 volume (32 x 32 detector): FDK's 4 groups of 8 slices split 2, 1, 1 over 3 ranks (2, 2
// over 2). The iterative tests use 35 views: 18, 17 over 2 ranks and 12, 12, 11 over 3.
std::string simulated_scan(int views) {
    const std::string p = test::temp_path("mpi_ct_scan_" + std::to_string(views) + ".h5");
    if (!std::filesystem::exists(p)) {
        std::string log;
        EXPECT_EQ(test::run_command(ct_app() + " simulate " + p + " --size 32 --views " + std::to_string(views) +
                                        " --device cpu -q",
                                    &log),
                  0)
            << log;
    }
    return p;
}

struct Comparison {
    bool same_bits = false;
    double max_rel_diff = 0.0;
    nlohmann::json summary;  // the distributed run's --json
};

// Runs `flags` serially and on 2 and 3 ranks; checks what every distributed run must show (one
// JSON summary from rank 0 with the ranks and the communication, the ranks attribute, the same
// iterations) and returns how the volumes compare, per rank count.
std::vector<Comparison> compare_with_serial(const std::string& scan, const std::string& name, const std::string& flags) {
    std::string log;
    const std::string one = test::temp_path("mpi_ct_" + name + "_1.h5");
    EXPECT_EQ(test::run_command(serial() + ct_app() + " recon " + scan + " -o " + one + flags + " --no-png --json -q", &log), 0)
        << log;
    const auto serial_summary = json_of(log);
    EXPECT_EQ(serial_summary["ranks"], 1);
    EXPECT_FALSE(serial_summary.contains("communication"));
    const io::H5File serial_file = io::H5File::open(one);
    EXPECT_EQ(serial_file.attr_double("/", "ranks"), 1.0);
    const Array<float> expected = serial_file.read_float("/volume");
    std::vector<Comparison> out;
    for (int ranks : {2, 3}) {
        SCOPED_TRACE(name + " on " + std::to_string(ranks) + " ranks");
        const std::string path = test::temp_path("mpi_ct_" + name + "_" + std::to_string(ranks) + ".h5");
        EXPECT_EQ(test::run_command(mpirun(ranks) + ct_app() + " recon " + scan + " -o " + path + flags +
                                        " --no-png --json -q",
                                    &log),
                  0)
            << log;
        EXPECT_EQ(log.find('{'), log.rfind("{\n  \"")) << log;  // rank 0's summary alone
        const auto j = json_of(log);
        EXPECT_EQ(j["ranks"], ranks);
        EXPECT_EQ(j["communication"]["ranks"], ranks);
        // At least one volume (32^3 float32) went through the collectives.
        EXPECT_GE(j["communication"]["bytes"].get<double>(), 32.0 * 32 * 32 * 4);
        EXPECT_GE(j["communication"]["communication_s"].get<double>(), 0.0);
        EXPECT_GE(j["communication"]["wait_s"].get<double>(), 0.0);
        EXPECT_EQ(j["iterations"], serial_summary["iterations"]);
        EXPECT_EQ(j["stop_reason"], serial_summary["stop_reason"]);
        // Sums over every rank's rays: the last objective and misfit (iterative methods) and the
        // noise-normalised residual are the serial run's to rounding (one rank's rays alone would
        // give about 1/ranks of the objective).
        for (const char* key : {"objective", "misfit", "noise_normalised_residual"}) {
            if (!serial_summary.contains(key) || !serial_summary[key].is_number()) continue;
            const double a = serial_summary[key].get<double>(), b = j[key].get<double>();
            EXPECT_LE(std::abs(b - a), 1e-5 * std::abs(a)) << key << ": " << b << " vs " << a;
        }
        const io::H5File f = io::H5File::open(path);
        EXPECT_EQ(f.attr_double("/", "ranks"), double(ranks));
        const Array<float> got = f.read_float("/volume");
        EXPECT_EQ(got.shape(), expected.shape());
        Comparison c;
        c.summary = j;
        if (got.shape() == expected.shape()) {
            c.same_bits = test::same_bits(got.view(), expected.view());
            c.max_rel_diff = test::max_rel_diff(got.view(), expected.view());
        }
        std::printf("%s on %d ranks: %s, max relative difference %.3g\n", name.c_str(), ranks,
                    c.same_bits ? "same bits" : "differs", c.max_rel_diff);
        out.push_back(c);
    }
    return out;
}

}  // namespace

TEST(MpiCt, FdkSlabsGiveTheSerialVolume) {
    // Each voxel's sum over views is the same arithmetic whichever slab holds it, and each rank
    // weights and filters only the detector rows its slab reads, in the serial run's row pairs.
    // Also with the rows mirrored on reading (the hyperslab is then the file's other end) and the
    // axis estimated from the mid-plane rows every rank reads apart.
    for (const Comparison& c : compare_with_serial(simulated_scan(36), "fdk", " --method fdk --device cpu"))
        EXPECT_TRUE(c.same_bits) << c.max_rel_diff;
    for (const Comparison& c :
         compare_with_serial(simulated_scan(36), "fdk_flipped", " --method fdk --device cpu --flip-v --centre auto")) {
        EXPECT_TRUE(c.same_bits) << c.max_rel_diff;
        EXPECT_EQ(c.summary["rotation_centre"]["source"], "estimated");
    }
}

TEST(MpiCt, FdkRanksReadOnlyTheirSlabsRows) {
    // 32 slices, 4 groups of 8: 2 groups a rank on 2 ranks, 2, 1, 1 on 3. Every rank reads a strict
    // part of the 32 detector rows (its slab's, fdk_detector_rows, and its share of the residual's
    // rows) plus the 2 mid-plane rows of the axis check. Measured (--json "read"): 2 ranks rows
    // [0, 18) and [14, 32), 143,360 bytes each of 229,376; 3 ranks [0, 18), [14, 28), [20, 32),
    // 143,360, 114,688 and 100,352 bytes. A serial run and the iterative methods read every row.
    const std::string scan = simulated_scan(36);
    for (const Comparison& c : compare_with_serial(scan, "fdk_rows", " --method fdk --device cpu")) {
        const auto& read = c.summary["read"];
        const double whole = read["scan_bytes"].get<double>();
        // The 36 views and the flat and dark frames, 32 x 32 float32 each.
        const double frames = whole / (32.0 * 32 * 4);
        EXPECT_GT(frames, 36.0);
        const auto& rows = read["rows_per_rank"];
        ASSERT_EQ(rows.size(), c.summary["ranks"].get<std::size_t>());
        index_t covered = 0, previous_end = 0;
        for (std::size_t r = 0; r < rows.size(); ++r) {
            SCOPED_TRACE("rank " + std::to_string(r));
            const index_t first = rows[r][0].get<index_t>(), count = rows[r][1].get<index_t>();
            EXPECT_GT(count, 0);
            EXPECT_LT(count, 32) << "a rank read every row";
            EXPECT_LE(first, previous_end) << "rows no rank read";
            covered = std::max(covered, first + count);
            previous_end = first + count;
            const double bytes = read["bytes_per_rank"][r].get<double>();
            // Its rows of every frame, and the 2 axis rows.
            EXPECT_EQ(bytes, frames * double(count + 2) * 32 * 4);
            EXPECT_LE(bytes, 0.63 * whole);  // measured at most 143,360 / 229,376 = 0.625
        }
        EXPECT_EQ(rows[0][0].get<index_t>(), 0);
        EXPECT_EQ(covered, 32);
    }
    // 5 ranks for 4 groups of 8 slices: rank 4 has no slab; it reads the first row pair only (for
    // the flat and dark fields), owns no residual rows, and the volume keeps the serial bits.
    {
        std::string log;
        const std::string one = test::temp_path("mpi_ct_rows5_1.h5"), five = test::temp_path("mpi_ct_rows5_5.h5");
        const std::string flags = " --method fdk --device cpu --no-png --json -q";
        ASSERT_EQ(test::run_command(serial() + ct_app() + " recon " + scan + " -o " + one + flags, &log), 0) << log;
        const double residual = json_of(log)["noise_normalised_residual"].get<double>();
        ASSERT_EQ(test::run_command(mpirun(5) + ct_app() + " recon " + scan + " -o " + five + flags, &log), 0) << log;
        const auto j = json_of(log);
        EXPECT_EQ(j["read"]["rows_per_rank"][4][0].get<index_t>(), 0);
        EXPECT_EQ(j["read"]["rows_per_rank"][4][1].get<index_t>(), 2);
        EXPECT_LE(std::abs(j["noise_normalised_residual"].get<double>() - residual), 1e-5 * residual);
        const Array<float> a = io::H5File::open(one).read_float("/volume"), b = io::H5File::open(five).read_float("/volume");
        EXPECT_TRUE(test::same_bits(a.view(), b.view())) << test::max_rel_diff(a.view(), b.view());
    }
    // The iterative methods read every row on every rank.
    std::string log;
    const std::string out = test::temp_path("mpi_ct_rows_sirt.h5");
    ASSERT_EQ(test::run_command(mpirun(2) + ct_app() + " recon " + scan + " -o " + out +
                                    " --method sirt --stop iterations --iters 2 --device cpu --no-png --json -q",
                                &log),
              0)
        << log;
    const auto j = json_of(log);
    for (const auto& rows : j["read"]["rows_per_rank"]) EXPECT_EQ(rows[1].get<index_t>(), 32);
    for (const auto& bytes : j["read"]["bytes_per_rank"]) EXPECT_EQ(bytes.get<double>(), j["read"]["scan_bytes"].get<double>());
}

// The iterative methods: the ranks' volumes differ from the serial one only in the order of the
// sums over views (the back projection's, summed over ranks) and over rays (double). Measured on
// this 35-view scan (2-core dev VM, 2 and 3 ranks), max |difference| / max |serial|: sirt 4.3e-7 and
// 6.0e-7 (discrepancy stop at 11 iterations), cgls 3.4e-7 and 2.7e-7, nonlinear 6.0e-8, tv 1.5e-6
// and 1.2e-6; with 30 iterations run to the end sirt 4.7e-7 and 5.4e-7, cgls 5.1e-7, nonlinear
// 2.3e-6 and 3.0e-6. A missing sum (one rank's views only) gives differences of order 1, or ranks
// that stop at different iterations and wait for each other forever. 1e-5 leaves room for other
// compilers' rounding.
constexpr double k_iterative_tolerance = 1e-5;

TEST(MpiCt, SirtOverViewsGivesTheSerialVolume) {
    // Default stopping: the discrepancy rule's misfit is a sum over every rank's rays, and every
    // rank must stop at the serial run's iteration.
    for (const Comparison& c : compare_with_serial(simulated_scan(35), "sirt", " --method sirt --device cpu"))
        EXPECT_LE(c.max_rel_diff, k_iterative_tolerance);
    for (const Comparison& c :
         compare_with_serial(simulated_scan(35), "sirt30", " --method sirt --stop iterations --iters 30 --device cpu"))
        EXPECT_LE(c.max_rel_diff, k_iterative_tolerance);
}

TEST(MpiCt, CglsOverViewsGivesTheSerialVolume) {
    for (const Comparison& c : compare_with_serial(simulated_scan(35), "cgls", " --method cgls --device cpu"))
        EXPECT_LE(c.max_rel_diff, k_iterative_tolerance);
    // Across the projections onto x >= 0 between restarts (every 10 iterations).
    for (const Comparison& c :
         compare_with_serial(simulated_scan(35), "cgls30", " --method cgls --stop iterations --iters 30 --device cpu"))
        EXPECT_LE(c.max_rel_diff, k_iterative_tolerance);
}

TEST(MpiCt, NonlinearOverViewsGivesTheSerialVolume) {
    // Starts from a distributed FDK, steps by the operator norm of the split operator.
    for (const Comparison& c :
         compare_with_serial(simulated_scan(35), "nonlinear", " --method nonlinear --stop iterations --iters 30 --device cpu"))
        EXPECT_LE(c.max_rel_diff, k_iterative_tolerance);
}

TEST(MpiCt, TvOverViewsGivesTheSerialVolume) {
    for (const Comparison& c : compare_with_serial(simulated_scan(35), "tv", " --method tv --device cpu"))
        EXPECT_LE(c.max_rel_diff, k_iterative_tolerance);
}

TEST(MpiCt, ARankWithBadViewsEndsTheJobAndWritesNothing) {
    // A zero count below the dark level in the last view: -log t has no value there. Only the rank
    // that holds that view (rank 1 of 2) takes its log, while rank 0 waits in the first sum.
    ct::Scan scan = ct::read_scan(simulated_scan(36));
    scan.data[scan.data.size() - 5] = 0.0f;
    const std::string path = test::temp_path("mpi_ct_bad_view.h5"), out = test::temp_path("mpi_ct_bad_out.h5");
    ct::write_scan(path, scan);
    std::filesystem::remove(out);
    std::string log;
    EXPECT_EQ(test::run_command(serial() + ct_app() + " recon " + path + " -o " + out + " --method sirt --device cpu -q", &log), 2)
        << log;
    const int status =
        test::run_command(mpirun(2) + ct_app() + " recon " + path + " -o " + out + " --method sirt --device cpu -q", &log);
    EXPECT_NE(status, 0) << log;
    EXPECT_NE(log.find("rank 1 of 2 failed"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(out));
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(out).parent_path()))
        EXPECT_EQ(entry.path().filename().string().rfind("mpi_ct_bad_out.h5", 0), std::string::npos) << entry.path();
}

TEST(MpiCt, CheckpointsAreRefusedWithExit2) {
    const std::string out = test::temp_path("mpi_ct_ckpt.h5");
    std::string log;
    const int status = test::run_command(mpirun(2) + ct_app() + " recon " + simulated_scan(36) + " -o " + out +
                                             " --method sirt --device cpu -q --checkpoint-every 2",
                                         &log);
    EXPECT_EQ(status, 2) << log;
    EXPECT_NE(log.find("--checkpoint"), std::string::npos) << log;
    EXPECT_NE(log.find("does not checkpoint"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(out));
}
