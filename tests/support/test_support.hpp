// Shared helpers for lumen's tests: random data, temporary paths, GPU skipping, running apps.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/device.hpp"
#include "lumen/core/error.hpp"

// In a *_gpu.cpp test: skip (reported as skipped by CTest) when no GPU can be used.
#define LUMEN_REQUIRE_GPU()                                                          \
    do {                                                                             \
        if (!::lumen::cuda_available()) GTEST_SKIP() << "no usable GPU: " << ::lumen::cuda_device_description(); \
    } while (0)

namespace lumen::test {

// Uniform in [-1, 1) (real and imaginary parts), reproducible from the seed.
Array<float> random_real(const Shape& shape, std::uint64_t seed);
Array<complex64> random_complex(const Shape& shape, std::uint64_t seed);

// A fresh empty directory for this test (removed and recreated), under the system temp dir.
std::string temp_dir();
// temp_dir() + "/" + name
std::string temp_path(const std::string& name);

// Path of a built program (lumen-ct, lumen-bench, ...).
std::string app_path(const std::string& name);
// Runs a shell command, returns its exit status; stdout and stderr together go to *output.
int run_command(const std::string& command, std::string* output = nullptr);

// max_i |a_i - b_i| / max_i |a_i| (both copied to the host).
double max_rel_diff(View<const float> a, View<const float> b);
double max_rel_diff(View<const complex64> a, View<const complex64> b);

// True when a and b hold the same bits (same shape; both copied to the host): results that must
// not change, compared exactly.
bool same_bits(View<const float> a, View<const float> b);
bool same_bits(View<const complex64> a, View<const complex64> b);

// Runs f, which should throw Error(code), and returns the field the error names ("(no error)"
// when it throws nothing); fails the test if the code is another.
inline std::string error_field(ErrorCode code, const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        return e.field();
    }
    return "(no error)";
}

// Runs f, which should throw Error(invalid_option), and returns the field it names ("(no error)"
// when it throws nothing); fails the test if the code is another or the message names a flag.
inline std::string invalid_option_field(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_option) << e.what();
        EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << e.what();
        return e.field();
    }
    return "(no error)";
}

}  // namespace lumen::test
