// The read watchdog (include/lumen/io/watchdog.hpp).
#include "lumen/io/watchdog.hpp"

#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "lumen/core/error.hpp"
#include "lumen/io/output.hpp"

namespace lumen::io {

namespace {

using Clock = std::chrono::steady_clock;

struct Watch {
    std::mutex mutex;
    int depth = 0;            // nested ReadWatches of the reading threads
    Clock::time_point since;  // when the outermost began
    std::string path;
    bool enabled = false;
    double limit_s = 0.0;
};
Watch& state() {
    static Watch w;
    return w;
}

// Test hook (tests/app/test_bad_input.cpp): LUMEN_TEST_READ_STALL=S makes every watched read of a
// file whose name contains "stall" sleep S seconds inside its watch, as a looping library call
// would stay inside it. No real file is named so by lumen.
void stall_for_tests(const std::string& path) {
    static const char* env = std::getenv("LUMEN_TEST_READ_STALL");
    if (!env || path.find("stall") == std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::atof(env)));
}

[[noreturn]] void expire(const std::string& path, double limit) {
    const char* prog = program_invocation_short_name ? program_invocation_short_name : "lumen";
    std::fprintf(stderr,
                 "%s: error: %s: reading took more than %g s inside libHDF5 (LUMEN_READ_TIMEOUT): a corrupt or crafted "
                 "file can make the library loop; nothing was written (set LUMEN_READ_TIMEOUT=0 to wait without limit)\n",
                 prog, path.c_str(), limit);
    std::fflush(stderr);
    remove_staged_outputs();
    std::_Exit(2);
}

void run_watchdog() {
    Watch& w = state();
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::lock_guard<std::mutex> lock(w.mutex);
        if (w.depth > 0 && std::chrono::duration<double>(Clock::now() - w.since).count() > w.limit_s)
            expire(w.path, w.limit_s);
    }
}

}  // namespace

double read_timeout_seconds() {
    const char* env = std::getenv("LUMEN_READ_TIMEOUT");
    if (!env || !*env) return 3600.0;
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (!(end && *end == '\0' && std::isfinite(v) && v >= 0.0))
        throw Error(ErrorCode::usage, std::string("LUMEN_READ_TIMEOUT is '") + env +
                                          "', expected a number of seconds >= 0 (0: no limit)");
    return v;
}

void enable_read_watchdog() {
    static std::once_flag once;
    const double limit = read_timeout_seconds();
    std::call_once(once, [limit] {
        if (limit <= 0.0) return;
        Watch& w = state();
        {
            std::lock_guard<std::mutex> lock(w.mutex);
            w.enabled = true;
            w.limit_s = limit;
        }
        std::thread(run_watchdog).detach();
    });
}

ReadWatch::ReadWatch(const std::string& path) {
    Watch& w = state();
    {
        std::lock_guard<std::mutex> lock(w.mutex);
        if (w.depth++ == 0) {
            w.since = Clock::now();
            w.path = path;
        }
    }
    stall_for_tests(path);
}

ReadWatch::~ReadWatch() {
    Watch& w = state();
    std::lock_guard<std::mutex> lock(w.mutex);
    --w.depth;
}

}  // namespace lumen::io
