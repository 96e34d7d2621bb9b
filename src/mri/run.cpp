// The file-to-file pipelines of lumen-mri: a scan in, its reconstruction (or coil maps) out.
#include "lumen/mri/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "lumen/core/checks.hpp"
#include "lumen/core/comm.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/output.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/preprocess.hpp"
#include "lumen/mri/sense.hpp"
#include "src/text.hpp"

namespace lumen::mri {

MapsSource parse_maps_source(const std::string& text) {
    if (text == "espirit") return MapsSource::espirit;
    if (text == "truth") return MapsSource::truth;
    invalid_option("RunOptions.maps", "unknown coil maps '" + text + "'; expected espirit or truth");
}

const char* maps_source_name(MapsSource source) noexcept {
    switch (source) {
        case MapsSource::espirit: return "espirit";
        case MapsSource::truth: return "truth";
    }
    return "?";
}

void RunOptions::validate() const {
    recon.validate();
    preprocess.validate();
    if (undersample) mask.validate();
    if (recon.method != Method::zero_filled && maps == MapsSource::espirit) espirit.validate();
}

void EspiritRunOptions::validate() const {
    espirit.validate();
    if (undersample) mask.validate();
}

namespace {

// What one rank's slices contribute that is not a sum (distributed runs, docs/scaling.md): their
// solver histories, iteration counts and stop reasons in slice order, and the mask of its last
// slice. Packed as bytes for Communicator::all_gather; ranks own consecutive slices in rank order,
// so concatenating the ranks' parts gives the serial run's order.
struct RankSlices {
    std::vector<IterationInfo> history;
    std::vector<std::int64_t> history_slice;
    std::vector<int> iterations;
    std::vector<std::string> stop_reasons;
    std::vector<float> last_mask;
    std::vector<std::int64_t> last_mask_shape;
};

template <class T>
void put(std::string& b, const T& v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
T take(const std::string& b, std::size_t& at) {
    require(at + sizeof(T) <= b.size(), "MPI: a rank's slice results are truncated (" + std::to_string(b.size()) +
                                            " bytes)");
    T v;
    std::memcpy(&v, b.data() + at, sizeof(T));
    at += sizeof(T);
    return v;
}
template <class T>
void put_vector(std::string& b, const std::vector<T>& v) {
    put(b, std::uint64_t(v.size()));
    for (const T& x : v) put(b, x);
}
template <class T>
std::vector<T> take_vector(const std::string& b, std::size_t& at) {
    const auto n = take<std::uint64_t>(b, at);
    require(n <= b.size(), "MPI: a rank's slice results hold a bad count");
    std::vector<T> v;
    for (std::uint64_t i = 0; i < n; ++i) v.push_back(take<T>(b, at));
    return v;
}

std::string pack(const RankSlices& r) {
    std::string b;
    put_vector(b, r.history);
    put_vector(b, r.history_slice);
    put_vector(b, r.iterations);
    put(b, std::uint64_t(r.stop_reasons.size()));
    for (const std::string& text : r.stop_reasons) {
        put(b, std::uint64_t(text.size()));
        b += text;
    }
    put_vector(b, r.last_mask);
    put_vector(b, r.last_mask_shape);
    return b;
}

RankSlices unpack(const std::string& b) {
    RankSlices r;
    std::size_t at = 0;
    r.history = take_vector<IterationInfo>(b, at);
    r.history_slice = take_vector<std::int64_t>(b, at);
    r.iterations = take_vector<int>(b, at);
    const auto n = take<std::uint64_t>(b, at);
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto length = take<std::uint64_t>(b, at);
        require(at + length <= b.size(), "MPI: a rank's slice results are truncated");
        r.stop_reasons.push_back(b.substr(at, length));
        at += length;
    }
    r.last_mask = take_vector<float>(b, at);
    r.last_mask_shape = take_vector<std::int64_t>(b, at);
    return r;
}


double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Array<float> choose_mask(const ScanReader& reader, bool undersample, const MaskSpec& spec, std::string& source) {
    const ScanHeader& h = reader.header();
    Array<float> m;
    if (undersample) {
        m = make_mask(spec, h.height, h.width);
        restrict_columns(m.view(), h.first_column, h.last_column);
        if (h.has_mask) {
            const Array<float> own = reader.file_mask();
            mul(own.view(), m.view(), m.view());
        }
        source = "generated";
    } else if (h.has_mask) {
        m = reader.file_mask();
        source = "file";
    } else {
        source = "data";
    }
    return m;
}

// A simulation's true maps for one slice: [coils][H][W] for all slices, or the slice's of
// [slices][coils][H][W].
View<const complex64> slice_maps(const Array<complex64>& truth, index_t slice) {
    if (truth.rank() == 3) return truth.view();
    return truth.view().item(slice);
}

// Mask for one slice: the run's mask, or the non-zero samples of this slice.
Array<float> slice_mask(const Array<float>& run_mask, const Array<complex64>& k) {
    if (!run_mask.empty()) return run_mask.clone();
    Array<float> m(Shape{k.dim(1), k.dim(2)});
    mask_from_data(k.view(), m.view());
    return m;
}

double acceleration_over(const Array<float>& m, const ScanHeader& h) {
    double n = 0;
    for (index_t y = 0; y < h.height; ++y)
        for (index_t x = h.first_column; x < h.last_column; ++x) n += m[y * h.width + x] != 0.0f;
    const double total = double(h.height) * double(h.last_column - h.first_column);
    return n > 0 ? total / n : 0.0;
}


// Above this the data-fit check warns. Measured on lumen's simulations (docs/mri.md, "Checks"):
// fully sampled with the right conventions 1.0 to 1.3; undersampled 4x, where regularisation and
// the iteration count leave part of the data unexplained, 1.3 to 12; mirrored readouts or FFT-order
// k-space 14 to 17 at noise 0.05 and about 6x more at noise 0.02. A lower bar would flag sound
// undersampled reconstructions of quiet scans, so the check is for gross misfits; the value is
// always printed for the user to judge.
constexpr double k_residual_warning = 30.0;

}  // namespace

ScanAssessment assess_scan(const ScanReader& reader, View<const float> run_mask, const Method* method, bool prewhiten,
                           bool pocs) {
    const ScanHeader& h = reader.header();
    ScanAssessment a;
    const index_t mid = h.slices / 2, H = h.height, W = h.width, C = h.coils;
    const Array<complex64> k = reader.read_slice(mid);
    Array<float> m;
    if (!run_mask.empty()) m = Array<float>::copy_of(run_mask, Device::cpu);
    else {
        m = Array<float>(Shape{H, W});
        mask_from_data(k.view(), m.view());
    }

    // The k-space centre: the energy peak of the measured samples against where the header puts
    // the centre (row H/2, column W/2 after placing the lines by the encoding limits).
    double best = -1.0;
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
            if (m[y * W + x] == 0.0f) continue;
            double e = 0.0;
            for (index_t c = 0; c < C; ++c) e += double(norm(k[(c * H + y) * W + x]));
            if (e > best) {
                best = e;
                a.peak_row = y;
                a.peak_column = x;
            }
        }
    {
        const index_t dr = a.peak_row - H / 2, dc = a.peak_column - W / 2;
        const bool ok = std::abs(dr) <= std::max<index_t>(2, H / 16) && std::abs(dc) <= std::max<index_t>(2, W / 16);
        const auto near_edge = [](index_t i, index_t n) { return i < n / 8 || i >= n - n / 8; };
        std::string msg = "k-space energy peak of slice " + std::to_string(mid) + " at row " + std::to_string(a.peak_row) +
                          ", column " + std::to_string(a.peak_column) + "; the header puts the centre at row " +
                          std::to_string(H / 2) + ", column " + std::to_string(W / 2);
        if (!ok) {
            msg += " (off by " + std::to_string(dr) + ", " + std::to_string(dc) + ")";
            if (near_edge(a.peak_row, H) && near_edge(a.peak_column, W))
                msg += ": the zero frequency sits in a corner, so the k-space looks stored in FFT order "
                       "(uncentred); apply fftshift over the last two axes (numpy.fft.fftshift(k, axes=(-2, -1))) "
                       "when converting";
            else
                msg += ": the echo is not where the header's encoding limits (kspace_encoding_step_1 center, "
                       "center_sample) put it; check the conversion (were partial-Fourier or asymmetric-echo lines "
                       "stored from index 0 without the header saying so?)";
        }
        report_check("mri.kspace_centre", ok, msg);
    }

    if (h.format == "ismrmrd")
        report_check("mri.reversed_lines", true,
                     h.reversed_lines > 0 ? std::to_string(h.reversed_lines) +
                                                " readouts flagged ACQ_IS_REVERSE were flipped back along the readout"
                                          : std::string("no readout is flagged ACQ_IS_REVERSE"));

    const Array<complex64> noise = reader.noise_samples();
    if (!noise.empty()) {
        const double ratio = h.noise_dwell_us > 0.0 && h.acquisition_dwell_us > 0.0
                                 ? h.noise_dwell_us / h.acquisition_dwell_us
                                 : 1.0;
        a.noise = noise_whitening(noise.view(), ratio, h.path + ": noise pre-scan");
        std::string msg = "noise pre-scan: " + std::to_string(h.noise_scans) + " acquisitions, " +
                          std::to_string(a.noise.samples) + " samples per coil (dwell " + detail::num(h.noise_dwell_us) +
                          " us, imaging " + detail::num(h.acquisition_dwell_us) + " us); coil noise std max/min " +
                          detail::num(a.noise.std_ratio) + ", largest coil correlation " +
                          detail::num(a.noise.max_correlation) + "; ";
        if (!method) msg += "recon whitens the coils with it (Cholesky of the covariance) unless pre-whitening is turned off";
        else if (prewhiten) msg += "the coils are whitened with it (Cholesky of the covariance)";
        else msg += "not applied (pre-whitening turned off: RunOptions.prewhiten)";
        report_check("mri.noise_prewhitening", true, msg);
    } else {
        report_check("mri.noise_prewhitening", true,
                     "no noise pre-scan (ACQ_IS_NOISE_MEASUREMENT) in the file: the coils are not whitened, and the "
                     "noise level (the discrepancy stop, the residual) comes from the readout margin of the data");
    }

    a.partial_fourier = detect_partial_fourier(m.view(), h.first_row, h.last_row, h.first_column, h.last_column);
    const PartialFourier& pf = a.partial_fourier;
    if (!pf.any()) {
        report_check("mri.partial_fourier", true, "the sampled k-space is symmetric about the centre (no partial Fourier)");
    } else {
        std::string what = "partial Fourier";
        if (pf.cols.partial) what += ", " + pf.cols.describe("phase encode") + (pf.cols.declared ? " as the header says" : "");
        if (pf.rows.partial) what += ", " + pf.rows.describe("readout") + (pf.rows.declared ? " as the header says" : "");
        if (!method) {
            report_check("mri.partial_fourier", true,
                         what + "; recon fills the left-out part (zf by POCS, the iterative methods with a "
                                "phase-constrained model)");
        } else if (*method == Method::zero_filled && pocs) {
            report_check("mri.partial_fourier", true, what + ": the left-out part is filled by POCS before the inverse FFT");
        } else if (pocs) {
            report_check("mri.partial_fourier", true,
                         what + ": " + method_name(*method) +
                             " fits a real image times the phase of the symmetric centre (phase-constrained), which "
                             "fills the left-out part");
        } else {
            report_check("mri.partial_fourier", false,
                         what + ": the left-out part is not estimated (filling turned off: RunOptions.pocs), so the image "
                                "loses resolution along that axis; turn filling on (POCS for zf, a "
                                "phase-constrained model for the iterative methods)");
        }
    }

    if (h.recon_height > 0 && h.height >= 2 * h.recon_height)
        report_check("mri.readout_oversampling", true,
                     "the readout is " + detail::num(double(h.height) / double(h.recon_height)) +
                         "x oversampled (" + std::to_string(h.height) + " samples for a recon size of " +
                         std::to_string(h.recon_height) + "): recon removes it before ESPIRiT and the iterations when the "
                         "mask is the same on every row (RunOptions.preprocess.readout_crop), else crops the "
                         "image to the centre " + std::to_string(h.recon_height) + " rows after the inverse FFT");
    else
        report_check("mri.readout_oversampling", true,
                     "readout of " + std::to_string(h.height) + " samples for a recon size of " +
                         std::to_string(h.recon_height) + " rows (no oversampling to remove beyond the centre crop)");
    return a;
}

std::vector<std::pair<std::string, std::string>> checkpoint_options(const RunOptions& o) {
    using detail::num;
    const ReconOptions& r = o.recon;
    return {{"ReconOptions.method", method_name(r.method)},
            {"ReconOptions.device", device_name(r.device)},
            {"ReconOptions.iterations", std::to_string(r.iterations)},
            {"ReconOptions.lambda", r.lambda ? num(*r.lambda) : "default"},
            {"ReconOptions.tolerance", num(r.tolerance)},
            {"ReconOptions.wavelet_levels", std::to_string(r.wavelet_levels)},
            {"ReconOptions.pocs_iterations", std::to_string(r.pocs_iterations)},
            {"ReconOptions.stop", stop_name(r.stop)},
            {"ReconOptions.discrepancy_tau", num(r.resolved_tau())},
            {"ReconOptions.noise_variance", r.noise_variance > 0.0 ? num(r.noise_variance) : "estimated"},
            {"ReconOptions.cycle_spinning", r.cycle_spinning ? std::to_string(r.cycle_spinning_seed) : "off"},
            {"RunOptions.undersample", o.undersample ? "yes" : "no"},
            {"MaskSpec.kind", mask_kind_name(o.mask.kind)},
            {"MaskSpec.acceleration", num(o.mask.acceleration)},
            {"MaskSpec.center_fraction", num(o.mask.center_fraction)},
            {"MaskSpec.calibration", std::to_string(o.mask.calibration)},
            {"MaskSpec.seed", std::to_string(o.mask.seed)},
            {"RunOptions.maps", maps_source_name(o.maps)},
            {"EspiritOptions.kernel", std::to_string(o.espirit.kernel)},
            {"EspiritOptions.calibration", std::to_string(o.espirit.calibration)},
            {"EspiritOptions.threshold", num(o.espirit.threshold)},
            {"EspiritOptions.crop", num(o.espirit.crop)},
            {"EspiritOptions.iterations", std::to_string(o.espirit.iterations)},
            {"RunOptions.prewhiten", o.prewhiten ? "yes" : "no"},
            {"RunOptions.pocs", o.pocs ? "yes" : "no"},
            {"PreprocessOptions.readout_crop", o.preprocess.readout_crop ? "yes" : "no"},
            {"PreprocessOptions.coil_energy", num(o.preprocess.coil_energy)},
            {"PreprocessOptions.virtual_coils", std::to_string(o.preprocess.virtual_coils)}};
}

RunSummary run_recon(const RunOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    o.validate();
    io::require_distinct_paths(o.input, o.output);
    // Checkpoints (issue #10), slice by slice: checked against the input and options first.
    // Distributed runs (docs/scaling.md): each rank reconstructs a block of consecutive slices;
    // rank 0 gathers them and writes the one output. Checkpoints hold one process's state.
    const Communicator& ranks = world();
    require_option(!ranks.distributed() || !o.checkpoint.enabled(),
                   "CheckpointOptions.path",
                   "a distributed run (" + std::to_string(ranks.size()) +
                       " MPI ranks) does not checkpoint; run without checkpoints, or on one rank");
    io::RunCheckpoint checkpoint(o.checkpoint, "lumen-mri recon", o.input, o.output, checkpoint_options(o));
    const Checkpointing hook = checkpoint.hook();
    const ScanReader reader = ScanReader::open(o.input);
    const ScanHeader& h = reader.header();
    RunSummary sum;
    sum.header = h;
    const Array<float> run_mask = choose_mask(reader, o.undersample, o.mask, sum.mask_source);
    const Method method = o.recon.method;
    const ScanAssessment assessment = assess_scan(reader, run_mask.view(), &method, o.prewhiten, o.pocs);
    sum.noise = assessment.noise;
    sum.partial_fourier = assessment.partial_fourier;
    sum.whitened = o.prewhiten && assessment.noise.samples > 0;
    ReconOptions recon = o.recon;
    if (o.pocs) recon.partial_fourier = assessment.partial_fourier;
    // The noise level of the discrepancy stop and the residual: the user's, else the pre-scan's
    // (whitened or not, its mean coil variance), else each slice's own (readout_noise_variance).
    const bool given_variance = recon.noise_variance > 0.0;
    if (!given_variance && assessment.noise.samples > 0) recon.noise_variance = assessment.noise.variance;
    const bool need_maps = method != Method::zero_filled;
    Array<complex64> truth_maps;
    if (need_maps && o.maps == MapsSource::truth) {
        truth_maps = reader.truth_sensitivities();
        // Given maps live in the coil space of the data: whitened data need whitened maps.
        if (sum.whitened) {
            if (truth_maps.rank() == 3) apply_whitening(assessment.noise, truth_maps.view());
            else
                for (index_t s = 0; s < truth_maps.dim(0); ++s) apply_whitening(assessment.noise, truth_maps.view().item(s));
        }
    }
    const Array<float> reference = reader.reference();
    double residual_sum = 0.0, residual_norm = 0.0, variance_sum = 0.0;
    bool readout_estimates = false, background_estimates = false;

    const index_t S = h.slices, rh = h.recon_height, rw = h.recon_width;
    Array<float> volume(Shape{S, rh, rw});
    SolverResult merged;
    std::vector<std::int64_t> history_slice;
    double acc_sum = 0.0;
    Array<float> last_mask;
    // Checkpoints (issue #10): the state is everything the slices done so far contributed; a
    // resumed run starts at the slice the checkpoint names (the one that was running).
    const std::string state_method = std::string("mri.") + method_name(method);
    index_t first_slice = 0;
    if (const SolverState* st = hook.resume) {
        require(st->method == state_method, o.input + ": the checkpoint holds the state of " + st->method + ", not of " +
                                                state_method);
        require(st->part >= 0 && st->part <= S, "checkpoint: slice " + std::to_string(st->part) + " is outside the " +
                                                    std::to_string(S) + " slices of " + o.input);
        first_slice = st->part;
        st->get("volume", volume.view());
        residual_sum = st->scalar("residual_sum");
        residual_norm = st->scalar("residual_norm");
        variance_sum = st->scalar("variance_sum");
        acc_sum = st->scalar("acc_sum");
        merged.elapsed_s = st->scalar("elapsed_s");
        merged.converged = st->scalar("converged") != 0.0;
        sum.iterations = int(st->scalar("slice_iterations"));
        merged.iterations = st->iteration;
        merged.history = st->history;
        if (!merged.history.empty()) {
            Array<float> slices(Shape{index_t(merged.history.size())});
            st->get("history_slice", slices.view());
            for (float v : slices) history_slice.push_back(std::int64_t(v));
        }
        if (first_slice > 0) {
            for (const auto& [name, a] : st->reals)
                if (name == "last_mask") last_mask = a.clone();
        }
    }
    auto save_state = [&](index_t next_slice) {
        SolverState st;
        st.method = state_method;
        st.part = next_slice;
        st.iteration = merged.iterations;
        st.put("volume", View<const float>(volume.view()));
        if (!last_mask.empty()) st.put("last_mask", View<const float>(last_mask.view()));
        if (!history_slice.empty()) {
            Array<float> slices(Shape{index_t(history_slice.size())});
            for (std::size_t i = 0; i < history_slice.size(); ++i) slices[index_t(i)] = float(history_slice[i]);
            st.put("history_slice", View<const float>(slices.view()));
        }
        st.put("residual_sum", residual_sum);
        st.put("residual_norm", residual_norm);
        st.put("variance_sum", variance_sum);
        st.put("acc_sum", acc_sum);
        st.put("elapsed_s", merged.elapsed_s);
        st.put("converged", merged.converged ? 1.0 : 0.0);
        st.put("slice_iterations", double(sum.iterations));
        st.history = merged.history;
        hook.save(st);
    };
    // A signal stops the running slice's solver at its next iteration (the slice is restarted on
    // resume); zero-filled, which has no iterations, stops between slices.
    bool interrupted = false;
    if (hook.enabled()) {
        const ProgressCallback user = recon.progress;
        recon.progress = [&interrupted, &hook, user](const ProgressInfo& p) {
            const bool go_on = user ? user(p) : true;
            if (p.iteration.iteration > 0 && hook.stop_requested && hook.stop_requested()) {
                interrupted = true;
                return false;
            }
            return go_on;
        };
    }
    // One reconstructor for all slices: its SENSE operator and FFT plans are made for the first
    // slice and take the next slices' maps and mask; it masks each slice's data once, on the device.
    // Fewer slices than ranks (docs/scaling.md): the ranks split each slice's coils instead, when
    // the method allows it; otherwise the ranks beyond the slices idle, and a check says so.
    bool coil_split = false;
    if (ranks.distributed() && S < ranks.size()) {
        const std::string layout = std::to_string(S) + " slice(s) on " + std::to_string(ranks.size()) + " MPI ranks";
        std::string why;
        if (method == Method::zero_filled) why = "zero-filled has no SENSE operator to split";
        else if (recon.partial_fourier.any()) why = "the partial-Fourier constraint (--pocs) is not split";
        else if (h.coils < ranks.size())
            why = std::to_string(h.coils) + " coil(s) cannot be split over " + std::to_string(ranks.size()) + " ranks";
        coil_split = why.empty();
        if (coil_split)
            report_check("mri.distribution", true,
                         layout + ": each slice's " + std::to_string(h.coils) +
                             " coils are split over the ranks (every rank reads, whitens and maps the whole slice, "
                             "then solves with its block of coils)");
        else
            warn("mri.distribution",
                 layout + ": " +
                     (S + 1 == ranks.size() ? "rank " + std::to_string(S) + " idles"
                                            : "ranks " + std::to_string(S) + " to " + std::to_string(ranks.size() - 1) + " idle") +
                     ", as a coil split does not apply: " + why + "; run on at most " + std::to_string(S) + " rank(s)");
    }
    if (coil_split) {
        recon.coil_split.part = ranks.rank();
        recon.coil_split.parts = ranks.size();
        // The communicator records the time and bytes of every collective (its statistics(), read
        // into the summary after the last slice).
        recon.coil_split.sum_image = [&ranks](View<complex64> image) { ranks.sum(image); };
        recon.coil_split.data.sum = [&ranks](double* values, int count) { ranks.sum(values, index_t(count)); };
        recon.coil_split.data.max = [&ranks](double* values, int count) { ranks.max(values, index_t(count)); };
    }
    SliceReconstructor reconstructor(recon);
    // A coil split needs a coil per process after compression too.
    PreprocessOptions preprocess = o.preprocess;
    if (coil_split) preprocess.min_virtual_coils = ranks.size();
    Array<complex64> ones;  // single-coil maps
    // A coil split: every rank takes every slice (and holds what the serial run holds at the end).
    const RankBlock mine = coil_split ? RankBlock{0, S} : block_of(S, ranks.rank(), ranks.size());
    for (index_t s = std::max(first_slice, mine.begin); s < mine.end; ++s) {
        if (hook.enabled() && hook.stop_requested && hook.stop_requested()) interrupted = true;
        if (interrupted) {
            save_state(s);
            break;
        }
        Array<complex64> k = reader.read_slice(s);
        if (sum.whitened) apply_whitening(assessment.noise, k.view());
        const Array<float> m = slice_mask(run_mask, k);
        acc_sum += acceleration_over(m, h);
        // sigma^2 per sample: given (the user's or the pre-scan's), else this slice's readout margin
        // (which masks the data itself).
        double variance = recon.noise_variance, readout_variance = 0.0;
        if (!(variance > 0.0)) {
            variance = readout_variance = readout_noise_variance(k.view(), m.view());
            if (variance > 0.0) {
                readout_estimates = true;
            } else {
                // No fully measured columns (2-D masks): the image background, an upper bound,
                // good enough for the residual report but not for stopping.
                variance = background_noise_variance(k.view(), m.view());
                background_estimates = true;
            }
        }
        variance_sum += variance;
        // Readout oversampling and coil compression removed before ESPIRiT and the iterations
        // (lumen/mri/preprocess.hpp; the noise level above, from the readout margin, comes first).
        // No crop for partial-Fourier scans (the model's extents are the full grid's; unfilled, a
        // 75 % scan's residual went from 1.2 to 80 cropped: not understood, so not done); zero-filled
        // is not compressed (it would change its RSS, and saves nothing).
        const PreparedSlice p =
            prepare_slice(std::move(k), m.view(),
                          need_maps && o.maps == MapsSource::truth ? slice_maps(truth_maps, s) : View<const complex64>(),
                          rh, preprocess, !assessment.partial_fourier.any(), need_maps);
        sum.readout_cropped = sum.readout_cropped || p.readout_cropped;
        sum.virtual_coils = p.virtual_coils;
        sum.coil_energy_kept = p.kept_fraction;
        // The cropped readout has no air margin left: its stop uses the full grid's estimate.
        if (!(recon.noise_variance > 0.0))
            reconstructor.set_noise_variance(p.readout_cropped && readout_variance > 0.0 ? readout_variance : 0.0);
        // ... and keeps the full grid's data scale and misfit (lambda and tau mean the same).
        reconstructor.set_readout_crop(p.readout_cropped ? h.height : 0);
        // ESPIRiT reads only the calibration region, which the mask samples fully: the data need no
        // masking before it.
        View<const complex64> maps;
        Array<complex64> estimated;
        if (need_maps) {
            if (o.maps == MapsSource::truth) maps = p.maps.view();
            else if (h.coils == 1) {
                if (ones.shape() != p.kspace.shape()) {
                    ones = Array<complex64>(p.kspace.shape());
                    fill(ones.view(), complex64(1.0f));
                }
                maps = ones.view();
            } else {
                estimated = espirit(p.kspace.view(), p.mask.view(), o.espirit, o.recon.device).maps;
                maps = estimated.view();
            }
        }
        const SliceRecon r = reconstructor.reconstruct(p.kspace.view(), p.mask.view(), maps, s, S);
        if (interrupted) {
            save_state(s);  // without this slice: it is restarted on resume
            break;
        }
        if (r.residual_sq >= 0.0 && variance > 0.0) {
            // A cropped readout's removed rows count at their noise level, as in the stop.
            const double removed = p.readout_cropped ? double(r.measured) * double(h.height - rh) / double(rh) : 0.0;
            residual_sum += r.residual_sq + removed * variance;
            residual_norm += (double(r.measured) + removed) * variance;
        }
        const Array<float> c = center_crop(r.magnitude.view(), rh, rw);
        std::copy(c.begin(), c.end(), volume.data() + s * rh * rw);
        for (const auto& it : r.solver.history) {
            IterationInfo info = it;
            info.elapsed_s += merged.elapsed_s;
            merged.history.push_back(info);
            history_slice.push_back(s);
        }
        merged.iterations += r.solver.iterations;
        merged.elapsed_s += r.solver.elapsed_s;
        merged.stop_reason = r.solver.stop_reason;
        merged.converged = r.solver.converged;
        sum.iterations = r.solver.iterations;
        sum.slice_iterations.push_back(r.solver.iterations);
        sum.slice_stop_reasons.push_back(r.solver.stop_reason);
        last_mask = m.clone();
        if (hook.enabled() && hook.every > 0 && (s + 1) % hook.every == 0 && s + 1 < S) save_state(s + 1);
    }
    checkpoint.after(interrupted ? "interrupted" : "", "recon " + o.input + " -o " + o.output + " --resume " +
                                                          checkpoint.path() + " and the same options");
    if (coil_split) sum.communication = ranks.statistics();  // every collective of the coil split
    if (ranks.distributed() && !coil_split) {
        sum.communication.ranks = ranks.size();
        const auto wait_start = std::chrono::steady_clock::now();
        ranks.barrier();
        sum.communication.wait_s = seconds_since(wait_start);
        const auto communication_start = std::chrono::steady_clock::now();
        // Sums: every slice of the volume is one rank's (the others hold zeros there), and the
        // noise and acceleration tallies add up over slices.
        ranks.sum(volume.view());
        double tallies[] = {residual_sum, residual_norm, variance_sum, acc_sum, readout_estimates ? 1.0 : 0.0,
                            background_estimates ? 1.0 : 0.0, double(merged.iterations)};
        ranks.sum(tallies, index_t(std::size(tallies)));
        residual_sum = tallies[0];
        residual_norm = tallies[1];
        variance_sum = tallies[2];
        acc_sum = tallies[3];
        readout_estimates = tallies[4] > 0.0;
        background_estimates = tallies[5] > 0.0;
        merged.iterations = int(tallies[6]);
        // The job took as long as its slowest rank.
        merged.elapsed_s = ranks.max(merged.elapsed_s);
        // The rest in slice order; the last slice (and its mask, stop reason) is the last busy rank's.
        RankSlices local;
        local.history = merged.history;
        local.history_slice = history_slice;
        local.iterations = sum.slice_iterations;
        local.stop_reasons = sum.slice_stop_reasons;
        if (!last_mask.empty()) {
            local.last_mask.assign(last_mask.begin(), last_mask.end());
            for (int d = 0; d < last_mask.rank(); ++d) local.last_mask_shape.push_back(last_mask.dim(d));
        }
        merged.history.clear();
        history_slice.clear();
        sum.slice_iterations.clear();
        sum.slice_stop_reasons.clear();
        const std::string packed = pack(local);
        sum.communication.bytes = double(volume.bytes()) + sizeof(tallies) + sizeof(double) + double(packed.size());
        for (const std::string& part : ranks.all_gather(packed)) {
            const RankSlices r = unpack(part);
            merged.history.insert(merged.history.end(), r.history.begin(), r.history.end());
            history_slice.insert(history_slice.end(), r.history_slice.begin(), r.history_slice.end());
            sum.slice_iterations.insert(sum.slice_iterations.end(), r.iterations.begin(), r.iterations.end());
            sum.slice_stop_reasons.insert(sum.slice_stop_reasons.end(), r.stop_reasons.begin(), r.stop_reasons.end());
            if (!r.iterations.empty()) {
                sum.iterations = r.iterations.back();
                merged.stop_reason = r.stop_reasons.empty() ? std::string() : r.stop_reasons.back();
                const Shape shape(std::vector<index_t>(r.last_mask_shape.begin(), r.last_mask_shape.end()));
                last_mask = r.last_mask.empty() ? Array<float>() : Array<float>::from(r.last_mask, shape);
            }
        }
        sum.communication.communication_s = seconds_since(communication_start);
    }
    sum.acceleration = acc_sum / double(S);
    sum.stop_reason = merged.stop_reason;
    sum.noise_variance = variance_sum / double(S);
    sum.noise_source = given_variance                  ? "given"
                       : assessment.noise.samples > 0  ? "noise pre-scan"
                       : sum.noise_variance <= 0.0     ? ""
                       : background_estimates          ? (readout_estimates ? "readout margin, image background"
                                                                            : "image background")
                                                       : "readout margin";
    if (residual_norm > 0.0) sum.residual = residual_sum / residual_norm;
    if (method == Method::zero_filled)
        report_check("mri.data_fit", true,
                     "zero-filled inverts the measured samples exactly: no data-fit residual (an iterative method "
                     "reports one)");
    else if (sum.residual < 0.0)
        report_check("mri.data_fit", true, "no noise estimate (no pre-scan, nothing measured): residual not normalised");
    else {
        const bool fits = sum.residual <= k_residual_warning;
        std::string msg = "noise-normalised residual " + detail::num(sum.residual) + " (||A x - y||^2 per measured sample / " +
                          "noise variance " + detail::num(sum.noise_variance) + " from the " + sum.noise_source +
                          "; 1: the model explains the data down to the noise, below 1: it fits noise too, as with "
                          "as many unknowns as samples)";
        if (!fits)
            msg += ": the model leaves far more than noise unexplained; check the coil maps (the ESPIRiT crop, or "
                   "their source), the mask, and the conventions above (k-space centre, reversed lines), or lower the "
                   "regularisation weight (ReconOptions.lambda)";
        report_check("mri.data_fit", fits, msg);
    }
    if (!reference.empty()) sum.quality = fastmri_quality(reference.view(), volume.view());

    sum.ranks = ranks.size();
    // One set for the .h5 and its PNGs: both land, or neither (and never over the input). Rank 0
    // writes for a distributed job.
    if (!ranks.root()) {
        sum.seconds = seconds_since(t0);
        return sum;
    }
    io::OutputSet outputs(o.input);
    ReconstructionAttributes a;
    a.ranks = ranks.size();
    a.method = method_name(method);
    a.lambda = o.recon.resolved_lambda();
    a.iterations = o.recon.resolved_iterations();
    a.maps = need_maps ? maps_source_name(o.maps) : "none";
    a.mask_source = sum.mask_source;
    a.undersampled = o.undersample;
    if (o.undersample) {
        a.mask_kind = mask_kind_name(o.mask.kind);
        a.mask_seed = std::int64_t(o.mask.seed);
        a.requested_acceleration = o.mask.acceleration;
    }
    a.acceleration = sum.acceleration;
    a.espirit = o.espirit;
    a.device = device_name(o.recon.device);
    a.prewhitened = sum.whitened;
    a.partial_fourier = !sum.partial_fourier.any()        ? "none"
                        : !o.pocs                         ? "not filled"
                        : method == Method::zero_filled   ? "pocs"
                                                          : "phase-constrained";
    a.noise_variance = sum.noise_variance;
    a.noise_source = sum.noise_source;
    sum.discrepancy_tau = recon.resolved_tau();
    if (method != Method::zero_filled) {
        a.stopping = stop_name(recon.stop);
        a.discrepancy_tau = sum.discrepancy_tau;
        for (std::size_t i = 0; i < sum.slice_stop_reasons.size(); ++i)
            a.slice_stop_reasons += (i ? "," : "") + sum.slice_stop_reasons[i];
    }
    if (method == Method::l1_wavelet)
        a.cycle_spinning = recon.cycle_spinning ? "seed " + std::to_string(recon.cycle_spinning_seed) : "off";
    a.residual = sum.residual;
    a.input = o.input;
    a.quality = sum.quality;
    const Array<std::int64_t> slice_of =
        Array<std::int64_t>::from(history_slice, Shape{index_t(history_slice.size())});
    write_reconstruction(outputs, o.output, volume.view(), merged, slice_of.view(), last_mask.view(), a);
    if (!o.png_prefix.empty()) sum.previews = write_previews(outputs, o.png_prefix, volume.view(), reference.view());
    outputs.commit();
    checkpoint.finished();
    sum.seconds = seconds_since(t0);
    return sum;
}

EspiritRunSummary run_espirit(const EspiritRunOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    o.validate();
    io::require_distinct_paths(o.input, o.output);
    const ScanReader reader = ScanReader::open(o.input);
    const ScanHeader& h = reader.header();
    EspiritRunSummary sum;
    sum.header = h;
    std::string source;
    const Array<float> run_mask = choose_mask(reader, o.undersample, o.mask, source);
    Array<complex64> maps(Shape{h.slices, h.coils, h.height, h.width});
    Array<float> eig(Shape{h.slices, h.height, h.width});
    for (index_t s = 0; s < h.slices; ++s) {
        if (o.progress) {
            ProgressInfo p;
            p.part = s;
            p.parts = h.slices;
            (void)o.progress(p);
        }
        Array<complex64> k = reader.read_slice(s);
        const Array<float> m = slice_mask(run_mask, k);
        apply_mask(k.view(), m.view(), k.view());
        const EspiritResult r = espirit(k.view(), m.view(), o.espirit, o.device);
        copy(r.maps.view(), maps.view().item(s));
        copy(r.eigenvalues.view(), eig.view().item(s));
        sum.kernels_kept.push_back(r.kernels_kept);
        sum.box = r.box;
    }
    io::OutputSet outputs(o.input);
    write_maps(outputs, o.output, maps.view(), eig.view(), o.espirit, sum.box, o.input);
    outputs.commit();
    sum.seconds = seconds_since(t0);
    return sum;
}

}  // namespace lumen::mri
