// One error channel for the whole library: lumen::Error carries a code that apps map to an exit
// status (docs/conventions.md: 0 success, 1 reconstruction failure, 2 bad input or usage) and a message that
// tells the user what to fix (which file, dataset or option; what was found; what was expected).
#pragma once

#include <stdexcept>
#include <string>

namespace lumen {

enum class ErrorCode {
    bad_input = 2,      // unreadable/invalid file, dataset, shape, option value
    usage = 3,          // wrong command-line use (also exit code 2)
    no_gpu = 4,         // CUDA requested but not built in or no device present (exit code 2)
    failure = 1,        // the reconstruction itself failed: diverged, non-finite values
    out_of_memory = 5,  // host or device allocation failed (exit code 1)
    internal = 6,       // a bug in lumen (exit code 1)
};

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }
    // The process exit status an app should return for this error.
    int exit_code() const noexcept {
        switch (code_) {
            case ErrorCode::bad_input:
            case ErrorCode::usage:
            case ErrorCode::no_gpu: return 2;
            default: return 1;
        }
    }

private:
    ErrorCode code_;
};

// Throws Error(bad_input, message) when cond is false. For argument and file validation.
inline void require(bool cond, const std::string& message) {
    if (!cond) throw Error(ErrorCode::bad_input, message);
}

}  // namespace lumen
