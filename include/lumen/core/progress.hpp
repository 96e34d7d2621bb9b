// One progress channel for every iterative computation: solvers and the modality
// reconstructions call a ProgressCallback after every iteration. Returning false stops the run
// (stop_reason "callback").
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/error.hpp"

namespace lumen {

struct IterationInfo {
    int iteration = 0;         // 1-based
    double objective = 0.0;    // the quantity the solver minimises (or NaN if it does not compute it)
    double residual = 0.0;     // the solver's convergence measure (relative)
    double step = 0.0;         // the step size used
    double elapsed_s = 0.0;    // since the solver started
    double misfit = std::nan("");  // noise-normalised data misfit (DiscrepancyRule); NaN when not measured
};

// Return false to stop after this iteration (the solvers' own callback).
using IterationCallback = std::function<bool(const IterationInfo&)>;

// Where a reconstruction is: the iteration just done, within a part of the whole run (an MRI
// slice; CT and ptychography have one part).
struct ProgressInfo {
    IterationInfo iteration;
    index_t part = 0, parts = 1;  // 0-based part index, number of parts
};

// The modality reconstructions' callback (ReconOptions::progress in ct, mri and ptycho).
using ProgressCallback = std::function<bool(const ProgressInfo&)>;

// ---- Checkpoints (issue #10): a reconstruction's state between two iterations.
//
// A solver or a modality's iteration loop that supports checkpoints puts into a SolverState
// everything it needs to go on exactly where it stopped: its estimates and auxiliary arrays
// (momentum, residuals, dual variables) by name, its scalars (step lengths, momentum weights), the
// iterations done and their history. Started again from that state it computes the same
// iterates as a run that was never stopped (bitwise on the CPU: the same operations on the same
// values). The state lives in memory here; lumen::io writes and reads it as a file
// (lumen/io/checkpoint.hpp, docs/formats.md "Checkpoints").
struct SolverState {
    std::string method;  // who wrote it, e.g. "ct.sirt", "ptycho.epie"; a resume checks it
    int iteration = 0;   // iterations completed (the run's own count, 1-based, across phases)
    index_t part = 0;    // the part being reconstructed (an MRI slice); parts before it are done
    std::vector<std::pair<std::string, Array<float>>> reals;        // host arrays
    std::vector<std::pair<std::string, Array<complex64>>> complexes;  // host arrays
    std::vector<std::pair<std::string, double>> scalars;
    std::vector<IterationInfo> history;  // every iteration done so far

    SolverState() = default;
    SolverState(SolverState&&) = default;
    SolverState& operator=(SolverState&&) = default;
    // Copies clone the arrays (Array itself is move-only).
    SolverState(const SolverState& other)
        : method(other.method), iteration(other.iteration), part(other.part), scalars(other.scalars),
          history(other.history) {
        for (const auto& [n, a] : other.reals) reals.emplace_back(n, a.clone());
        for (const auto& [n, a] : other.complexes) complexes.emplace_back(n, a.clone());
    }
    SolverState& operator=(const SolverState& other) {
        if (this != &other) *this = SolverState(other);
        return *this;
    }

    // Copies an array (any device) to the host under `name` (replacing one of that name).
    void put(const std::string& name, View<const float> values) { put_into(reals, name, values); }
    void put(const std::string& name, View<const complex64> values) { put_into(complexes, name, values); }
    void put(const std::string& name, double value) {
        for (auto& [n, v] : scalars)
            if (n == name) {
                v = value;
                return;
            }
        scalars.emplace_back(name, value);
    }
    bool has(const std::string& name) const {
        for (const auto& e : reals)
            if (e.first == name) return true;
        for (const auto& e : complexes)
            if (e.first == name) return true;
        for (const auto& e : scalars)
            if (e.first == name) return true;
        return false;
    }
    // Copies the array `name` into `out` (any device); throws Error(bad_input) when the state has
    // no such array or it has another size (a checkpoint of another problem).
    void get(const std::string& name, View<float> out) const { get_from(reals, name, out); }
    void get(const std::string& name, View<complex64> out) const { get_from(complexes, name, out); }
    double scalar(const std::string& name) const {
        for (const auto& [n, v] : scalars)
            if (n == name) return v;
        throw Error(ErrorCode::bad_input, "checkpoint (" + method + "): no scalar '" + name + "'");
    }

private:
    template <class T>
    static void put_into(std::vector<std::pair<std::string, Array<T>>>& list, const std::string& name, View<const T> v) {
        Array<T> host = Array<T>::copy_of(v, Device::cpu);
        for (auto& e : list)
            if (e.first == name) {
                e.second = std::move(host);
                return;
            }
        list.emplace_back(name, std::move(host));
    }
    template <class T>
    void get_from(const std::vector<std::pair<std::string, Array<T>>>& list, const std::string& name, View<T> out) const {
        for (const auto& e : list)
            if (e.first == name) {
                require(e.second.shape() == out.shape(), "checkpoint (" + method + "): '" + name + "' has shape " +
                                                             e.second.shape().str() + ", this run needs " +
                                                             out.shape().str() + " (a checkpoint of another problem)");
                copy(e.second.view(), out);
                return;
            }
        throw Error(ErrorCode::bad_input, "checkpoint (" + method + "): no array '" + name + "'");
    }
};

// How a reconstruction checkpoints: ReconOptions::checkpoint in ct, mri and ptycho (and, passed
// down, SolverOptions::checkpoint). At the end of each iteration the loop asks due(k); when due it
// fills a SolverState and hands it to `save`; when stop_requested() said so, it then stops with
// stop_reason "interrupted" (the caller decides what that means: the apps exit, see docs/cli.md).
// Nothing here touches files or signals: lumen::io provides both.
struct Checkpointing {
    int every = 0;                                  // > 0: save after every `every`-th iteration
    std::function<bool()> stop_requested;           // polled at every iteration boundary (a signal flag)
    std::function<void(const SolverState&)> save;   // keeps the state (e.g. io::CheckpointFile::write)
    const SolverState* resume = nullptr;            // non-null: start from this state

    bool enabled() const { return static_cast<bool>(save); }
    // Whether the loop must save after iteration k (1-based, the run's own count): every-th, or a
    // stop was requested.
    bool due(int k, bool* stop = nullptr) const {
        const bool requested = stop_requested && stop_requested();
        if (stop) *stop = requested;
        return enabled() && (requested || (every > 0 && k % every == 0));
    }
};

}  // namespace lumen
