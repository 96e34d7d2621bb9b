// The host-side half of GPU launch checking (kernels/common/launch_check.hpp): the LUMEN_CUDA_SYNC
// flag and the kernel names in error messages. Plain C++, so it is checked on every machine; the
// GPU half (the synchronisation itself) runs in scripts/gpu-check.
#include <gtest/gtest.h>

#include "kernels/common/launch_check.hpp"

namespace {
namespace kern_probe {
template <bool Atomic>
struct ScatterF {};
}  // namespace kern_probe

// Stands in for for_each_gpu / reduce_gpu: the same kind of template, compiled by the same host
// compiler as the .cu files' host side.
template <class F>
std::string launcher_name(long /*n*/, const F& /*f*/) {
    return lumen::detail::kernel_name(__PRETTY_FUNCTION__);
}
template <class R, class F>
std::string reducer_name(long /*n*/, const F& /*f*/) {
    return lumen::detail::kernel_name(__PRETTY_FUNCTION__);
}
}  // namespace

TEST(LaunchCheck, FlagValues) {
    using lumen::detail::parse_flag;
    EXPECT_FALSE(parse_flag(nullptr));
    EXPECT_FALSE(parse_flag(""));
    EXPECT_FALSE(parse_flag("0"));
    EXPECT_FALSE(parse_flag("no"));
    EXPECT_FALSE(parse_flag("2"));
    EXPECT_TRUE(parse_flag("1"));
    EXPECT_TRUE(parse_flag("true"));
    EXPECT_TRUE(parse_flag("YES"));
    EXPECT_TRUE(parse_flag("On"));
}

TEST(LaunchCheck, KernelNameFromTheLaunchersSignature) {
    EXPECT_EQ(launcher_name(1, kern_probe::ScatterF<true>{}), "F = kern_probe::ScatterF<true>");
    EXPECT_EQ(reducer_name<double>(1, kern_probe::ScatterF<false>{}),
              "R = double, F = kern_probe::ScatterF<false>");
}

TEST(LaunchCheck, KernelNameDropsTypedefExpansions) {
    using lumen::detail::kernel_name;
    EXPECT_EQ(kernel_name("void lumen::detail::for_each_gpu(lumen::index_t, const F&) [with F = lumen::kern::ct::"
                          "FdkBackprojectF; lumen::index_t = long int]"),
              "F = lumen::kern::ct::FdkBackprojectF");
    EXPECT_EQ(kernel_name("R lumen::detail::reduce_gpu(lumen::index_t, const F&, const Op&) [with R = double; F = "
                          "kp::FarFieldLossF; Op = lumen::kern::SumOp<double>; lumen::index_t = long int]"),
              "R = double, F = kp::FarFieldLossF, Op = lumen::kern::SumOp<double>");
    EXPECT_EQ(kernel_name("cufftExecC2C (cuFFT's kernels)"), "cufftExecC2C (cuFFT's kernels)");
    EXPECT_EQ(kernel_name(nullptr), "");
}
