// The processes that take part in one reconstruction (docs/scaling.md). A run started by an MPI
// launcher (`mpirun -np N lumen-mri recon ...`) on a lumen built with LUMEN_MPI has N ranks; any
// other run has one, and every call below is then a no-op that costs nothing. The library splits
// work by ranks (MRI: slices, or a slice's coils with fewer slices than ranks; CT: views or slabs;
// ptychography: frames) and combines the ranks' parts through these collectives, so a
// distributed result equals the serial one up to the order of floating-point sums.
//
// Every rank must make the same collective calls in the same order (MPI's rule). A rank that fails
// alone cannot tell the others: the apps end the whole job with abort() (apps/common), so that no
// rank waits forever and nothing is written (outputs are committed by rank 0 after the last
// collective).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen {

// What a distributed run spent on communication (docs/scaling.md), as measured on one rank:
// waiting at the first collective for the slowest rank (load imbalance), then in the collectives
// themselves, and the bytes this rank put into them.
struct CommunicationStats {
    int ranks = 1;
    double wait_s = 0.0, communication_s = 0.0;
    double bytes = 0.0;
};

class Communicator {
public:
    virtual ~Communicator() = default;
    virtual int rank() const noexcept = 0;
    virtual int size() const noexcept = 0;
    bool root() const noexcept { return rank() == 0; }
    bool distributed() const noexcept { return size() > 1; }

    // Element-wise sums and maxima over the ranks, in place; every rank receives the result.
    virtual void sum(double* values, index_t n) const = 0;
    virtual void sum(float* values, index_t n) const = 0;
    virtual void sum(std::int64_t* values, index_t n) const = 0;
    virtual void max(double* values, index_t n) const = 0;
    double sum(double value) const {
        sum(&value, 1);
        return value;
    }
    double max(double value) const {
        max(&value, 1);
        return value;
    }
    // The sum of a view over the ranks, in place (any device: device memory goes through the host).
    void sum(View<float> values) const;
    void sum(View<complex64> values) const;

    // Every rank's bytes, in rank order, on every rank.
    virtual std::vector<std::string> all_gather(const std::string& bytes) const = 0;
    // Waits for every rank.
    virtual void barrier() const = 0;
    // Ends every rank of the job with this exit status (MPI_Abort); a single rank exits.
    [[noreturn]] virtual void abort(int exit_status) const = 0;

    // The in-place sum of GPU memory over the ranks without the host (NCCL, when the ranks can use
    // it: kernels/common/nccl_reduce.hpp); false: not done, the caller goes through the host.
    virtual bool sum_on_device(float*, index_t) const { return false; }

    // Totals over every collective call of this process so far: the time in the calls (waiting
    // for slower ranks included) and the bytes this rank put into them (wait_s stays 0). Zero on
    // a single rank.
    virtual CommunicationStats statistics() const { return {}; }
};


// This process's ranks: MPI_COMM_WORLD when lumen was built with MPI and the process was started
// by an MPI launcher (Open MPI, MPICH or PMIx environment), initialised on the first call and
// finalised at exit; a single rank otherwise. A program that initialised MPI itself (mpi4py) gets
// MPI_COMM_WORLD and keeps the finalisation to itself.
const Communicator& world();
// The single-rank communicator (what world() is without MPI).
const Communicator& single_rank();
// Whether this lumen was built with MPI (LUMEN_MPI).
bool mpi_built() noexcept;

// The contiguous block of n items rank `rank` of `size` owns: the first n % size ranks own one
// item more. Blocks of consecutive ranks are consecutive; their union is [0, n).
struct RankBlock {
    index_t begin = 0, end = 0;
    index_t size() const { return end - begin; }
};
RankBlock block_of(index_t n, int rank, int size);

}  // namespace lumen
