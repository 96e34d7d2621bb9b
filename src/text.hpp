// Small helpers for host code that builds user-facing messages.
#pragma once

#include <cstdio>
#include <string>

namespace lumen::detail {

// A number as printf's %g writes it (shortest readable form), for error messages.
inline std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace lumen::detail
