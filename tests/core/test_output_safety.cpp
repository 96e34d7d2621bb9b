// Issue #10 regressions in the I/O layer: complex compounds by member name, staged outputs
// (exclusive, never through links, committed together, removed on errors and signals), checked
// shape arithmetic, the memory check and the integer reads.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lumen/ct/io.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/output.hpp"
#include "lumen/io/png.hpp"
#include "lumen/ptycho/io.hpp"
#include "tests/support/h5craft.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

// Issue #10 item 1: {i, r} (members in the other order) was read by position: real and
// imaginary parts swapped, exit 0, a result off by 31 %.
TEST(OutputSafety, ComplexMembersAreMatchedByName) {
    const std::string path = test::temp_path("swapped.h5");
    {
        test::H5Craft f(path);
        f.complex("/ri", {2}, {1, 10, 2, 20}, "r", "i");
        f.complex("/ir", {2}, {10, 1, 20, 2}, "i", "r");  // imaginary first
        f.complex("/realimag", {2}, {10, 1, 20, 2}, "imag", "real");
        f.complex("/unknown", {2}, {1, 2, 3, 4}, "a", "b");
    }
    const io::H5File f = io::H5File::open(path);
    for (const char* ds : {"/ri", "/ir", "/realimag"}) {
        EXPECT_EQ(f.info(ds).dtype, "complex64") << ds;
        const Array<complex64> z = f.read_complex(ds);
        EXPECT_EQ(z[0].re, 1.0f) << ds;
        EXPECT_EQ(z[0].im, 10.0f) << ds;
        EXPECT_EQ(z[1].re, 2.0f) << ds;
        EXPECT_EQ(z[1].im, 20.0f) << ds;
    }
    EXPECT_EQ(f.info("/unknown").dtype, "compound {a, b}");
    const std::string m = message_of([&] { f.read_complex("/unknown"); });
    EXPECT_NE(m.find("/unknown"), std::string::npos) << m;
    EXPECT_NE(m.find("{a, b}"), std::string::npos) << m;
}

// Issue #10 item 7: a float NaN (or a fraction) in an integer read was cast (undefined).
TEST(OutputSafety, IntegerReadsRefuseNanFractionsAndHugeValues) {
    const std::string path = test::temp_path("ints.h5");
    {
        test::H5Craft f(path);
        f.floats("/nan", {2}, {0.0f, NAN});
        f.floats("/half", {1}, {0.5f});
        f.floats("/huge", {1}, {1e30f});
        f.floats("/ok", {2}, {3.0f, -2.0f});
    }
    const io::H5File f = io::H5File::open(path);
    for (const char* ds : {"/nan", "/half", "/huge"}) {
        const std::string m = message_of([&] { f.read_int(ds); });
        EXPECT_NE(m.find(ds), std::string::npos) << ds << ": " << m;
        EXPECT_NE(m.find("whole numbers"), std::string::npos) << m;
    }
    const Array<std::int64_t> ok = f.read_int("/ok");
    EXPECT_EQ(ok[0], 3);
    EXPECT_EQ(ok[1], -2);
}

// Issue #10 item 7: Shape::size() wrapped past int64.
TEST(OutputSafety, ShapeArithmeticIsChecked) {
    EXPECT_THROW(Shape({1, 1100000000000, 272, 61681}), Error);
    EXPECT_THROW(Shape({index_t(1) << 62, 4}), Error);
    Shape s{4, 4};
    s[0] = index_t(1) << 62;
    EXPECT_THROW((void)s.size(), Error);
    EXPECT_THROW((void)Shape({index_t(1) << 61, 1}).bytes(8), Error);
    EXPECT_EQ(Shape({3, 5}).bytes(8), 120u);
}

TEST(OutputSafety, MemoryLimitFromTheEnvironment) {
    ::setenv("LUMEN_MEMORY_LIMIT", "2M", 1);
    EXPECT_EQ(io::memory_limit_bytes(), 2u * 1024 * 1024);
    EXPECT_NO_THROW(io::require_memory(1e6, "small"));
    const std::string m = message_of([] { io::require_memory(3e6, "dataset /x of shape (3000000,)"); });
    EXPECT_NE(m.find("dataset /x"), std::string::npos) << m;
    ::setenv("LUMEN_MEMORY_LIMIT", "lots", 1);
    EXPECT_THROW(io::memory_limit_bytes(), Error);
    ::unsetenv("LUMEN_MEMORY_LIMIT");
    EXPECT_GT(io::memory_limit_bytes(), 1u << 20);
}

// Issue #10 item 2: OUT.tmp-PID was predictable and opened with truncation through links; a link
// planted there to the input replaced the input with the result.
TEST(OutputSafety, StagedFilesArePrivateAndNeverFollowLinks) {
    const std::string dir = test::temp_dir();
    const std::string victim = dir + "/input.h5";
    std::ofstream(victim) << "precious";
    // The names the old scheme used, planted as links to the input.
    for (int pid = 1; pid < 4; ++pid) fs::create_symlink(victim, dir + "/out.h5.tmp-" + std::to_string(pid));
    fs::create_symlink(victim, dir + "/out.h5.tmp-" + std::to_string(::getpid()));
    {
        io::OutputSet probe;
        const std::string temp = probe.stage(dir + "/out.h5");
        const fs::path staging = fs::path(temp).parent_path();
        EXPECT_EQ(staging.parent_path(), fs::path(dir));
        EXPECT_EQ(staging.filename().string().rfind(".lumen-tmp-", 0), 0u) << staging;
        struct stat st {};
        ASSERT_EQ(::lstat(staging.c_str(), &st), 0);
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_EQ(st.st_mode & 0777, 0700u);
        // Exclusive creation refuses a link placed at the staged name itself.
        fs::create_symlink(victim, temp);
        EXPECT_THROW(::close(io::create_exclusive(temp, "out.h5")), Error);
        fs::remove(temp);
    }
    {
        io::OutputSet set;
        io::H5Writer w(set, dir + "/out.h5");
        w.write_scalar("/x", 1.0);
        w.commit();
        set.commit();
    }
    std::ifstream in(victim);
    std::string text;
    in >> text;
    EXPECT_EQ(text, "precious");
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir + "/out.h5")));
    for (const std::string& n : names_in(dir)) EXPECT_EQ(n.find(".lumen-tmp-"), std::string::npos) << n;
}

// An output path that is a link: the link is replaced by the result, the file it points to is
// never written.
TEST(OutputSafety, ALinkAtTheOutputPathIsReplacedNotFollowed) {
    const std::string dir = test::temp_dir();
    std::ofstream(dir + "/elsewhere.txt") << "untouched";
    fs::create_symlink(dir + "/elsewhere.txt", dir + "/out.h5");
    io::H5Writer w(dir + "/out.h5");
    w.write_scalar("/x", 2.0);
    w.commit();
    EXPECT_EQ(test::file_bytes(dir + "/elsewhere.txt"), "untouched");
    EXPECT_FALSE(fs::is_symlink(dir + "/out.h5"));
    EXPECT_EQ(io::H5File::open(dir + "/out.h5").read_scalar("/x"), 2.0);
}

// Issue #10 item 3: all files of a set land together or not at all.
TEST(OutputSafety, ASetCommitsAllOrNothing) {
    const std::string dir = test::temp_dir();
    std::ofstream(dir + "/out.h5") << "old";
    Array<float> img(Shape{4, 4});
    {
        io::OutputSet set;
        io::H5Writer w(set, dir + "/out.h5");
        w.write_scalar("/x", 1.0);
        w.commit();
        io::write_png(set, dir + "/a.png", img.view());
        // The second PNG's target is a directory: refused, and with it the whole set.
        fs::create_directory(dir + "/b.png");
        EXPECT_THROW(io::write_png(set, dir + "/b.png", img.view()), Error);
    }
    EXPECT_EQ(test::file_bytes(dir + "/out.h5"), "old");
    EXPECT_EQ(names_in(dir), (std::vector<std::string>{"b.png", "out.h5"}));

    io::OutputSet set;
    io::H5Writer w(set, dir + "/new.h5");
    w.write_scalar("/x", 1.0);
    // Not finished: commit refuses rather than move a half-written file.
    EXPECT_THROW(set.commit(), Error);
    w.commit();
    io::write_png(set, dir + "/a.png", img.view());
    EXPECT_FALSE(fs::exists(dir + "/new.h5"));
    set.commit();
    EXPECT_TRUE(fs::exists(dir + "/new.h5"));
    EXPECT_TRUE(fs::exists(dir + "/a.png"));
}

TEST(OutputSafety, OutputsMayNotBeTheInputOrRepeat) {
    const std::string dir = test::temp_dir();
    std::ofstream(dir + "/in.h5") << "input";
    fs::create_symlink(dir + "/in.h5", dir + "/alias.h5");
    io::OutputSet set(dir + "/in.h5");
    EXPECT_THROW(set.stage(dir + "/in.h5"), Error);
    EXPECT_THROW(set.stage(dir + "/alias.h5"), Error);
    EXPECT_THROW(set.stage(dir + "/./in.h5"), Error);
    set.stage(dir + "/out.h5");
    EXPECT_THROW(set.stage(dir + "/out.h5"), Error);
    EXPECT_EQ(test::file_bytes(dir + "/in.h5"), "input");
}

// Issue #10 item 4: a run killed while writing left OUT.tmp-PID behind (SIGINT and SIGTERM
// included). With the handlers installed, the staged files and directory go with the process,
// which still dies of the signal.
TEST(OutputSafety, SignalsRemoveStagedFiles) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        const std::string dir = test::temp_dir() + "/sig" + std::to_string(sig);
        fs::create_directories(dir);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            io::install_cleanup_handlers();
            io::OutputSet set;
            io::H5Writer w(set, dir + "/out.h5");
            w.write_scalar("/x", 1.0);
            io::write_png(set, dir + "/p.png", Array<float>(Shape{2, 2}).view());
            ::raise(sig);
            ::_exit(0);  // not reached: the handler re-raises with the default action
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
        EXPECT_EQ(names_in(dir), std::vector<std::string>{}) << "signal " << sig;
    }
}

TEST(OutputSafety, InputsMustBeRegularFiles) {
    const std::string dir = test::temp_dir();
    ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
    const std::string m = message_of([&] { io::H5File::open(dir + "/fifo"); });
    EXPECT_NE(m.find("not a regular file"), std::string::npos) << m;
    const std::string d = message_of([&] { io::H5File::open(dir); });
    EXPECT_NE(d.find("is a directory"), std::string::npos) << d;
}

TEST(OutputSafety, NonFiniteResultsAreRefused) {
    Array<float> v(Shape{3});
    EXPECT_NO_THROW(io::require_finite(v.view(), "x"));
    v[1] = INFINITY;
    try {
        io::require_finite(v.view(), "out.h5: /volume");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::failure);
        EXPECT_NE(std::string(e.what()).find("out.h5: /volume holds 1 non-finite"), std::string::npos) << e.what();
    }
    Array<complex64> z(Shape{2});
    z[0] = complex64(NAN, 0.0f);
    EXPECT_THROW(io::require_finite(z.view(), "z"), Error);
}

// Issue #10 item 9: a reconstruction holding NaN or Inf was written with exit 0. The writers of
// every modality refuse it (exit 1), and nothing reaches the output path or its previews.
TEST(OutputSafety, WritersRefuseNonFiniteResultsAndWriteNothing) {
    const std::string dir = test::temp_dir();
    ct::Geometry g;
    g.type = ct::BeamType::parallel;
    g.nu = g.nv = 4;
    g.du = g.dv = 1;
    g.angles = {0.0, 1.0};
    g.volume.nx = g.volume.ny = g.volume.nz = 2;
    g.volume.voxel_x = g.volume.voxel_y = g.volume.voxel_z = 1;
    ct::ReconResult r;
    r.volume = Array<float>(g.volume_shape());
    r.volume[3] = NAN;
    try {
        ct::write_reconstruction(dir + "/ct.h5", g, r, "cpu", nullptr, dir + "/ct");
        FAIL() << "written";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::failure);
        EXPECT_NE(std::string(e.what()).find("/volume"), std::string::npos) << e.what();
    }
    ptycho::ReconResult p;
    p.object = Array<complex64>(Shape{4, 4});
    p.probe = Array<complex64>(Shape{2, 2});
    p.illumination = Array<float>(Shape{4, 4});
    p.object[5] = complex64(INFINITY, 0.0f);
    EXPECT_THROW(ptycho::write_result(dir + "/p.h5", p, ptycho::ReconOptions{}), Error);
    EXPECT_EQ(names_in(dir), std::vector<std::string>{});
}
