// Checkpoint files (include/lumen/io/checkpoint.hpp; layout in docs/formats.md "Checkpoints").
#include "lumen/io/checkpoint.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstring>
#include <sstream>

#include "lumen/io/hdf5.hpp"
#include "lumen/io/output.hpp"

namespace lumen::io {

namespace {

constexpr double k_format_version = 1;

// The text block: one "name = value" per line (values never hold a newline: option texts and
// paths are checked when written).
std::string text_block(const CheckpointRecord& r, const SolverState& s) {
    std::ostringstream o;
    o << "program = " << r.program << "\n";
    o << "method = " << s.method << "\n";
    o << "input = " << r.input.path << "\n";
    for (const auto& [field, value] : r.options) o << field << " = " << value << "\n";
    return o.str();
}

std::vector<std::pair<std::string, std::string>> parse_block(const std::string& text, const std::string& where) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto eq = line.find(" = ");
        require(eq != std::string::npos, where + ": /identity has a line without ' = ' (damaged checkpoint)");
        out.emplace_back(line.substr(0, eq), line.substr(eq + 3));
    }
    return out;
}

const char* const k_history_fields[] = {"iteration", "objective", "residual", "step", "elapsed_s", "misfit"};

}  // namespace

FileIdentity identify_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(ErrorCode::bad_input, path + ": cannot examine the input: " + std::strerror(errno));
    FileIdentity id;
    id.path = path;
    id.size = std::uint64_t(st.st_size);
    id.mtime_s = std::int64_t(st.st_mtim.tv_sec);
    id.mtime_ns = std::int64_t(st.st_mtim.tv_nsec);
    return id;
}

void write_checkpoint(const std::string& path, const CheckpointRecord& record, const SolverState& state) {
    const std::string text = text_block(record, state);
    // The input is named so that a checkpoint path can never replace it.
    OutputSet set(record.input.path);
    H5Writer w(set, path);
    w.set_attr("/", "lumen_checkpoint", k_format_version);
    w.set_attr("/", "iteration", std::int64_t(state.iteration));
    w.set_attr("/", "part", std::int64_t(state.part));
    // Sizes and times as two doubles each: exact (below 2^53), and read back without strings.
    w.set_attr("/", "input_size", double(record.input.size));
    w.set_attr("/", "input_mtime_s", double(record.input.mtime_s));
    w.set_attr("/", "input_mtime_ns", double(record.input.mtime_ns));
    w.write_string("/identity", text);
    w.create_group("/state");
    w.create_group("/state/reals");
    w.create_group("/state/complexes");
    w.create_group("/state/scalars");
    for (const auto& [name, a] : state.reals) w.write("/state/reals/" + name, a.view());
    for (const auto& [name, a] : state.complexes) w.write("/state/complexes/" + name, a.view());
    for (const auto& [name, v] : state.scalars) w.write_scalar("/state/scalars/" + name, v);
    if (!state.history.empty()) {
        std::vector<double> column(state.history.size());
        auto put = [&](const char* name, double IterationInfo::*field) {
            for (std::size_t i = 0; i < state.history.size(); ++i) column[i] = state.history[i].*field;
            w.write(std::string("/history/") + name, column);
        };
        for (std::size_t i = 0; i < state.history.size(); ++i) column[i] = state.history[i].iteration;
        w.write("/history/iteration", column);
        put("objective", &IterationInfo::objective);
        put("residual", &IterationInfo::residual);
        put("step", &IterationInfo::step);
        put("elapsed_s", &IterationInfo::elapsed_s);
        put("misfit", &IterationInfo::misfit);
    }
    w.commit();
    set.commit();
}

SolverState read_checkpoint(const std::string& path, CheckpointRecord* record) {
    const H5File f = H5File::open(path);
    require(f.has_attr("/", "lumen_checkpoint") && f.is_dataset("/identity"),
            path + ": not a lumen checkpoint (no lumen_checkpoint attribute or /identity)");
    const double version = f.attr_double("/", "lumen_checkpoint");
    require(version == k_format_version, path + ": checkpoint format " + std::to_string(version) +
                                             ", this lumen reads format " + std::to_string(k_format_version));
    SolverState s;
    const double iteration = f.attr_double("/", "iteration"), part = f.attr_double("/", "part");
    require(std::isfinite(iteration) && iteration >= 0 && iteration < 1e9 && std::isfinite(part) && part >= 0 &&
                part < 1e12,
            path + ": the checkpoint's iteration or part is out of range (damaged checkpoint)");
    s.iteration = int(iteration);
    s.part = index_t(part);
    CheckpointRecord r;
    r.input.size = std::uint64_t(f.attr_double("/", "input_size"));
    r.input.mtime_s = std::int64_t(f.attr_double("/", "input_mtime_s"));
    r.input.mtime_ns = std::int64_t(f.attr_double("/", "input_mtime_ns"));
    for (auto& [name, value] : parse_block(f.read_string("/identity"), path)) {
        if (name == "program") r.program = value;
        else if (name == "method") s.method = value;
        else if (name == "input") r.input.path = value;
        else r.options.emplace_back(name, value);
    }
    if (f.exists("/state/reals"))
        for (const std::string& name : f.list("/state/reals")) s.reals.emplace_back(name, f.read_float("/state/reals/" + name));
    if (f.exists("/state/complexes"))
        for (const std::string& name : f.list("/state/complexes"))
            s.complexes.emplace_back(name, f.read_complex("/state/complexes/" + name));
    if (f.exists("/state/scalars"))
        for (const std::string& name : f.list("/state/scalars"))
            s.scalars.emplace_back(name, f.read_scalar("/state/scalars/" + name));
    if (f.exists("/history/iteration")) {
        const Array<double> it = f.read_double("/history/iteration", 1);
        s.history.resize(std::size_t(it.size()));
        for (std::size_t i = 0; i < s.history.size(); ++i) s.history[i].iteration = int(it[index_t(i)]);
        for (const char* name : k_history_fields) {
            const std::string ds = std::string("/history/") + name;
            if (std::string(name) == "iteration" || !f.exists(ds)) continue;
            const Array<double> v = f.read_double(ds, 1);
            require(v.size() == it.size(), path + ": " + ds + " has " + std::to_string(v.size()) + " entries, /history/iteration " +
                                               std::to_string(it.size()) + " (damaged checkpoint)");
            for (std::size_t i = 0; i < s.history.size(); ++i) {
                IterationInfo& h = s.history[i];
                const double x = v[index_t(i)];
                if (std::string(name) == "objective") h.objective = x;
                else if (std::string(name) == "residual") h.residual = x;
                else if (std::string(name) == "step") h.step = x;
                else if (std::string(name) == "elapsed_s") h.elapsed_s = x;
                else h.misfit = x;
            }
        }
    }
    if (record) *record = std::move(r);
    return s;
}

void CheckpointOptions::validate() const {
    require_option(every >= 0, "CheckpointOptions.every", "must be >= 0 (0: only on SIGINT/SIGTERM), got " +
                                                              std::to_string(every));
}

std::string CheckpointOptions::default_path(const std::string& output) { return output + ".checkpoint.h5"; }

RunCheckpoint::RunCheckpoint(const CheckpointOptions& c, std::string program, const std::string& input,
                             const std::string& output, std::vector<std::pair<std::string, std::string>> options) {
    c.validate();
    enabled_ = c.enabled();
    if (!enabled_) return;
    every_ = c.every;
    input_ = input;
    path_ = !c.path.empty() ? c.path : !c.resume.empty() ? c.resume : CheckpointOptions::default_path(output);
    require_distinct_paths(input, path_);
    require_option(path_ != output, "CheckpointOptions.path", "the checkpoint " + path_ + " is the output file");
    for (const auto& [field, value] : options)
        require(value.find('\n') == std::string::npos, field + ": an option text with a line break cannot be recorded");
    record_.program = std::move(program);
    record_.input = identify_file(input);
    record_.options = std::move(options);
    if (!c.resume.empty()) {
        CheckpointRecord was;
        resumed_ = read_checkpoint(c.resume, &was);
        require(was.program == record_.program, c.resume + ": a checkpoint of '" + was.program + "', not of '" +
                                                    record_.program + "'");
        // The input: the same size and modification time (a different or changed file is refused).
        if (was.input.size != record_.input.size || was.input.mtime_s != record_.input.mtime_s ||
            was.input.mtime_ns != record_.input.mtime_ns)
            throw Error(ErrorCode::bad_input,
                        c.resume + ": the checkpoint was made from " + was.input.path + " (" + std::to_string(was.input.size) +
                            " bytes, modified at " + std::to_string(was.input.mtime_s) + " s), but the input " + input + " is " +
                            std::to_string(record_.input.size) + " bytes, modified at " +
                            std::to_string(record_.input.mtime_s) + " s: another file, or changed since");
        for (const auto& [field, value] : record_.options) {
            std::string before = "(not recorded)";
            for (const auto& [f, v] : was.options)
                if (f == field) before = v;
            if (before != value)
                invalid_option(field, "is '" + value + "' but the checkpoint " + c.resume + " was made with '" + before +
                                          "'; resume with the same options");
        }
    }
    signals_ = std::make_unique<SignalDeferral>();
}

RunCheckpoint::~RunCheckpoint() = default;

Checkpointing RunCheckpoint::hook() {
    Checkpointing h;
    if (!enabled_) return h;
    h.every = every_;
    h.stop_requested = [] { return signal_pending() != 0; };
    h.save = [this](const SolverState& s) {
        write_checkpoint(path_, record_, s);
        saved_ = true;
    };
    h.resume = resumed();
    return h;
}

void RunCheckpoint::after(const std::string& stop_reason, const std::string& resume_hint) {
    if (!enabled_ || stop_reason != "interrupted") return;
    if (signals_) signals_->acted_on();
    const int sig = signal_pending();
    throw Error(ErrorCode::interrupted, std::string("stopped by ") +
                                            (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                            "; the checkpoint " + path_ + " holds the state; continue with " +
                                            resume_hint);
}

void RunCheckpoint::finished() {
    if (!enabled_) return;
    signals_.reset();
    // The result is committed: the checkpoint is spent (a resume would only repeat the end).
    if (saved_ || resumed_) ::unlink(path_.c_str());
}

}  // namespace lumen::io
