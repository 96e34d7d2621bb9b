// What the distributed-run tests share (tests/mpi/*.cpp, label mpi): how to launch a command on N
// ranks and the serial run it is compared with, and the --json summary of a run's output.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace lumen::test {

// Every rank, and the serial run it is compared with, on one OpenMP thread: then the only
// difference left is the split itself (and MRI's slices and CT's FDK slabs agree bit for bit).
inline std::string serial() { return "OMP_NUM_THREADS=1 "; }

// The MPI launcher (LUMEN_TEST_MPIEXEC, found by CMake) on `ranks` ranks. Root in containers and
// CI needs --allow-run-as-root; --oversubscribe lets 3 ranks share 2 cores; the shared-memory
// transport's single-copy mode needs ptrace rights containers lack.
inline std::string mpirun(int ranks) {
    return std::string(LUMEN_TEST_MPIEXEC) + " --allow-run-as-root --oversubscribe --bind-to none" +
           " --mca btl_vader_single_copy_mechanism none -x OMP_NUM_THREADS=1 -np " + std::to_string(ranks) + " ";
}

// The JSON summary (rank 0's; progress lines go to stderr, merged before it) of a run's output.
inline nlohmann::json json_of(const std::string& output) {
    const auto start = output.find('{');
    return nlohmann::json::parse(output.substr(start));
}

}  // namespace lumen::test
