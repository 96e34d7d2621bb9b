#include "apps/common/app_common.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <new>

#include "lumen/core/error.hpp"

namespace lumen::app {

void add_common_options(CLI::App& cmd, CommonOptions& options, bool with_iters) {
    cmd.add_option("--device", options.device, "where to compute: cpu, cuda or auto (cuda when a GPU is present)")
        ->capture_default_str();
    if (with_iters) cmd.add_option("--iters", options.iters, "number of iterations (default: the method's own)");
    cmd.add_flag("--quiet,-q", options.quiet, "no progress output on stderr");
    cmd.add_flag("--json", options.json, "print a machine-readable summary on stdout");
}

int run_app(const std::string& prog, const std::string& description, int argc, char** argv,
            const std::function<void(CLI::App&)>& setup) {
    CLI::App app{description, prog};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(prog) + " (lumen)");
    try {
        setup(app);
        app.parse(argc, argv);
        return 0;
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
        std::cerr << prog << ": error: " << e.what() << "\n(see '" << prog << " --help')\n";
        return 2;
    } catch (const Error& e) {
        std::cerr << prog << ": error: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::bad_alloc&) {
        std::cerr << prog << ": error: out of host memory; try a smaller problem\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << prog << ": error: " << e.what() << "\n";
        return 1;
    }
}

void print_json(const nlohmann::json& summary) { std::cout << summary.dump(2) << std::endl; }

Progress::Progress(std::string prog, std::string label, long total, bool quiet)
    : prog_(std::move(prog)), label_(std::move(label)), total_(total), quiet_(quiet), tty_(::isatty(2) == 1),
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
