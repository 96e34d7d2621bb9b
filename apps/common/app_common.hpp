// What every lumen app shares: the common options (--device, --iters, --quiet, --json), the
// mapping of errors to exit codes (0 ok, 1 reconstruction failure, 2 bad input or usage), a
// progress line on stderr and the JSON summary on stdout. Apps stay thin: they parse, call a
// library run_*() and report.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "lumen/core/checks.hpp"
#include "lumen/core/comm.hpp"
#include "lumen/core/device.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/io/checkpoint.hpp"

namespace lumen::app {

struct CommonOptions {
    std::string device = "auto";
    int iters = 0;  // 0: the method's default
    bool quiet = false;
    bool json = false;
    bool strict = false;  // a failed plausibility check is an error (exit 2)
    Device resolved_device() const { return parse_device(device, "--device"); }  // app code: names its flag
};

// Adds --device, --quiet, --json and --strict (and --iters when with_iters) to a subcommand.
void add_common_options(CLI::App& cmd, CommonOptions& options, bool with_iters = true);

// Adds --checkpoint FILE, --checkpoint-every N and --resume FILE to a recon subcommand
// (docs/cli.md, "Checkpoints and --resume").
void add_checkpoint_options(CLI::App& cmd, io::CheckpointOptions& options);

// Builds the app (setup adds subcommands with callbacks), parses, runs, and maps every error to
// its exit code with a one-line message "PROG: error: ..." on stderr.
int run_app(const std::string& prog, const std::string& description, int argc, char** argv,
            const std::function<void(CLI::App&)>& setup);

// Prints the JSON summary on stdout (one object, pretty-printed).
void print_json(const nlohmann::json& summary);

// The library names option fields ("ReconOptions.iterations"), never flags. An app registers the
// flag that sets each field; run_app then reports an Error(invalid_option) as "PROG: error: FLAG:
// message". A field with no flag is reported with its field name.
void flag_for_field(const std::string& field, const std::string& flag);
// The flag registered for a field, or "" when none.
std::string flag_of(const std::string& field);
// `text` with every registered field name in it replaced by its flag (longest names first), for
// library messages that mention fields in passing ("clamp them (ReconOptions.min_transmission)").
// run_app and CheckReporter pass every error and warning through it.
std::string with_flags(const std::string& text);

// Where the human-readable result lines go: stdout, or nowhere with --quiet (which silences
// everything but errors).
std::ostream& out(const CommonOptions& options);

// The keys every --json summary starts with (docs/cli.md, "JSON summary"):
//   {"program": "lumen-ct", "command": "recon", "lumen_version": "0.1.0", "time_s": 1.23}
// Subcommands that compute on a device add "device"; those that read or write files add "input"
// and "output"; iterative ones add "method", "iterations", "stop_reason"; with a truth "quality".
nlohmann::json json_summary(const std::string& prog, const std::string& command, double seconds);

// A distributed run's communication (lumen/core/comm.hpp) for the JSON summary:
// {"ranks", "wait_s", "communication_s", "bytes"}.
nlohmann::json communication_json(const CommunicationStats& stats);

// The measured metrics of a Quality as a JSON object ({"psnr_db": .., "nrmse": .., ...}; metrics
// not measured are left out).
nlohmann::json quality_json(const Quality& quality);
// The same as one line of text: "PSNR 31.20 dB, NRMSE 0.0312, SSIM 0.9310".
std::string quality_text(const Quality& quality);
// Prints "PROG: against the truth: PSNR ..." on out(options) when a metric was measured.
void print_quality(const std::string& prog, const Quality& quality, const CommonOptions& options);

// A progress line on stderr for long work: "\rPROG: LABEL 12/100 (objective 1.2e-03) 3.4 s".
// On a terminal it rewrites one line; otherwise it prints a line about every 10%. Silent when quiet.
// Installs, for its lifetime, the sink for the library's plausibility checks (lumen/core/checks.hpp):
// prints "PROG: warning: [id] message" on stderr for a failed check (and "PROG: check: [id] ok,
// message" for a passed one when verbose_ok, as `info` does), unless quiet; collects all for
// --json; with strict, a failed check throws Error(bad_input) naming the check.
class CheckReporter {
public:
    CheckReporter(std::string prog, const CommonOptions& options, bool verbose_ok = false);
    // [{"id", "ok", "message"}, ...] for the JSON summary.
    nlohmann::json json() const;
    std::size_t warning_count() const;

private:
    std::string prog_;
    bool quiet_, strict_, verbose_ok_;
    std::vector<CheckResult> results_;
    ScopedCheckSink scope_;
};

class Progress {
public:
    Progress(std::string prog, std::string label, long total, bool quiet);
    void update(long done, const std::string& detail = "");
    void finish(const std::string& detail = "");
    double elapsed_seconds() const;

private:
    std::string prog_, label_;
    long total_;
    bool quiet_, tty_;
    long last_printed_ = -1;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace lumen::app
