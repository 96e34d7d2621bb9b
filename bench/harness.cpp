#include "bench/harness.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace lumen::bench {

std::vector<CaseInfo>& registry() {
    static std::vector<CaseInfo> cases;
    return cases;
}

Registrar::Registrar(const char* name, const char* description, void (*fn)(Bench&)) {
    registry().push_back({name, description, fn});
}

namespace {
Row measure(const std::string& case_name, const std::string& label, const std::string& device, int warmup, int repeats,
            const std::function<void()>& body, const std::vector<std::pair<std::string, double>>& rates) {
    for (int i = 0; i < warmup; ++i) body();
    std::vector<double> t;
    for (int i = 0; i < std::max(1, repeats); ++i) {
        const auto start = std::chrono::steady_clock::now();
        body();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    Row row{case_name, label, device, t[t.size() / 2], t.front(), t.back(), int(t.size()), {}};
    for (const auto& [unit, amount] : rates) row.figures.emplace_back(unit, amount / row.median_s);
    return row;
}
}  // namespace

void Bench::time(const std::string& label, const std::function<void()>& body,
                 const std::vector<std::pair<std::string, double>>& rates, const Work& work) {
    const Device d = options_.device;
    auto synced = [&] {
        body();
        synchronize(d);
    };
    Row row = measure(case_name_, label, device_name(d), options_.warmup, options_.repeats, synced, rates);
    add_peak_fractions(row, work);
    rows_.push_back(std::move(row));
}

void Bench::record(const std::string& label, double seconds, const std::vector<std::pair<std::string, double>>& rates,
                   const Work& work) {
    Row row{case_name_, label, device_name(options_.device), seconds, seconds, seconds, 1, {}};
    if (seconds > 0)
        for (const auto& [unit, amount] : rates) row.figures.emplace_back(unit, amount / seconds);
    add_peak_fractions(row, work);
    rows_.push_back(std::move(row));
}

void Bench::add_peak_fractions(Row& row, const Work& work) const {
    // Achieved / peak = (least work / median time) / peak: 100 % would be a kernel that moves only
    // the bytes it must at full bandwidth (or issues only its FP32 operations at full rate).
    if (row.median_s > 0 && work.bytes > 0 && options_.peak_gb_per_s > 0)
        row.figures.emplace_back("% bw peak", 100.0 * work.bytes / row.median_s / (options_.peak_gb_per_s * 1e9));
    if (row.median_s > 0 && work.flops > 0 && options_.peak_tflop_per_s > 0)
        row.figures.emplace_back("% fp32 peak", 100.0 * work.flops / row.median_s / (options_.peak_tflop_per_s * 1e12));
}

void Bench::time_command(const std::string& label, const std::string& command,
                         const std::vector<std::pair<std::string, double>>& rates) {
    auto body = [&] {
        const int rc = std::system((command + " >/dev/null 2>&1").c_str());
        if (rc != 0) throw std::runtime_error("peer command failed (" + std::to_string(rc) + "): " + command);
    };
    rows_.push_back(measure(case_name_, label, "cpu", options_.warmup, options_.repeats, body, rates));
}

void Bench::figure(const std::string& label, const std::string& name, double value) {
    Row row{case_name_, label, device_name(options_.device), 0, 0, 0, 0, {{name, value}}};
    rows_.push_back(row);
}

double Bench::median_of(const std::string& label) const {
    for (const Row& r : rows_)
        if (r.label == label && r.runs > 0) return r.median_s;
    return 0.0;
}

std::string peer_python() {
    const char* env = std::getenv("LUMEN_PEER_PYTHON");
    return env && *env ? std::string(env) : std::string("python3");
}

std::string peer_script(const std::string& name) {
    const char* env = std::getenv("LUMEN_BENCH_PEERS");
    return (env && *env ? std::string(env) : std::string(LUMEN_BENCH_PEERS_DIR)) + "/" + name;
}

bool peer_python_has(const std::vector<std::string>& modules) {
    std::string imports;
    for (const std::string& m : modules) imports += (imports.empty() ? "import " : ", ") + m;
    const std::string cmd = "'" + peer_python() + "' -c '" + imports + "' > /dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

}  // namespace lumen::bench
