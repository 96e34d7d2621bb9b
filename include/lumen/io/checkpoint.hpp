// Checkpoint files (issue #10): a reconstruction's SolverState (lumen/core/progress.hpp) as HDF5,
// with what it was computed from, so that `recon --resume FILE` continues where a run stopped
// and refuses to continue a different problem. Layout: docs/formats.md, "Checkpoints".
//
// A checkpoint is written like every output: staged in a private directory beside its path and
// renamed onto it when complete (lumen/io/output.hpp), so a kill while saving leaves the previous
// checkpoint, never a partial one, and it is never written over the input.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/progress.hpp"

namespace lumen::io {

class SignalDeferral;

// An input file as a resume compares it: its size and modification time.
struct FileIdentity {
    std::string path;
    std::uint64_t size = 0;
    std::int64_t mtime_s = 0, mtime_ns = 0;
};
// Throws Error(bad_input) naming the file when it cannot be examined.
FileIdentity identify_file(const std::string& path);

// What a checkpoint records besides the state.
struct CheckpointRecord {
    std::string program;  // "lumen-ct recon"
    FileIdentity input;
    // The options that change the result, as (field, value text): "ReconOptions.method", "sirt".
    std::vector<std::pair<std::string, std::string>> options;
};

void write_checkpoint(const std::string& path, const CheckpointRecord& record, const SolverState& state);
// Throws Error(bad_input) naming the file when it is not a lumen checkpoint or is damaged.
SolverState read_checkpoint(const std::string& path, CheckpointRecord* record);

// The checkpoint options of a run_recon (RunOptions::checkpoint in ct, mri and ptycho; the apps'
// --checkpoint, --checkpoint-every and --resume).
struct CheckpointOptions {
    std::string path;   // where checkpoints go; "" with every > 0 or resume: default_path below
    int every = 0;      // > 0: also save after every `every`-th iteration
    std::string resume; // a checkpoint to continue from (the run then checkpoints to it too)

    // Checkpointing is on when any of the three is given; with it on, SIGINT and SIGTERM save a
    // checkpoint at the next iteration boundary before the run ends.
    bool enabled() const { return !path.empty() || every > 0 || !resume.empty(); }
    // Throws Error(invalid_option) naming CheckpointOptions.every when negative.
    void validate() const;
    // The checkpoint beside the output: OUTPUT with ".checkpoint.h5" appended.
    static std::string default_path(const std::string& output);
};

// One run's checkpointing, for the run_* functions: resolves the paths, reads and checks the
// state to resume (Error(bad_input) naming the checkpoint and the input when the input changed;
// Error(invalid_option) naming the first option field that differs), defers SIGINT/SIGTERM while
// it lives, and gives the reconstruction its Checkpointing hook.
class RunCheckpoint {
public:
    // `options`: the run's result-changing options as (field, value text), compared on resume.
    RunCheckpoint(const CheckpointOptions& checkpoint, std::string program, const std::string& input,
                  const std::string& output, std::vector<std::pair<std::string, std::string>> options);
    ~RunCheckpoint();
    RunCheckpoint(const RunCheckpoint&) = delete;
    RunCheckpoint& operator=(const RunCheckpoint&) = delete;

    bool enabled() const { return enabled_; }
    // The hook for ReconOptions::checkpoint (empty when checkpointing is off); `resume` points
    // into this object, which must outlive the reconstruction.
    Checkpointing hook();
    const SolverState* resumed() const { return resumed_ ? &*resumed_ : nullptr; }
    const std::string& path() const { return path_; }
    // After the reconstruction: when it stopped for a signal ("interrupted"), throws
    // Error(interrupted) saying where the checkpoint is and how to resume.
    void after(const std::string& stop_reason, const std::string& resume_hint);
    // After the outputs were committed: the checkpoint is spent and removed.
    void finished();

private:
    bool enabled_ = false;
    int every_ = 0;
    std::string path_, input_;
    CheckpointRecord record_;
    std::optional<SolverState> resumed_;
    std::unique_ptr<SignalDeferral> signals_;
    bool saved_ = false;
};

}  // namespace lumen::io
