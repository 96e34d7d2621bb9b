// Plausibility checks: one channel through which readers and reconstructions report whether a
// scan looks the way its file says it is (frames centred, probe overlap, opposing CT views
// consistent with the geometry, k-space centre where the header says, ...).
//
// A check never changes a result. It reports through the sink installed for the current thread;
// with none installed, failed checks print "lumen: warning: ..." on stderr and passed checks are
// silent. The apps install a sink that prints a line per check, collects them for --json and,
// with --strict, turns a failed check into an error (exit 2) for pipelines.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace lumen {

struct CheckResult {
    std::string id;       // stable, dotted: "ptycho.frames_centred", "ct.opposing_views", ...
    bool ok = true;       // false: a warning
    std::string message;  // what was measured, and (when !ok) what to change
};

using CheckSink = std::function<void(const CheckResult&)>;

// Reports one check to the current thread's sink.
void report_check(const std::string& id, bool ok, const std::string& message);
// Shorthand for a failed check.
inline void warn(const std::string& id, const std::string& message) { report_check(id, false, message); }

// Installs `sink` for the current thread for the lifetime of this object (nests; restores the
// previous sink on destruction).
class ScopedCheckSink {
public:
    explicit ScopedCheckSink(CheckSink sink);
    ~ScopedCheckSink();
    ScopedCheckSink(const ScopedCheckSink&) = delete;
    ScopedCheckSink& operator=(const ScopedCheckSink&) = delete;

private:
    CheckSink previous_;
};

// Collects every check reported while it lives (tests and library callers use it).
class CheckCollector {
public:
    CheckCollector();
    const std::vector<CheckResult>& results() const { return results_; }
    // The failed checks only.
    std::vector<CheckResult> warnings() const;
    bool has_warning(const std::string& id) const;

private:
    std::vector<CheckResult> results_;
    ScopedCheckSink scope_;
};

}  // namespace lumen
