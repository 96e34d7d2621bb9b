// lumen-bench: runs the registered benchmark cases and prints a table (and JSON with --json FILE).
//   lumen-bench --list
//   lumen-bench --filter ct/ --device cpu --repeats 3 --size small --json ct.json
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
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
    // Peaks for the "% of peak" figures: --param peak_gbs= / peak_tflops= override (another
    // datasheet, or a CPU's), else the GPU's own properties on --device cuda; none on the CPU.
    try {
        if (options.device == Device::cuda) {
            const GpuPeaks p = cuda_device_peaks();
            options.peak_gb_per_s = p.memory_gb_per_s;
            options.peak_tflop_per_s = p.fp32_tflop_per_s;
        }
        if (auto it = options.params.find("peak_gbs"); it != options.params.end()) options.peak_gb_per_s = std::stod(it->second);
        if (auto it = options.params.find("peak_tflops"); it != options.params.end())
            options.peak_tflop_per_s = std::stod(it->second);
    } catch (const std::exception&) {
        std::fprintf(stderr, "lumen-bench: error: --param peak_gbs= and peak_tflops= take numbers\n");
        return 2;
    }
    if (list) {
        for (const auto& c : bench::registry()) std::printf("%-36s %s\n", c.name.c_str(), c.description.c_str());
        return 0;
    }
    const std::regex re(filter);
    nlohmann::json results = nlohmann::json::array();
    std::printf("lumen %s benchmarks on %s (%s)\n", LUMEN_VERSION, device_name(options.device),
                options.device == Device::cuda ? cuda_device_description().c_str() : "OpenMP CPU path");
    if (options.peak_gb_per_s > 0 || options.peak_tflop_per_s > 0)
        std::printf("peaks for the %% figures: %.4g GB/s memory, %.4g FP32 TFLOP/s\n", options.peak_gb_per_s,
                    options.peak_tflop_per_s);
    std::printf("%-30s %-28s %-5s %11s %11s  %s\n", "case", "label", "dev", "median s", "min s", "figures");
    // The JSON file is rewritten after every case, so a run cut short (a deadline, a crash in a
    // later case) still leaves the figures of the cases that finished.
    auto write_json = [&](bool complete) {
        if (json_path.empty()) return;
        const std::string tmp = json_path + ".tmp-write";
        {
            std::ofstream f(tmp);
            f << nlohmann::json{{"lumen_version", LUMEN_VERSION},
                                {"device", device_name(options.device)},
                                {"device_description",
                                 options.device == Device::cuda ? cuda_device_description() : "OpenMP CPU path"},
                                {"peak_gb_per_s", options.peak_gb_per_s},
                                {"peak_tflop_per_s", options.peak_tflop_per_s},
                                {"complete", complete},
                                {"results", results}}
                     .dump(2);
        }
        std::rename(tmp.c_str(), json_path.c_str());
    };
    int failures = 0;
    for (const auto& c : bench::registry()) {
        if (!std::regex_search(c.name, re)) continue;
        bench::Bench b(c.name, options);
        try {
            c.run(b);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "lumen-bench: case %s failed: %s\n", c.name.c_str(), e.what());
            std::printf("%-30s FAILED: %s\n", c.name.c_str(), e.what());
            results.push_back({{"case", c.name}, {"error", e.what()}});
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
        write_json(false);
    }
    write_json(true);
    return failures ? 1 : 0;
}
