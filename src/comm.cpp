// The communicator of include/lumen/core/comm.hpp: MPI_COMM_WORLD when built with LUMEN_MPI
// (LUMEN_WITH_MPI, defined for this file alone so that the rest of lumen compiles without MPI's
// headers) and started by an MPI launcher; a single rank otherwise.
#include "lumen/core/comm.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

#include <unistd.h>

#include "kernels/common/nccl_reduce.hpp"
#include "lumen/core/error.hpp"

#ifndef LUMEN_WITH_MPI
#define LUMEN_WITH_MPI 0
#endif

#if LUMEN_WITH_MPI
// The C API only: no C++ bindings (removed from the MPI standard; Open MPI still ships them).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace lumen {

void Communicator::sum(View<float> values) const {
    if (!distributed() || values.empty()) return;
    if (values.device() == Device::cpu) {
        sum(values.data(), values.size());
        return;
    }
    // GPU memory: NCCL between the GPUs when the ranks have it, else through the host.
    if (sum_on_device(values.data(), values.size())) return;
    Array<float> host = Array<float>::copy_of(View<const float>(values), Device::cpu);
    sum(host.data(), host.size());
    copy(View<const float>(host.view()), values);
}

void Communicator::sum(View<complex64> values) const {
    if (!distributed() || values.empty()) return;
    // complex64 is two floats (lumen/core/complex.hpp): the sum of pairs is the pair of sums.
    sum(View<float>(reinterpret_cast<float*>(values.data()), Shape{2 * values.size()}, values.device()));
}

RankBlock block_of(index_t n, int rank, int size) {
    require(size >= 1 && rank >= 0 && rank < size && n >= 0,
            "block_of: rank " + std::to_string(rank) + " of " + std::to_string(size) + " ranks, " + std::to_string(n) +
                " items");
    const index_t base = n / size, extra = n % size, r = rank;
    RankBlock b;
    b.begin = r * base + std::min(r, extra);
    b.end = b.begin + base + (r < extra ? 1 : 0);
    return b;
}

namespace {

class SingleRank final : public Communicator {
public:
    int rank() const noexcept override { return 0; }
    int size() const noexcept override { return 1; }
    void sum(double*, index_t) const override {}
    void sum(float*, index_t) const override {}
    void sum(std::int64_t*, index_t) const override {}
    void max(double*, index_t) const override {}
    std::vector<std::string> all_gather(const std::string& bytes) const override { return {bytes}; }
    void barrier() const override {}
    [[noreturn]] void abort(int exit_status) const override { std::_Exit(exit_status); }
};

#if LUMEN_WITH_MPI

// Started by a launcher: Open MPI's mpirun, MPICH's Hydra (PMI), or a PMIx launcher (srun).
bool launched_by_mpi() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(name)) return true;
    return false;
}

void check(int status, const char* what) {
    if (status != MPI_SUCCESS) {
        char text[MPI_MAX_ERROR_STRING];
        int length = 0;
        MPI_Error_string(status, text, &length);
        throw Error(ErrorCode::failure, std::string("MPI: ") + what + " failed: " + std::string(text, std::size_t(length)));
    }
}

// MPI counts are int: long buffers go in pieces.
constexpr index_t k_piece = index_t(1) << 30;

class World final : public Communicator {
public:
    World() {
        int initialised = 0;
        MPI_Initialized(&initialised);
        if (!initialised) {
            int provided = 0;
            // FUNNELED: only the thread that called world() communicates; OpenMP threads compute.
            check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_ = true;
            // Errors come back as codes (check() turns them into lumen::Error), not as aborts.
            MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        }
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        // One GPU per rank: the ranks on one node (same host name) take its GPUs in rank order.
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        int local_rank = 0;
        const std::vector<std::string> hosts = all_gather(host);
        for (int r = 0; r < rank_; ++r) local_rank += hosts[std::size_t(r)] == hosts[std::size_t(rank_)] ? 1 : 0;
        detail::cuda_use_device_of_local_rank(local_rank);
        stats_ = CommunicationStats{};  // the set-up is not the run's communication
    }
    ~World() override {
        int finalised = 0;
        MPI_Finalized(&finalised);
        if (owns_ && !finalised) MPI_Finalize();
    }
    int rank() const noexcept override { return rank_; }
    int size() const noexcept override { return size_; }
    void sum(double* v, index_t n) const override { reduce(v, n, MPI_DOUBLE, MPI_SUM); }
    void sum(float* v, index_t n) const override { reduce(v, n, MPI_FLOAT, MPI_SUM); }
    void sum(std::int64_t* v, index_t n) const override { reduce(v, n, MPI_INT64_T, MPI_SUM); }
    void max(double* v, index_t n) const override { reduce(v, n, MPI_DOUBLE, MPI_MAX); }
    std::vector<std::string> all_gather(const std::string& bytes) const override {
        const Timer timer(stats_, double(bytes.size()) + sizeof(int));
        require(bytes.size() < std::size_t(k_piece), "MPI: a gathered part of " + std::to_string(bytes.size()) +
                                                         " bytes is over the 1 GiB this build gathers at once");
        std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
        const int mine = int(bytes.size());
        check(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
        long total = 0;
        for (int r = 0; r < size_; ++r) {
            offsets[std::size_t(r)] = int(total);
            total += counts[std::size_t(r)];
        }
        require(total < long(k_piece), "MPI: the gathered parts (" + std::to_string(total) +
                                           " bytes) are over the 1 GiB this build gathers at once");
        std::string all(std::size_t(total), '\0');
        check(MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE,
                             MPI_COMM_WORLD),
              "MPI_Allgatherv");
        std::vector<std::string> parts;
        for (int r = 0; r < size_; ++r)
            parts.push_back(all.substr(std::size_t(offsets[std::size_t(r)]), std::size_t(counts[std::size_t(r)])));
        return parts;
    }
    void barrier() const override {
        const Timer timer(stats_, 0.0);
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    }
    bool sum_on_device(float* v, index_t n) const override {
        if (nccl_state_ == 0) {
            // Decided together (the first device sum is a collective call on every rank): NCCL
            // only when every rank can use it.
            std::string why;
            double usable = detail::NcclReducer::usable(&why) ? 1.0 : 0.0;
            usable = Communicator::sum(usable);
            nccl_state_ = usable == double(size_) ? 1 : -1;
            if (nccl_state_ == 1)
                nccl_ = std::make_unique<detail::NcclReducer>(rank_, size_, [this](const std::string& bytes) {
                    return all_gather(bytes).front();
                });
        }
        if (nccl_state_ < 0) return false;
        const Timer timer(stats_, double(n) * sizeof(float));
        for (index_t done = 0; done < n; done += k_piece) nccl_->sum(v + done, std::min(k_piece, n - done));
        return true;
    }
    CommunicationStats statistics() const override {
        CommunicationStats s = stats_;
        s.ranks = size_;
        return s;
    }
    [[noreturn]] void abort(int exit_status) const override {
        MPI_Abort(MPI_COMM_WORLD, exit_status);
        std::_Exit(exit_status);
    }

private:
    // Adds a collective's time and bytes to the totals when it ends.
    struct Timer {
        CommunicationStats& stats;
        std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
        Timer(CommunicationStats& s, double bytes) : stats(s) { stats.bytes += bytes; }
        ~Timer() {
            stats.communication_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }
    };

    template <class T>
    void reduce(T* v, index_t n, MPI_Datatype type, MPI_Op op) const {
        const Timer timer(stats_, double(n) * double(sizeof(T)));
        for (index_t done = 0; done < n; done += k_piece)
            check(MPI_Allreduce(MPI_IN_PLACE, v + done, int(std::min(k_piece, n - done)), type, op, MPI_COMM_WORLD),
                  "MPI_Allreduce");
    }
    int rank_ = 0, size_ = 1;
    bool owns_ = false;
    mutable CommunicationStats stats_;
    // NCCL for GPU buffers: 0 undecided, 1 in use, -1 not usable on some rank (host staging).
    mutable int nccl_state_ = 0;
    mutable std::unique_ptr<detail::NcclReducer> nccl_;
};

#endif

}  // namespace

const Communicator& single_rank() {
    static const SingleRank one;
    return one;
}

const Communicator& world() {
#if LUMEN_WITH_MPI
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised || launched_by_mpi()) {
        // Constructed once, on first use; finalises MPI at exit when it initialised it.
        static const World w;
        return w;
    }
#endif
    return single_rank();
}

bool mpi_built() noexcept { return LUMEN_WITH_MPI != 0; }

}  // namespace lumen
