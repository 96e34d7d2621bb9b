// Staged, all-or-nothing output (include/lumen/io/output.hpp).
#include "lumen/io/output.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "src/text.hpp"

namespace lumen::io {

namespace {

namespace fs = std::filesystem;

// The paths a signal handler removes. Fixed-size storage, because a handler may only call
// async-signal-safe functions (unlink, rmdir): no allocation, no locks. A slot is published by
// storing its path first and then `state` (release); the handler reads `state` (acquire).
constexpr int k_slots = 256;
struct Slot {
    std::atomic<int> state{0};  // 0 free, 1 file, 2 directory
    char path[PATH_MAX];
};
Slot g_slots[k_slots];
std::mutex g_slots_mutex;  // between threads registering; the handler never takes it

int register_path(const std::string& path, int kind) {
    require(path.size() < PATH_MAX, path + ": path too long");
    std::lock_guard<std::mutex> lock(g_slots_mutex);
    for (int i = 0; i < k_slots; ++i) {
        if (g_slots[i].state.load(std::memory_order_acquire) != 0) continue;
        std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
        g_slots[i].state.store(kind, std::memory_order_release);
        return i;
    }
    throw Error(ErrorCode::internal, path + ": more than " + std::to_string(k_slots) + " outputs staged at once");
}

void release_slot(int slot) noexcept {
    if (slot >= 0) g_slots[slot].state.store(0, std::memory_order_release);
}

// SignalDeferral's state: whether one lives, and the signal it recorded.
std::atomic<int> g_defer{0};
volatile sig_atomic_t g_pending = 0;

extern "C" void lumen_cleanup_on_signal(int sig);

void arm(int sig) {
    struct sigaction sa {};
    sa.sa_handler = lumen_cleanup_on_signal;
    sigemptyset(&sa.sa_mask);
    for (int other : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&sa.sa_mask, other);
    sa.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &sa, nullptr);
}

extern "C" void lumen_cleanup_on_signal(int sig) {
    if ((sig == SIGINT || sig == SIGTERM) && g_defer.load(std::memory_order_acquire) && g_pending == 0) {
        // Deferred to the next iteration boundary (SignalDeferral). SA_RESETHAND has reset the
        // disposition: re-armed (sigaction is async-signal-safe), a second signal cleans up.
        g_pending = sig;
        arm(sig);
        return;
    }
    const int saved = errno;
    // Files first, then the (then empty) directories holding them.
    for (int kind = 1; kind <= 2; ++kind)
        for (Slot& s : g_slots)
            if (s.state.load(std::memory_order_acquire) == kind) {
                if (kind == 1) ::unlink(s.path);
                else ::rmdir(s.path);
            }
    errno = saved;
    // Die of the same signal, as without the handler, so that the caller sees the cause.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

int create_exclusive(const std::string& path, const std::string& what) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) throw Error(ErrorCode::bad_input, what + ": cannot create " + path + ": " + errno_text(errno));
    return fd;
}

void install_cleanup_handlers() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
            struct sigaction old {};
            // A signal the caller chose to ignore (nohup, a shell's background job) stays ignored.
            if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
            arm(sig);
        }
    });
}

SignalDeferral::SignalDeferral() {
    install_cleanup_handlers();
    int expected = 0;
    if (!g_defer.compare_exchange_strong(expected, 1))
        throw Error(ErrorCode::internal, "two checkpointing runs at once in one process");
    g_pending = 0;
}

SignalDeferral::~SignalDeferral() {
    g_defer.store(0, std::memory_order_release);
    if (g_pending != 0 && !acted_on_) die_of_pending_signal();
}

int signal_pending() noexcept { return g_pending; }

void remove_staged_outputs() noexcept {
    for (int kind = 1; kind <= 2; ++kind)
        for (Slot& s : g_slots)
            if (s.state.load(std::memory_order_acquire) == kind) {
                if (kind == 1) ::unlink(s.path);
                else ::rmdir(s.path);
            }
}

void die_of_pending_signal() noexcept {
    const int sig = g_pending;
    if (sig == 0) return;
    std::fflush(stderr);
    lumen_cleanup_on_signal(sig);  // g_defer is 0 here: removes the staged files, dies of sig
}

OutputSet::OutputSet(std::string input) : input_(std::move(input)) {}

OutputSet::~OutputSet() {
    if (!committed_) discard();
}

void OutputSet::discard() noexcept {
    for (const Staged& s : staged_) {
        ::unlink(s.temp.c_str());
        release_slot(s.slot);
    }
    for (const Dir& d : dirs_) {
        ::rmdir(d.path.c_str());
        release_slot(d.slot);
    }
    staged_.clear();
    dirs_.clear();
}

const OutputSet::Dir& OutputSet::staging_dir_for(const std::string& parent, const std::string& target) {
    for (const Dir& d : dirs_)
        if (d.parent == parent) return d;
    std::string templ = (fs::path(parent) / ".lumen-tmp-XXXXXX").string();
    // mkdtemp: a fresh random name created with mkdir (fails rather than reuse or follow anything
    // that exists), mode 0700 so that nobody else can add links inside.
    if (!::mkdtemp(templ.data())) {
        const int e = errno;
        throw Error(ErrorCode::bad_input, target + ": cannot write output in directory " + parent + ": " +
                                              errno_text(e) + (e == EACCES || e == EROFS ? " (not writable)" : ""));
    }
    dirs_.push_back(Dir{parent, templ, register_path(templ, 2)});
    return dirs_.back();
}

std::string OutputSet::stage(const std::string& target) {
    require(!committed_, target + ": output set already committed");
    require(!target.empty(), "output: empty output path");
    const fs::path p(target);
    require(p.has_filename() && p.filename() != "." && p.filename() != "..",
            target + ": the output path names a directory, expected a file name");
    const std::string parent = p.has_parent_path() ? p.parent_path().string() : std::string(".");
    std::error_code ec;
    const fs::file_status ps = fs::status(parent, ec);
    require(fs::exists(ps), target + ": cannot write output: directory " + parent + " does not exist");
    require(fs::is_directory(ps), target + ": cannot write output: " + parent + " is not a directory");
    // The target itself: absent, a regular file (replaced), or a link (the link is replaced, the
    // file it points to is never written). Anything else is refused rather than replaced.
    const fs::file_status ts = fs::symlink_status(target, ec);
    if (fs::exists(ts) && !fs::is_symlink(ts)) {
        require(!fs::is_directory(ts), target + ": the output path is a directory, expected a file name");
        require(fs::is_regular_file(ts), target + ": the output path exists and is not a regular file (a pipe, "
                                                   "socket or device?); refusing to replace it");
    }
    if (!input_.empty()) {
        const bool same_name = fs::weakly_canonical(target, ec) == fs::weakly_canonical(input_, ec);
        const bool same_file = fs::exists(target, ec) && fs::equivalent(target, input_, ec);
        if (same_name || same_file)
            throw Error(ErrorCode::invalid_option, "output: " + target + " is the input file " + input_ +
                                                       "; choose another output path", "output");
    }
    for (const std::string& t : targets_) {
        const bool same = t == target || fs::weakly_canonical(t, ec) == fs::weakly_canonical(target, ec);
        require(!same, target + ": this run writes that path twice (the output and a PNG preview?)");
    }
    const Dir& d = staging_dir_for(parent, target);
    const std::string temp = (fs::path(d.path) / p.filename()).string();
    staged_.push_back(Staged{target, temp, register_path(temp, 1)});
    targets_.push_back(target);
    return temp;
}

void OutputSet::finished(const std::string& temp) {
    for (Staged& s : staged_)
        if (s.temp == temp) s.finished = true;
}

void OutputSet::commit() {
    require(!committed_, "output set committed twice");
    for (const Staged& s : staged_) {
        struct stat st {};
        if (!s.finished || ::lstat(s.temp.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            throw Error(ErrorCode::internal, s.target + ": the staged output was never finished");
        // Data on disk before the rename makes it visible: after a power loss the target is the
        // old file or the complete new one, never an empty file.
        const int fd = ::open(s.temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
    }
    for (auto it = staged_.rbegin(); it != staged_.rend(); ++it) {
        if (::rename(it->temp.c_str(), it->target.c_str()) != 0) {
            const int e = errno;
            throw Error(ErrorCode::failure, it->target + ": cannot move the finished output into place: " +
                                                errno_text(e));
        }
        // Released after the rename: a signal in between only unlinks a name that is gone.
        release_slot(it->slot);
        it->slot = -1;
    }
    for (const Dir& d : dirs_) {
        ::rmdir(d.path.c_str());
        release_slot(d.slot);
    }
    dirs_.clear();
    staged_.clear();
    committed_ = true;
}

std::uint64_t memory_limit_bytes() {
    if (const char* env = std::getenv("LUMEN_MEMORY_LIMIT"); env && *env) {
        char* end = nullptr;
        const double v = std::strtod(env, &end);
        double scale = 1;
        if (end && *end) {
            switch (*end) {
                case 'k': case 'K': scale = 1024.0; break;
                case 'm': case 'M': scale = 1024.0 * 1024; break;
                case 'g': case 'G': scale = 1024.0 * 1024 * 1024; break;
                case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
                default: scale = 0;
            }
        }
        if (!(std::isfinite(v) && v > 0 && scale > 0))
            throw Error(ErrorCode::usage, std::string("LUMEN_MEMORY_LIMIT is '") + env +
                                              "', expected a positive number of bytes (suffix K, M, G or T allowed)");
        return std::uint64_t(std::min(v * scale, 1.8e19));
    }
    std::uint64_t limit = UINT64_MAX;
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) limit = std::uint64_t(pages) * std::uint64_t(page);
    for (int res : {RLIMIT_AS, RLIMIT_DATA}) {
        struct rlimit rl {};
        if (::getrlimit(res, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = std::min<std::uint64_t>(limit, rl.rlim_cur);
    }
    return limit;
}

void require_memory(double bytes, const std::string& what) {
    const double limit = double(memory_limit_bytes());
    if (bytes <= limit) return;
    throw Error(ErrorCode::bad_input, what + " needs about " + detail::num(bytes / 1e9) + " GB of memory, more than the " +
                                          detail::num(limit / 1e9) +
                                          " GB this machine allows (physical memory, ulimit, or LUMEN_MEMORY_LIMIT)");
}

void require_finite(View<const float> values, const std::string& what) {
    const Array<float> h = Array<float>::copy_of(values, Device::cpu);
    index_t bad = 0;
    for (float v : h) bad += !std::isfinite(v);
    if (bad)
        throw Error(ErrorCode::failure, what + " holds " + std::to_string(bad) + " non-finite value(s) of " +
                                            std::to_string(h.size()) + "; nothing was written");
}

void require_finite(View<const complex64> values, const std::string& what) {
    const Array<complex64> h = Array<complex64>::copy_of(values, Device::cpu);
    index_t bad = 0;
    for (const complex64& v : h) bad += !(std::isfinite(v.re) && std::isfinite(v.im));
    if (bad)
        throw Error(ErrorCode::failure, what + " holds " + std::to_string(bad) + " non-finite value(s) of " +
                                            std::to_string(h.size()) + "; nothing was written");
}

}  // namespace lumen::io
