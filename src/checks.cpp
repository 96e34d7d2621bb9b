#include "lumen/core/checks.hpp"

#include <cstdio>
#include <utility>

namespace lumen {

namespace {
thread_local CheckSink current_sink;
}

void report_check(const std::string& id, bool ok, const std::string& message) {
    if (current_sink) {
        current_sink(CheckResult{id, ok, message});
        return;
    }
    if (!ok) std::fprintf(stderr, "lumen: warning: [%s] %s\n", id.c_str(), message.c_str());
}

ScopedCheckSink::ScopedCheckSink(CheckSink sink) : previous_(std::move(current_sink)) {
    current_sink = std::move(sink);
}

ScopedCheckSink::~ScopedCheckSink() { current_sink = std::move(previous_); }

CheckCollector::CheckCollector() : scope_([this](const CheckResult& r) { results_.push_back(r); }) {}

std::vector<CheckResult> CheckCollector::warnings() const {
    std::vector<CheckResult> out;
    for (const auto& r : results_)
        if (!r.ok) out.push_back(r);
    return out;
}

bool CheckCollector::has_warning(const std::string& id) const {
    for (const auto& r : results_)
        if (!r.ok && r.id == id) return true;
    return false;
}

}  // namespace lumen
