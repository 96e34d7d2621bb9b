// Where an array lives and where work runs. cuda_enabled() says whether this build has CUDA code;
// cuda_available() says whether a usable GPU is present right now. They differ on CI machines,
// which build the CUDA sources but have no GPU.
#pragma once

#include <string>

namespace lumen {

enum class Device { cpu, cuda };

// Built with CUDA support.
bool cuda_enabled() noexcept;
// Built with CUDA and at least one GPU can be used now. Any CUDA runtime error while probing
// (no driver, "driver version is insufficient", no device) means "no GPU".
bool cuda_available() noexcept;
// A one-line description of the current GPU ("NVIDIA H100 80GB HBM3, sm_90, 79 GiB") or why there is none.
std::string cuda_device_description();

// The current GPU's theoretical peaks, computed from its reported properties (all zero without a
// GPU): memory bandwidth = 2 (double data rate) x memory clock x bus width; FP32 = 2 (a fused
// multiply-add) x SMs x FP32 lanes per SM x SM clock. Benchmarks report achieved fractions of them.
struct GpuPeaks {
    double memory_gb_per_s = 0.0;
    double fp32_tflop_per_s = 0.0;
};
GpuPeaks cuda_device_peaks();

// Parses "cpu", "cuda", "gpu" or "auto" (auto = cuda when available, else cpu). Throws
// Error(invalid_option) naming the option field on anything else, and Error(no_gpu) when cuda is
// asked for but absent.
Device parse_device(const std::string& text, const std::string& field = "device");
const char* device_name(Device d) noexcept;

// Throws Error(no_gpu) with a message naming `what` when the CUDA path cannot run.
void require_cuda(const char* what);

// Waits for all queued GPU work (no-op on CPU-only builds).
void synchronize(Device d);

}  // namespace lumen
