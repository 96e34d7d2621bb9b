// lumen-bench's harness: named cases that time work with warm-up and repeats and print a table
// (and optionally JSON). A modality adds a file bench/cases_<modality>.cpp with
//
//   LUMEN_BENCH_CASE("ct/forward-projection", "forward projection, 256^3 from 360 views") {
//       ... set up (not timed) ...
//       bench.time("lumen", [&] { project(...); }, {{"Gvox/s", voxels * 1e-9}});   // per-second figure
//   }
//
// bench.time() runs the body warmup + repeats times, synchronising the device after each run, and
// records the median, min and max. Figures given as {"unit/s", amount} are reported as amount / median.
// A Work (the least memory traffic and FP32 operations one run needs, docs/gpu-performance.md has
// each case's model) adds the fractions of the peaks reached: "% bw peak" and "% fp32 peak", for
// GPU rows from the device's properties, for any row when --param peak_gbs=/peak_tflops= are given.
// bench.figure() records a plain number (a quality, a ratio). Benchmarks never assert timings.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/device.hpp"

namespace lumen::bench {

struct Options {
    Device device = Device::cpu;
    int warmup = 1;
    int repeats = 3;
    std::string size = "small";  // small (CPU-friendly) or large (GPU sizes)
    std::map<std::string, std::string> params;  // --param key=value, for cases that take them
    // Peaks the fractions are taken of (0: none printed); set by main() from the GPU or --param.
    double peak_gb_per_s = 0.0, peak_tflop_per_s = 0.0;
};

// The least work one timed run has to do, whatever the implementation: bytes that must cross the
// memory bus (each input read once, each output written once) and FP32 operations.
struct Work {
    double bytes = 0.0;
    double flops = 0.0;
};

struct Row {
    std::string case_name, label, device;
    double median_s = 0, min_s = 0, max_s = 0;
    int runs = 0;
    std::vector<std::pair<std::string, double>> figures;
};

class Bench {
public:
    Bench(std::string case_name, const Options& options) : case_name_(std::move(case_name)), options_(options) {}
    const Options& options() const { return options_; }
    Device device() const { return options_.device; }
    bool large() const { return options_.size == "large"; }

    // Times `body`; `rates` are {"unit/s", amount per run}; `work` adds the fractions of the peaks.
    void time(const std::string& label, const std::function<void()>& body,
              const std::vector<std::pair<std::string, double>>& rates = {}, const Work& work = {});
    // Records a time the case measured itself (e.g. the median step of a solver's history, which
    // leaves out the set-up), with the same rates and peak fractions as time().
    void record(const std::string& label, double seconds, const std::vector<std::pair<std::string, double>>& rates = {},
                const Work& work = {});
    // Times an external command (a peer tool) with the same warm-up and repeats.
    void time_command(const std::string& label, const std::string& command,
                      const std::vector<std::pair<std::string, double>>& rates = {});
    // Records a number without timing (quality, ratio, bandwidth fraction...).
    void figure(const std::string& label, const std::string& name, double value);

    const std::vector<Row>& rows() const { return rows_; }
    // Median seconds of an earlier time() row with this label (for ratios), or 0.
    double median_of(const std::string& label) const;

private:
    void add_peak_fractions(Row& row, const Work& work) const;
    std::string case_name_;
    Options options_;
    std::vector<Row> rows_;
};

// Python peers (RTK from `itk-rtk`, pty-chi from `ptychi`, installed from PyPI, often in a venv of
// their own): the interpreter that runs them is $LUMEN_PEER_PYTHON, else `python3` on the PATH.
std::string peer_python();
// True when peer_python() imports every module named (e.g. {"itk", "numpy"}); a case that needs a
// missing peer records "<peer>: not installed" and goes on without it.
bool peer_python_has(const std::vector<std::string>& modules);
// The path of a peer's script: bench/peers/<name> of the source tree, or of the folder named by
// $LUMEN_BENCH_PEERS (an installed lumen-bench, or another copy of the scripts).
std::string peer_script(const std::string& name);

struct CaseInfo {
    std::string name, description;
    std::function<void(Bench&)> run;
};
std::vector<CaseInfo>& registry();
struct Registrar {
    Registrar(const char* name, const char* description, void (*fn)(Bench&));
};

}  // namespace lumen::bench

#define LUMEN_BENCH_CONCAT2(a, b) a##b
#define LUMEN_BENCH_CONCAT(a, b) LUMEN_BENCH_CONCAT2(a, b)
#define LUMEN_BENCH_CASE(name, description)                                                                \
    static void LUMEN_BENCH_CONCAT(lumen_bench_case_, __LINE__)(::lumen::bench::Bench & bench);            \
    static ::lumen::bench::Registrar LUMEN_BENCH_CONCAT(lumen_bench_reg_, __LINE__)(                       \
        name, description, &LUMEN_BENCH_CONCAT(lumen_bench_case_, __LINE__));                              \
    static void LUMEN_BENCH_CONCAT(lumen_bench_case_, __LINE__)([[maybe_unused]] ::lumen::bench::Bench & bench)
