// Checkpoints end to end (issue #10): each program, killed with SIGTERM mid-run after it saved a
// checkpoint, dies of the signal leaving the checkpoint and nothing else; `recon --resume`
// then writes the result an uninterrupted run writes (the same numbers, bitwise: the CPU path
// is deterministic), and a resume with another input or other options is refused with exit 2
// naming the file or the flag.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lumen/io/hdf5.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
namespace fs = std::filesystem;

namespace {

// Starts `command` (through sh, exec'd so that the pid is the program's) with its output in `log`.
pid_t start(const std::string& command, const std::string& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const std::string line = "exec " + command + " > " + log + " 2>&1";
        ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return pid;
}

// Waits until `path` exists while `pid` runs. False when the program ended first, or after a
// minute (a hang guard, not a timing assertion: the programs take seconds).
bool wait_for_file(const std::string& path, pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(path)) return true;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

int wait_status(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

template <class T>
bool same_bits(const Array<T>& a, const Array<T>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(T)) == 0;
}

// Kills the recon `args` (without -o, which is added) with `sig` once its checkpoint exists,
// checks what it left, resumes it, and returns the resumed output's path.
std::string kill_and_resume(const std::string& dir, const std::string& program, const std::string& args, int sig) {
    const std::string out = dir + "/out.h5", checkpoint = out + ".checkpoint.h5";
    const std::vector<std::string> before = entries(dir);
    const pid_t pid = start(test::app_path(program) + " " + args + " -o " + out + " --checkpoint-every 2", dir + "/log");
    EXPECT_TRUE(wait_for_file(checkpoint, pid)) << "no checkpoint appeared";
    ::kill(pid, sig);
    const int status = wait_status(pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
    // The checkpoint and the log are all it left: no output, no staging directory.
    std::vector<std::string> expected = before;
    expected.push_back("log");
    expected.push_back("out.h5.checkpoint.h5");
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(entries(dir), expected);
    std::string log;
    EXPECT_EQ(test::run_command(test::app_path(program) + " " + args + " -o " + out + " --resume " + checkpoint, &log), 0)
        << log;
    EXPECT_FALSE(fs::exists(checkpoint)) << "a finished run removes its spent checkpoint";
    return out;
}

void expect_same_history(const io::H5File& a, const io::H5File& b) {
    for (const char* name : {"/history/iteration", "/history/objective", "/history/residual"})
        EXPECT_TRUE(same_bits(a.read_double(name), b.read_double(name))) << name;
}

// ---- CT

std::string ct_scan(const std::string& dir) {
    const std::string in = dir + "/scan.h5";
    EXPECT_EQ(test::run_command(test::app_path("lumen-ct") + " simulate " + in + " --size 24 --views 36 -q"), 0);
    return in;
}

class CtResume : public ::testing::TestWithParam<std::pair<std::string, int>> {};

TEST_P(CtResume, KilledRunResumesToTheUninterruptedResult) {
    const std::string dir = test::temp_dir();
    const std::string in = ct_scan(dir);
    const std::string args = "recon " + in + " --method " + GetParam().first + " --iters 60 --stop iterations --no-png -q";
    ASSERT_EQ(test::run_command(test::app_path("lumen-ct") + " " + args + " -o " + dir + "/ref.h5"), 0);
    const std::string out = kill_and_resume(dir, "lumen-ct", args, GetParam().second);
    const io::H5File a = io::H5File::open(out), b = io::H5File::open(dir + "/ref.h5");
    EXPECT_TRUE(same_bits(a.read_float("/volume"), b.read_float("/volume")));
    expect_same_history(a, b);
}

INSTANTIATE_TEST_SUITE_P(Methods, CtResume,
                         ::testing::Values(std::make_pair(std::string("sirt"), SIGTERM),
                                           std::make_pair(std::string("cgls"), SIGINT)),
                         [](const auto& i) { return i.param.first; });

// A checkpoint records what it was computed from: another option value or a changed input is
// refused (exit 2) naming the flag or the file, and the checkpoint stays for the right resume.
TEST(CtResumeRefusal, OtherOptionsOrChangedInputAreRefused) {
    const std::string dir = test::temp_dir();
    const std::string in = ct_scan(dir);
    const std::string out = dir + "/out.h5", checkpoint = out + ".checkpoint.h5";
    const std::string args = "recon " + in + " --method sirt --iters 60 --stop iterations --no-png -q -o " + out;
    const pid_t pid = start(test::app_path("lumen-ct") + " " + args + " --checkpoint-every 2", dir + "/log");
    ASSERT_TRUE(wait_for_file(checkpoint, pid));
    ::kill(pid, SIGTERM);
    wait_status(pid);
    ASSERT_TRUE(fs::exists(checkpoint));

    std::string log;
    EXPECT_EQ(test::run_command(test::app_path("lumen-ct") + " " + args + " --relaxation 1.5 --resume " + checkpoint, &log), 2);
    EXPECT_NE(log.find("--relaxation"), std::string::npos) << log;
    EXPECT_EQ(test::run_command(test::app_path("lumen-ct") + " recon " + in +
                                    " --method cgls --iters 60 --stop iterations --no-png -q -o " + out + " --resume " + checkpoint,
                                &log),
              2);
    EXPECT_NE(log.find("--method"), std::string::npos) << log;
    // The same bytes, another modification time: the input may have been rewritten since.
    const fs::file_time_type t = fs::last_write_time(in);
    fs::last_write_time(in, t + std::chrono::seconds(5));
    EXPECT_EQ(test::run_command(test::app_path("lumen-ct") + " " + args + " --resume " + checkpoint, &log), 2);
    EXPECT_NE(log.find(in), std::string::npos) << log;
    EXPECT_NE(log.find("changed"), std::string::npos) << log;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_TRUE(fs::exists(checkpoint));
}

// ---- MRI: slice granularity (the running slice is restarted)

TEST(MriResume, KilledRunResumesToTheUninterruptedResult) {
    const std::string dir = test::temp_dir();
    const std::string in = dir + "/scan.h5";
    ASSERT_EQ(test::run_command(test::app_path("lumen-mri") + " simulate " + in + " --size 128x96 --coils 4 --slices 8 -q"), 0);
    const std::string args = "recon " + in + " --method l1-wavelet --iters 60 --no-png -q";
    ASSERT_EQ(test::run_command(test::app_path("lumen-mri") + " " + args + " -o " + dir + "/ref.h5"), 0);
    const std::string out = kill_and_resume(dir, "lumen-mri", args, SIGTERM);
    const io::H5File a = io::H5File::open(out), b = io::H5File::open(dir + "/ref.h5");
    EXPECT_TRUE(same_bits(a.read_float("/reconstruction"), b.read_float("/reconstruction")));
    expect_same_history(a, b);
}

// ---- Ptychography

TEST(PtychoResume, KilledRunResumesToTheUninterruptedResult) {
    const std::string dir = test::temp_dir();
    const std::string in = dir + "/scan.cxi";
    ASSERT_EQ(test::run_command(test::app_path("lumen-ptycho") + " simulate " + in + " --frame 32 --positions 49 -q"), 0);
    for (const std::string method : {"awf", "epie"}) {
        const std::string args = "recon " + in + " --method " + method + " --iters 120 --no-png -q";
        ASSERT_EQ(test::run_command(test::app_path("lumen-ptycho") + " " + args + " -o " + dir + "/ref.h5"), 0);
        const std::string out = kill_and_resume(dir, "lumen-ptycho", args, SIGTERM);
        const io::H5File a = io::H5File::open(out), b = io::H5File::open(dir + "/ref.h5");
        EXPECT_TRUE(same_bits(a.read_complex("/object"), b.read_complex("/object"))) << method;
        EXPECT_TRUE(same_bits(a.read_complex("/probe"), b.read_complex("/probe"))) << method;
        expect_same_history(a, b);
        fs::remove(out);
        fs::remove(dir + "/ref.h5");
        fs::remove(dir + "/log");
    }
}

}  // namespace
