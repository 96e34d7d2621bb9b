// NCCL sums of GPU buffers (kernels/common/nccl_reduce.hpp). NCCL's entry points are looked up in
// libnccl.so.2 at run time; the few types they take are declared here with NCCL's ABI (stable
// since NCCL 2.0: the unique id is 128 opaque bytes, the communicator an opaque pointer, the
// enums' values fixed), so that building needs no nccl.h either.
#include "kernels/common/nccl_reduce.hpp"

#include <dlfcn.h>

#include <cuda_runtime.h>

#include <cstring>

#include "lumen/core/error.hpp"

namespace lumen::detail {

namespace {

using NcclResult = int;  // ncclResult_t; 0: ncclSuccess
using NcclComm = void*;  // ncclComm_t
struct NcclUniqueId {
    char internal[128];
};
constexpr int k_nccl_float32 = 7, k_nccl_float64 = 8;  // ncclDataType_t
constexpr int k_nccl_sum = 0;                          // ncclRedOp_t

struct NcclApi {
    void* library = nullptr;
    NcclResult (*get_unique_id)(NcclUniqueId*) = nullptr;
    NcclResult (*comm_init_rank)(NcclComm*, int, NcclUniqueId, int) = nullptr;
    NcclResult (*all_reduce)(const void*, void*, std::size_t, int, int, NcclComm, cudaStream_t) = nullptr;
    NcclResult (*comm_destroy)(NcclComm) = nullptr;
    const char* (*error_string)(NcclResult) = nullptr;
    std::string why_not;

    NcclApi() {
        library = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            why_not = "libnccl.so.2 not found";
            return;
        }
        get_unique_id = reinterpret_cast<decltype(get_unique_id)>(dlsym(library, "ncclGetUniqueId"));
        comm_init_rank = reinterpret_cast<decltype(comm_init_rank)>(dlsym(library, "ncclCommInitRank"));
        all_reduce = reinterpret_cast<decltype(all_reduce)>(dlsym(library, "ncclAllReduce"));
        comm_destroy = reinterpret_cast<decltype(comm_destroy)>(dlsym(library, "ncclCommDestroy"));
        error_string = reinterpret_cast<decltype(error_string)>(dlsym(library, "ncclGetErrorString"));
        if (!(get_unique_id && comm_init_rank && all_reduce && comm_destroy && error_string))
            why_not = "libnccl.so.2 lacks an entry point lumen uses";
    }
    bool loaded() const { return why_not.empty(); }
    void check(NcclResult r, const char* what) const {
        if (r != 0)
            throw Error(ErrorCode::failure, std::string("NCCL: ") + what + " failed: " + (error_string ? error_string(r) : "?"));
    }
};

const NcclApi& api() {
    static const NcclApi a;
    return a;
}

}  // namespace

void cuda_use_device_of_local_rank(int local_rank) noexcept {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count <= 0) {
        cudaGetLastError();  // no GPU: clear the error, nothing to choose
        return;
    }
    cudaSetDevice(local_rank % count);
}

bool NcclReducer::usable(std::string* why) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count <= 0) {
        cudaGetLastError();
        if (why) *why = "no GPU";
        return false;
    }
    if (!api().loaded()) {
        if (why) *why = api().why_not;
        return false;
    }
    return true;
}

struct NcclReducer::Impl {
    NcclComm comm = nullptr;
};

NcclReducer::NcclReducer(int rank, int size, const std::function<std::string(const std::string&)>& share)
    : impl_(std::make_unique<Impl>()) {
    const NcclApi& nccl = api();
    require(nccl.loaded(), "NCCL: " + nccl.why_not);
    NcclUniqueId id{};
    if (rank == 0) nccl.check(nccl.get_unique_id(&id), "ncclGetUniqueId");
    const std::string bytes = share(rank == 0 ? std::string(id.internal, sizeof id.internal) : std::string());
    require(bytes.size() == sizeof id.internal, "NCCL: the unique id from rank 0 has " + std::to_string(bytes.size()) +
                                                   " bytes, expected " + std::to_string(sizeof id.internal));
    std::memcpy(id.internal, bytes.data(), sizeof id.internal);
    nccl.check(nccl.comm_init_rank(&impl_->comm, size, id, rank), "ncclCommInitRank");
}

NcclReducer::~NcclReducer() {
    if (impl_ && impl_->comm) api().comm_destroy(impl_->comm);
}

namespace {
void all_reduce(const NcclApi& nccl, NcclComm comm, void* data, std::size_t n, int type) {
    // The default stream: lumen's kernels run there, so the sum follows them in order.
    nccl.check(nccl.all_reduce(data, data, n, type, k_nccl_sum, comm, cudaStream_t{}), "ncclAllReduce");
    if (cudaStreamSynchronize(cudaStream_t{}) != cudaSuccess)
        throw Error(ErrorCode::failure, std::string("NCCL: the all-reduce failed on the GPU: ") +
                                            cudaGetErrorString(cudaGetLastError()));
}
}  // namespace

void NcclReducer::sum(float* d, index_t n) { all_reduce(api(), impl_->comm, d, std::size_t(n), k_nccl_float32); }
void NcclReducer::sum(double* d, index_t n) { all_reduce(api(), impl_->comm, d, std::size_t(n), k_nccl_float64); }

}  // namespace lumen::detail
