#include "tests/support/test_support.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace lumen::test {

Array<float> random_real(const Shape& shape, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    Array<float> a(shape);
    for (auto& v : a) v = u(rng);
    return a;
}

Array<complex64> random_complex(const Shape& shape, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    Array<complex64> a(shape);
    for (auto& v : a) v = complex64(u(rng), u(rng));
    return a;
}

std::string temp_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "lumen_test";
    std::replace(name.begin(), name.end(), '/', '_');
    const auto dir = std::filesystem::temp_directory_path() / ("lumen-test-" + std::to_string(::getpid())) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

std::string temp_path(const std::string& name) {
    static thread_local std::string dir_for_test;
    static thread_local std::string test_name;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string current = info ? std::string(info->test_suite_name()) + "." + info->name() : "";
    if (dir_for_test.empty() || current != test_name) {
        dir_for_test = temp_dir();
        test_name = current;
    }
    return dir_for_test + "/" + name;
}

// LUMEN_BIN_DIR in the environment overrides the build tree's (the GPU bundle moves the programs).
std::string app_path(const std::string& name) {
    const char* dir = std::getenv("LUMEN_BIN_DIR");
    return std::string(dir && *dir ? dir : LUMEN_BIN_DIR) + "/" + name;
}

int run_command(const std::string& command, std::string* output) {
    const std::string full = command + " 2>&1";
    std::FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe) return -1;
    std::array<char, 4096> buf{};
    std::string out;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
    const int status = ::pclose(pipe);
    if (output) *output = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

double max_rel_diff(View<const float> a_v, View<const float> b_v) {
    const Array<float> a = Array<float>::copy_of(a_v, Device::cpu), b = Array<float>::copy_of(b_v, Device::cpu);
    double diff = 0, scale = 0;
    for (index_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, double(std::fabs(a[i] - b[i])));
        scale = std::max(scale, double(std::fabs(a[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

double max_rel_diff(View<const complex64> a_v, View<const complex64> b_v) {
    const Array<complex64> a = Array<complex64>::copy_of(a_v, Device::cpu);
    const Array<complex64> b = Array<complex64>::copy_of(b_v, Device::cpu);
    double diff = 0, scale = 0;
    for (index_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, double(abs(a[i] - b[i])));
        scale = std::max(scale, double(abs(a[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

namespace {
template <class T>
bool same_bits_of(View<const T> a_v, View<const T> b_v) {
    if (a_v.shape() != b_v.shape() || a_v.size() != b_v.size()) return false;
    if (a_v.empty()) return true;  // (a null view has no elements whatever its shape)
    const Array<T> a = Array<T>::copy_of(a_v, Device::cpu), b = Array<T>::copy_of(b_v, Device::cpu);
    return std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(T)) == 0;
}
}  // namespace

bool same_bits(View<const float> a, View<const float> b) { return same_bits_of(a, b); }
bool same_bits(View<const complex64> a, View<const complex64> b) { return same_bits_of(a, b); }

}  // namespace lumen::test
