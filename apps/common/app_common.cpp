#include "apps/common/app_common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <new>
#include <sstream>

#include "lumen/core/comm.hpp"
#include "lumen/core/error.hpp"
#include "lumen/io/output.hpp"
#include "lumen/io/watchdog.hpp"
#include "lumen/version.hpp"

namespace lumen::app {

void add_common_options(CLI::App& cmd, CommonOptions& options, bool with_iters) {
    cmd.add_option("--device", options.device, "where to compute: cpu, cuda or auto (cuda when a GPU is present)")
        ->capture_default_str();
    // 0 is the internal "method default"; a user who types --iters 0 gets an error, not that.
    if (with_iters)
        cmd.add_option("--iters", options.iters, "number of iterations (default: the method's own)")
            ->check(CLI::PositiveNumber);
    cmd.add_flag("--quiet,-q", options.quiet, "no progress output on stderr");
    cmd.add_flag("--json", options.json, "print a machine-readable summary on stdout");
    cmd.add_flag("--strict", options.strict, "treat a failed plausibility check (a warning) as an error, exit 2");
}

void add_checkpoint_options(CLI::App& cmd, io::CheckpointOptions& options) {
    cmd.add_option("--checkpoint", options.path,
                   "save the iterative state here on SIGINT/SIGTERM (and with --checkpoint-every); default with "
                   "--checkpoint-every: OUTPUT.checkpoint.h5");
    cmd.add_option("--checkpoint-every", options.every, "also save a checkpoint after every N iterations")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--resume", options.resume,
                   "continue from this checkpoint (same input and options); the result equals an uninterrupted run's");
    flag_for_field("CheckpointOptions.path", "--checkpoint");
    flag_for_field("CheckpointOptions.every", "--checkpoint-every");
}

CheckReporter::CheckReporter(std::string prog, const CommonOptions& options, bool verbose_ok)
    : prog_(std::move(prog)), quiet_(options.quiet || !world().root()), strict_(options.strict), verbose_ok_(verbose_ok),
      scope_([this](const CheckResult& library_result) {
          CheckResult r = library_result;
          r.message = with_flags(r.message);  // fields named in a hint read as this app's flags
          results_.push_back(r);
          if (!r.ok && strict_)
              throw Error(ErrorCode::bad_input, "check " + r.id + " failed (--strict): " + r.message);
          if (quiet_) return;
          if (!r.ok)
              std::fprintf(stderr, "%s: warning: [%s] %s\n", prog_.c_str(), r.id.c_str(), r.message.c_str());
          else if (verbose_ok_)
              std::fprintf(stderr, "%s: check: [%s] ok, %s\n", prog_.c_str(), r.id.c_str(), r.message.c_str());
      }) {}

nlohmann::json CheckReporter::json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : results_) out.push_back({{"id", r.id}, {"ok", r.ok}, {"message", r.message}});
    return out;
}

std::size_t CheckReporter::warning_count() const {
    std::size_t n = 0;
    for (const auto& r : results_) n += r.ok ? 0 : 1;
    return n;
}

namespace {
std::map<std::string, std::string>& field_flags() {
    static std::map<std::string, std::string> table;
    return table;
}

// "FIELD: message" from the library becomes "FLAG: message" when the app has a flag for FIELD, and
// fields named inside the message become flags too.
std::string with_flag(const Error& e) {
    const std::string message = e.what();
    if (e.field().empty()) return with_flags(message);
    const std::string flag = flag_of(e.field());
    if (flag.empty()) return with_flags(message);
    const std::string prefix = e.field() + ": ";
    if (message.compare(0, prefix.size(), prefix) == 0) return flag + ": " + with_flags(message.substr(prefix.size()));
    return flag + ": " + with_flags(message);
}

// A stream that discards everything (for --quiet).
struct NullBuffer : std::streambuf {
    int overflow(int c) override { return c; }
};
}  // namespace

void flag_for_field(const std::string& field, const std::string& flag) { field_flags()[field] = flag; }

std::string flag_of(const std::string& field) {
    const auto it = field_flags().find(field);
    return it == field_flags().end() ? std::string() : it->second;
}

std::string with_flags(const std::string& text) {
    if (field_flags().empty() || text.find('.') == std::string::npos) return text;
    std::vector<const std::pair<const std::string, std::string>*> by_length;
    for (const auto& entry : field_flags()) by_length.push_back(&entry);
    std::sort(by_length.begin(), by_length.end(),
              [](const auto* a, const auto* b) { return a->first.size() > b->first.size(); });
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool replaced = false;
        // A field starts a word: "Struct.member" after a non-identifier character.
        const bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_');
        if (word_start && std::isupper(static_cast<unsigned char>(text[i])))
            for (const auto* entry : by_length) {
                const std::string& field = entry->first;
                const std::size_t end = i + field.size();
                const bool word_end =
                    end >= text.size() || !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_');
                if (word_end && text.compare(i, field.size(), field) == 0) {
                    out += entry->second;
                    i = end;
                    replaced = true;
                    break;
                }
            }
        if (!replaced) out += text[i++];
    }
    return out;
}

std::ostream& out(const CommonOptions& options) {
    static NullBuffer null_buffer;
    static std::ostream null_stream(&null_buffer);
    // In a distributed run (docs/scaling.md) rank 0 speaks for the job.
    return options.quiet || !world().root() ? null_stream : std::cout;
}

nlohmann::json json_summary(const std::string& prog, const std::string& command, double seconds) {
    return {{"program", prog}, {"command", command}, {"lumen_version", LUMEN_VERSION}, {"time_s", seconds},
            {"ranks", world().size()}};
}

nlohmann::json communication_json(const CommunicationStats& c) {
    return {{"ranks", c.ranks}, {"wait_s", c.wait_s}, {"communication_s", c.communication_s}, {"bytes", c.bytes}};
}

nlohmann::json quality_json(const Quality& q) {
    nlohmann::json j = nlohmann::json::object();
    auto put = [&](const char* key, double v) {
        if (std::isfinite(v)) j[key] = v;
    };
    put("psnr_db", q.psnr_db);
    put("peak", q.peak);
    put("nrmse", q.nrmse);
    put("nmse", q.nmse);
    put("ssim", q.ssim);
    put("nrmse_probe", q.nrmse_probe);
    return j;
}

std::string quality_text(const Quality& q) {
    std::ostringstream s;
    const char* sep = "";
    auto put = [&](const char* label, double v, int precision, const char* unit) {
        if (!std::isfinite(v)) return;
        s << sep << label << " " << std::fixed;
        s.precision(precision);
        s << v << unit;
        sep = ", ";
    };
    put("PSNR", q.psnr_db, 2, " dB");
    put("NRMSE", q.nrmse, 4, "");
    put("NMSE", q.nmse, 5, "");
    put("SSIM", q.ssim, 4, "");
    put("probe NRMSE", q.nrmse_probe, 4, "");
    return s.str();
}

void print_quality(const std::string& prog, const Quality& quality, const CommonOptions& options) {
    if (!quality.measured()) return;
    out(options) << prog << ": against the truth: " << quality_text(quality) << "\n";
}

namespace {
// A message on stderr in one write, so that the lines of several ranks (docs/scaling.md) do not
// interleave mid-line.
void say(const std::string& text) {
    std::cerr.flush();
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

// The exit status of a failed run. In a distributed run (docs/scaling.md) the failing rank says
// which it is and ends the whole job with that status (MPI_Abort): the other ranks would otherwise
// wait for it in their next collective, and no rank has committed an output yet.
int failed(const std::string& prog, int status) {
    const Communicator& ranks = world();
    if (ranks.distributed()) {
        say(prog + ": rank " + std::to_string(ranks.rank()) + " of " + std::to_string(ranks.size()) +
            " failed; ending the job\n");
        ranks.abort(status);
    }
    return status;
}
}  // namespace

int run_app(const std::string& prog, const std::string& description, int argc, char** argv,
            const std::function<void(CLI::App&)>& setup) {
    // An interrupted run removes the outputs it staged (lumen/io/output.hpp).
    io::install_cleanup_handlers();
    // Under an MPI launcher, MPI starts here, before any thread (lumen/core/comm.hpp).
    (void)world();
    CLI::App app{description, prog};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(prog) + " (lumen) " + LUMEN_VERSION);
    try {
        // Reads of user files get a time limit (LUMEN_READ_TIMEOUT; lumen/io/watchdog.hpp).
        io::enable_read_watchdog();
        setup(app);
        app.parse(argc, argv);
        return 0;
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
        say(prog + ": error: " + e.what() + "\n(see '" + prog + " --help')\n");
        return failed(prog, 2);
    } catch (const Error& e) {
        if (e.code() == ErrorCode::interrupted) {
            // A checkpoint was saved for SIGINT/SIGTERM: say where, then die of that signal (its
            // temporaries are gone already), as a run without checkpoints would.
            std::cerr << prog << ": " << e.what() << "\n";
            io::die_of_pending_signal();
            return e.exit_code();
        }
        say(prog + ": error: " + with_flag(e) + "\n");
        return failed(prog, e.exit_code());
    } catch (const std::bad_alloc&) {
        say(prog + ": error: out of host memory; try a smaller problem\n");
        return failed(prog, 1);
    } catch (const std::exception& e) {
        say(prog + ": error: " + e.what() + "\n");
        return failed(prog, 1);
    }
}

void print_json(const nlohmann::json& summary) {
    if (world().root()) std::cout << summary.dump(2) << std::endl;
}

Progress::Progress(std::string prog, std::string label, long total, bool quiet)
    : prog_(std::move(prog)), label_(std::move(label)), total_(total), quiet_(quiet || !world().root()), tty_(::isatty(2) == 1),
      start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(long done, const std::string& detail) {
    if (quiet_) return;
    const long step = std::max(1L, total_ / 10);
    if (!tty_ && done != total_ && (last_printed_ >= 0 && done - last_printed_ < step)) return;
    last_printed_ = done;
    std::fprintf(stderr, "%s%s: %s %ld/%ld%s%s %.1f s%s", tty_ ? "\r" : "", prog_.c_str(), label_.c_str(), done, total_,
                 detail.empty() ? "" : " ", detail.c_str(), elapsed_seconds(), tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
}

void Progress::finish(const std::string& detail) {
    if (quiet_) return;
    std::fprintf(stderr, "%s%s: %s done%s%s in %.2f s\n", tty_ ? "\r" : "", prog_.c_str(), label_.c_str(),
                 detail.empty() ? "" : ", ", detail.c_str(), elapsed_seconds());
}

}  // namespace lumen::app
