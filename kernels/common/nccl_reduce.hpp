// Sums of GPU buffers over the ranks of a distributed run through NCCL (docs/scaling.md), and the
// choice of one GPU per rank. Implemented in kernels/common/nccl_reduce.cu (CUDA builds) and
// src/cuda_stub.cpp (CPU builds, where NCCL is never usable). No MPI here: the NCCL unique id
// travels through the caller's Communicator::all_gather.
//
// NCCL is loaded at run time (dlopen of libnccl.so.2), never linked: a machine without NCCL runs
// everything else, and device buffers then go through the host (Communicator::sum).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lumen/core/array.hpp"

namespace lumen::detail {

// Makes the GPU of index local_rank mod (GPUs on this node) the current one; nothing without a GPU.
void cuda_use_device_of_local_rank(int local_rank) noexcept;

class NcclReducer {
public:
    // Whether NCCL can be used here: a CUDA build, a GPU, and libnccl.so.2 loadable. When it says
    // why not (`why`), the caller falls back to host staging.
    static bool usable(std::string* why = nullptr);
    // One NCCL communicator over `size` ranks on the current GPU. share: rank 0's bytes to every
    // rank (the caller's all_gather; every rank calls it once). Throws Error(failure) when NCCL
    // fails.
    NcclReducer(int rank, int size, const std::function<std::string(const std::string&)>& share);
    ~NcclReducer();
    NcclReducer(const NcclReducer&) = delete;
    NcclReducer& operator=(const NcclReducer&) = delete;
    // In-place sums over the ranks of n elements of GPU memory; returns when they are done.
    void sum(float* device_data, index_t n);
    void sum(double* device_data, index_t n);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace lumen::detail
