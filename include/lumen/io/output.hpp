// Everything a run writes, committed together: the safety rules for output files.
//
// An OutputSet stages every file of one run (the .h5 result and its PNG previews) in a private
// staging directory created with mkdtemp beside each target (mode 0700, ".lumen-tmp-XXXXXX"), so
// no other user can predict, pre-create or link a staged name, and files inside are created with
// O_EXCL (never through a symbolic link). commit() renames the staged files onto their targets
// only after all of them were written; until then no target is touched, and without commit()
// (an error, an exception) the staged files and directories are removed.
//
// A process killed by SIGINT, SIGTERM, SIGHUP or SIGQUIT removes its staged files too when the
// program installed install_cleanup_handlers() (the apps do). SIGKILL cannot be caught: it can
// leave a ".lumen-tmp-XXXXXX" directory beside the output, never a partial file at the output
// path itself (docs/cli.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::io {

class OutputSet {
public:
    // `input` (optional): outputs may never be this file (or a link to it).
    explicit OutputSet(std::string input = "");
    OutputSet(const OutputSet&) = delete;
    OutputSet& operator=(const OutputSet&) = delete;
    // Removes every staged file that was not committed.
    ~OutputSet();

    // Reserves the staging path for `target`; the caller creates the file there exclusively
    // (O_EXCL; H5F_ACC_EXCL). Throws Error(bad_input or usage) naming the target when its
    // directory is missing or not writable, when the target is a directory or another
    // non-regular file, when it is the input, or when it was staged already in this set.
    std::string stage(const std::string& target);

    // The writer of the staged file `temp` closed it complete; commit() refuses to move a file
    // that was staged but not finished.
    void finished(const std::string& temp);

    // Renames every staged file onto its target, the first one staged last (so that a new main
    // result means its previews are in place too). Throws when a staged file is unfinished.
    void commit();
    bool committed() const { return committed_; }
    const std::vector<std::string>& targets() const { return targets_; }

private:
    struct Staged {
        std::string target, temp;
        int slot;
        bool finished = false;
    };
    struct Dir {
        std::string parent, path;
        int slot;
    };
    const Dir& staging_dir_for(const std::string& parent, const std::string& target);
    void discard() noexcept;

    std::string input_;
    std::vector<Staged> staged_;
    std::vector<Dir> dirs_;
    std::vector<std::string> targets_;
    bool committed_ = false;
};

// Creates `path` exclusively (O_CREAT | O_EXCL | O_NOFOLLOW) for writing and returns its file
// descriptor; throws Error(bad_input) naming `what` when that fails.
int create_exclusive(const std::string& path, const std::string& what);

// Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT that remove every staged file and
// staging directory of this process, then die of the same signal (default action), so the exit
// status still says which signal ended the run. Idempotent.
void install_cleanup_handlers();

// While a SignalDeferral lives (one at a time; the run_* functions hold one while a checkpointing
// reconstruction iterates), the first SIGINT or SIGTERM does not end the run: the handler only
// records it (signal-safe: one flag), the iteration loop sees signal_pending() at its next
// iteration boundary, saves a checkpoint and stops, and the program then dies of that signal with
// its temporaries removed (die_of_pending_signal). A second signal ends the run at once, as
// without a deferral. Installs the clean-up handlers when the program has not.
class SignalDeferral {
public:
    SignalDeferral();
    ~SignalDeferral();  // a recorded signal nobody acted on (acted_on()) is delivered now
    SignalDeferral(const SignalDeferral&) = delete;
    SignalDeferral& operator=(const SignalDeferral&) = delete;
    // The caller saved a checkpoint for the recorded signal and will report it (and then call
    // die_of_pending_signal()).
    void acted_on() { acted_on_ = true; }

private:
    bool acted_on_ = false;
};
// The signal recorded by a SignalDeferral (SIGINT or SIGTERM), 0 when none.
int signal_pending() noexcept;
// Removes every staged file of this process and dies of the recorded signal (so a shell sees
// 130 for SIGINT, 143 for SIGTERM). Returns only when no signal was recorded.
void die_of_pending_signal() noexcept;

// Removes every staged file and staging directory of this process now (what the signal handlers
// do; for the read watchdog, lumen/io/watchdog.hpp, before it ends the program).
void remove_staged_outputs() noexcept;

// The memory a run may use, in bytes: the smallest of physical memory, RLIMIT_AS and
// RLIMIT_DATA, or LUMEN_MEMORY_LIMIT (bytes, or with a K/M/G/T suffix) when that is set.
std::uint64_t memory_limit_bytes();
// Throws Error(bad_input) "WHAT needs N GB, more than the L GB this run may use" when `bytes`
// exceeds memory_limit_bytes(). Call it with an estimate before allocating from file sizes.
void require_memory(double bytes, const std::string& what);

// Throws Error(failure) naming `what` when `values` holds NaN or Inf: a result is checked before
// it is committed, so a diverged or overflowed reconstruction never lands as a file.
void require_finite(View<const float> values, const std::string& what);
void require_finite(View<const complex64> values, const std::string& what);

}  // namespace lumen::io
