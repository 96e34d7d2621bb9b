// lumen-bench: runs the registered benchmark cases and prints a table (and JSON with --json FILE).
//   lumen-bench --list
//   lumen-bench --filter ct/ --device cpu --repeats 3 --size small --json ct.json
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <regex>

#include "apps/common/app_common.hpp"
#include "bench/harness.hpp"
#include "lumen/core/error.hpp"
#include "lumen/version.hpp"

using namespace lumen;

int main(int argc, char** argv) {
    std::string filter = ".*", json_path, device = "cpu";
    std::vector<std::string> params;
    bench::Options options;
    bool list = false;
    CLI::App app{"lumen-bench: timings of lumen's operators and reconstructions", "lumen-bench"};
    app.add_flag("--list", list, "list the cases and exit");
    app.add_option("--filter", filter, "run the cases whose name matches this regular expression");
    app.add_option("--device", device, "cpu, cuda or auto")->capture_default_str();
    app.add_option("--warmup", options.warmup, "untimed runs before timing")->capture_default_str();
    app.add_option("--repeats", options.repeats, "timed runs (the median is reported)")->capture_default_str();
    app.add_option("--size", options.size, "small (CPU sizes) or large (GPU sizes)")
        ->check(CLI::IsMember({"small", "large"}))->capture_default_str();
    app.add_option("--param", params, "key=value passed to the cases");
    app.add_option("--json", json_path, "also write the results as JSON to this file");
    try {
        app.parse(argc, argv);
        options.device = parse_device(device, "--device");
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "lumen-bench: error: %s\n", e.what());
        return e.exit_code();
    }
    for (const auto& p : params) {
        const auto eq = p.find('=');
        if (eq == std::string::npos) {
            std::fprintf(stderr, "lumen-bench: error: --param %s: expected key=value\n", p.c_str());
            return 2;
        }
        options.params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    if (list) {
        for (const auto& c : bench::registry()) std::printf("%-36s %s\n", c.name.c_str(), c.description.c_str());
        return 0;
    }
    const std::regex re(filter);
    nlohmann::json results = nlohmann::json::array();
    std::printf("lumen %s benchmarks on %s (%s)\n", LUMEN_VERSION, device_name(options.device),
                options.device == Device::cuda ? cuda_device_description().c_str() : "OpenMP CPU path");
    std::printf("%-30s %-28s %-5s %11s %11s  %s\n", "case", "label", "dev", "median s", "min s", "figures");
    int failures = 0;
    for (const auto& c : bench::registry()) {
        if (!std::regex_search(c.name, re)) continue;
        bench::Bench b(c.name, options);
        try {
            c.run(b);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "lumen-bench: case %s failed: %s\n", c.name.c_str(), e.what());
            ++failures;
        }
        for (const auto& r : b.rows()) {
            std::string figs;
            nlohmann::json jf = nlohmann::json::object();
            for (const auto& [k, v] : r.figures) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%.4g %s  ", v, k.c_str());
                figs += buf;
                jf[k] = v;
            }
            if (r.runs > 0)
                std::printf("%-30s %-28s %-5s %11.4g %11.4g  %s\n", r.case_name.c_str(), r.label.c_str(),
                            r.device.c_str(), r.median_s, r.min_s, figs.c_str());
            else
                std::printf("%-30s %-28s %-5s %11s %11s  %s\n", r.case_name.c_str(), r.label.c_str(), r.device.c_str(),
                            "-", "-", figs.c_str());
            results.push_back({{"case", r.case_name}, {"label", r.label}, {"device", r.device},
                               {"median_s", r.median_s}, {"min_s", r.min_s}, {"max_s", r.max_s},
                               {"runs", r.runs}, {"figures", jf}});
        }
        std::fflush(stdout);
    }
    if (!json_path.empty()) {
        std::ofstream f(json_path);
        f << nlohmann::json{{"lumen_version", LUMEN_VERSION}, {"device", device_name(options.device)},
                            {"results", results}}
                 .dump(2);
    }
    return failures ? 1 : 0;
}
