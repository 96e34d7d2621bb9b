// One error channel for the whole library: lumen::Error carries a code (what kind of problem),
// a message that tells the user what to fix (which file, dataset or option field; what was found;
// what was expected) and, for an invalid option, the option field it is about.
//
// The library speaks in option fields, never in command-line flags: a message names the field as
// `Struct.member` (for example "ReconOptions.iterations"), and Error::field() carries the same name
// so that an app can say which flag the user typed (apps/common: app::flag_for_field). Apps map
// codes to exit statuses with Error::exit_code() (docs/errors.md lists the codes).
#pragma once

#include <stdexcept>
#include <string>

namespace lumen {

// The values are names, not exit statuses: exit_code() maps them.
enum class ErrorCode {
    bad_input,       // an unreadable or invalid file, dataset, shape or value in the data
    invalid_option,  // an option field out of range, inconsistent with another, or an unknown name
    usage,           // wrong command-line use (apps only; the library reports invalid_option)
    no_gpu,          // CUDA requested but not built in, or no device present
    failure,         // the reconstruction itself failed: diverged, non-finite values
    out_of_memory,   // host or device allocation failed
    internal,        // a bug in lumen
    interrupted,     // stopped by a signal after saving a checkpoint (the apps then die of the signal)
};

// "bad_input", "invalid_option", ...: for --json and logs.
const char* error_code_name(ErrorCode code) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message, std::string field = {})
        : std::runtime_error(message), code_(code), field_(std::move(field)) {}
    ErrorCode code() const noexcept { return code_; }
    // For invalid_option: the option field ("ReconOptions.iterations"); for a caller's view that a
    // plan object refuses (require_view in lumen/core/array.hpp): the parameter ("volume"); empty
    // otherwise.
    const std::string& field() const noexcept { return field_; }
    // The process exit status an app returns: 2 for the caller's mistakes (input, options, usage,
    // no GPU), 1 for failures of the run itself.
    int exit_code() const noexcept {
        switch (code_) {
            case ErrorCode::bad_input:
            case ErrorCode::invalid_option:
            case ErrorCode::usage:
            case ErrorCode::no_gpu: return 2;
            default: return 1;
        }
    }

private:
    ErrorCode code_;
    std::string field_;
};

inline const char* error_code_name(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::bad_input: return "bad_input";
        case ErrorCode::invalid_option: return "invalid_option";
        case ErrorCode::usage: return "usage";
        case ErrorCode::no_gpu: return "no_gpu";
        case ErrorCode::failure: return "failure";
        case ErrorCode::out_of_memory: return "out_of_memory";
        case ErrorCode::internal: return "internal";
        case ErrorCode::interrupted: return "interrupted";
    }
    return "unknown";
}

// Throws Error(bad_input, message) when cond is false. For file and data validation.
inline void require(bool cond, const std::string& message) {
    if (!cond) throw Error(ErrorCode::bad_input, message);
}

// Throws Error(invalid_option, "FIELD: message", FIELD) when cond is false. For option validation
// in each options struct's validate(); `field` is "Struct.member".
inline void require_option(bool cond, const std::string& field, const std::string& message) {
    if (!cond) throw Error(ErrorCode::invalid_option, field + ": " + message, field);
}
[[noreturn]] inline void invalid_option(const std::string& field, const std::string& message) {
    throw Error(ErrorCode::invalid_option, field + ": " + message, field);
}

}  // namespace lumen
