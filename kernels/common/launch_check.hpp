// Launch checking that is plain C++ (no CUDA headers), so that the CPU tests cover it:
//  - LUMEN_CUDA_SYNC: when set to 1 (or true/yes/on), every kernel launch and cuFFT call is
//    followed by a device synchronisation and a check, and an error names the kernel. Without
//    it a fault inside a kernel surfaces only at the next synchronising call (a copy, a
//    reduction, cuFFT), far from its cause.
//  - kernel_name(): the functor a grid-stride kernel runs, read from the launcher's
//    __PRETTY_FUNCTION__ ("... [with F = lumen::kern::ct::FdkBackprojectF; ...]"), so that
//    nothing has to keep a table of names in step with the code.
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

namespace lumen::detail {

// True for "1", "true", "yes", "on" (any case); false when unset, empty, "0" or anything else.
inline bool parse_flag(const char* value) {
    if (!value) return false;
    std::string v(value);
    for (char& c : v) c = char((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

// Read once: the variable is meant to be set for a whole run (a debugging rerun), and a getenv
// per launch would cost more than the launch check itself.
inline bool cuda_sync_after_launch() {
    static const bool on = parse_flag(std::getenv("LUMEN_CUDA_SYNC"));
    return on;
}

// "void lumen::detail::for_each_gpu(index_t, const F&) [with F = X; lumen::index_t = long int]"
// -> "F = X": the launcher's template parameters (for reduce_gpu "R = double, F = X, Op = Y").
// clang writes "... [F = X]" ("[R = double, F = X, Op = Y]") and names anonymous namespaces
// "(anonymous namespace)::": both become the same "F = X". Anything else is returned whole.
inline std::string kernel_name(const char* pretty_function) {
    const std::string s(pretty_function ? pretty_function : "");
    const std::size_t with = s.find("[with ");
    if (with == std::string::npos) {
        const std::size_t open = s.rfind(" [");
        if (open == std::string::npos || s.back() != ']' || s.find(" = ", open) == std::string::npos) return s;
        std::string args = s.substr(open + 2, s.size() - open - 3);
        const std::string anonymous = "(anonymous namespace)::";
        for (std::size_t at; (at = args.find(anonymous)) != std::string::npos;) args.erase(at, anonymous.size());
        return args;
    }
    std::string args = s.substr(with + 6);
    if (!args.empty() && args.back() == ']') args.pop_back();
    // Keep the template parameters ("F = ..."), drop the typedef expansions g++ appends
    // ("lumen::index_t = long int", "std::string = ..."): their left side is a qualified name.
    std::string out;
    std::size_t pos = 0;
    while (pos < args.size()) {
        std::size_t end = args.find("; ", pos);
        if (end == std::string::npos) end = args.size();
        const std::string part = args.substr(pos, end - pos);
        const std::string lhs = part.substr(0, part.find(" = "));
        if (lhs.find("::") == std::string::npos) out += (out.empty() ? "" : ", ") + part;
        pos = end + 2;
    }
    return out;
}

}  // namespace lumen::detail
