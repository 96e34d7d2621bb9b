// The apps' OpenMP waiting policy (apps/common/omp_wait_policy.cpp, docs/cli.md "Threads and
// waiting"): passive unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT, and the user's choice
// kept. Observed through libgomp's own report of its settings (OMP_DISPLAY_ENV=verbose prints the
// spin count it uses: 0 for passive), so the test sees what libgomp read, not what lumen meant.
#include <string>

#include "tests/support/test_support.hpp"

namespace {

// libgomp's spin count as the program reports it at start-up, or "" when the OpenMP runtime
// prints no such line (not libgomp).
std::string spin_count(const std::string& program, const std::string& env) {
    std::string log;
    // ctest sets OMP_WAIT_POLICY for the tests: start from an environment without either variable.
    const std::string cmd = "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT " + env + " OMP_DISPLAY_ENV=verbose " +
                            lumen::test::app_path(program) + (program == "lumen-bench" ? " --list" : " --version");
    EXPECT_EQ(lumen::test::run_command(cmd, &log), 0) << log;
    const std::string key = "GOMP_SPINCOUNT = '";
    const auto at = log.find(key);
    if (at == std::string::npos) return "";
    const auto start = at + key.size();
    return log.substr(start, log.find('\'', start) - start);
}

}  // namespace

TEST(WaitPolicy, AppsWaitPassivelyUnlessTheUserChose) {
    if (spin_count("lumen-ptycho", "OMP_WAIT_POLICY=active").empty())
        GTEST_SKIP() << "the OpenMP runtime is not libgomp (no GOMP_SPINCOUNT in OMP_DISPLAY_ENV)";
    for (const std::string app : {"lumen-ptycho", "lumen-ct", "lumen-mri", "lumen-bench"}) {
        EXPECT_EQ(spin_count(app, ""), "0") << app << ": passive by default";
        EXPECT_EQ(spin_count(app, "OMP_WAIT_POLICY=active"), "30000000000") << app << ": the user's policy kept";
        EXPECT_EQ(spin_count(app, "GOMP_SPINCOUNT=1000"), "1000") << app << ": the user's spin count kept";
    }
}
