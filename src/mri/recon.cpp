// MRI reconstruction in memory through the shared solvers, and the fastMRI metrics.
#include "lumen/mri/recon.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/mri/partial_fourier.hpp"
#include "kernels/mri/sense_ops.hpp"
#include "lumen/core/comm.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/noise.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "src/executor.hpp"

namespace lumen::mri {

Method parse_method(const std::string& text) {
    if (text == "zf" || text == "zero-filled") return Method::zero_filled;
    if (text == "cg-sense" || text == "sense") return Method::cg_sense;
    if (text == "l1-wavelet" || text == "l1") return Method::l1_wavelet;
    if (text == "tv") return Method::tv;
    invalid_option("ReconOptions.method", "unknown method '" + text + "'; expected zf, cg-sense, l1-wavelet or tv");
}

const char* method_name(Method m) noexcept {
    switch (m) {
        case Method::zero_filled: return "zf";
        case Method::cg_sense: return "cg-sense";
        case Method::l1_wavelet: return "l1-wavelet";
        case Method::tv: return "tv";
    }
    return "?";
}

int default_iterations(Method m) noexcept {
    switch (m) {
        case Method::zero_filled: return 0;
        case Method::cg_sense: return 30;
        case Method::l1_wavelet: return 200;
        case Method::tv: return 100;
    }
    return 0;
}

double default_lambda(Method m) noexcept {
    switch (m) {
        case Method::zero_filled: return 0.0;
        case Method::cg_sense: return 1e-3;
        case Method::l1_wavelet: return 2e-3;
        case Method::tv: return 2e-3;
    }
    return 0.0;
}

Stop parse_stop(const std::string& text) {
    if (text == "discrepancy") return Stop::discrepancy;
    if (text == "iterations") return Stop::iterations;
    invalid_option("ReconOptions.stop", "'" + text + "' is not a stopping rule; expected discrepancy or iterations");
}

const char* stop_name(Stop s) noexcept { return s == Stop::discrepancy ? "discrepancy" : "iterations"; }

bool misfit_plateau_reached(const std::vector<double>& misfits, double change) {
    const std::size_t k = misfits.size(), w = std::size_t(k_misfit_plateau_window);
    return k > w && misfits[k - 1 - w] - misfits[k - 1] < k_misfit_plateau * misfits[k - 1] &&
           change < k_plateau_change;
}

bool DriftTest::update(int k, double change, View<const complex64> x) {
    if (anchor_iteration_ > 0 && k > anchor_iteration_) steps_ += change * change;
    if (!reads_estimate(k)) return false;
    bool stalled = false;
    if (anchor_iteration_ > 0 && anchor_.shape() == x.shape() && anchor_.device() == x.device()) {
        if (diff_.shape() != x.shape() || diff_.device() != x.device()) diff_ = Array<complex64>(x.shape(), x.device());
        lin_comb(complex64(1.0f), x, complex64(-1.0f), View<const complex64>(anchor_.view()), diff_.view());
        const double xx = norm2_squared(x);
        ratio_ = xx > 0.0 && steps_ > 0.0 ? norm2_squared(View<const complex64>(diff_.view())) / xx / steps_ : std::nan("");
        stalled = ratio_ < k_drift_ratio;
    }
    if (anchor_.shape() != x.shape() || anchor_.device() != x.device()) anchor_ = Array<complex64>(x.shape(), x.device());
    anchor_.assign(x);
    anchor_iteration_ = k;
    steps_ = 0.0;
    return stalled;
}

double default_discrepancy_tau(Method m) noexcept {
    // Measured by the sweep in tests/mri/test_mri_stop.cpp (docs/mri.md, "Stopping and defaults").
    switch (m) {
        case Method::zero_filled: return 0.0;
        case Method::cg_sense: return 0.9;
        case Method::l1_wavelet: return 0.7;
        case Method::tv: return 0.7;
    }
    return 0.0;
}

void ReconOptions::validate() const {
    if (coil_split.enabled()) {
        require_option(method != Method::zero_filled && !partial_fourier.any(), "ReconOptions.coil_split",
                       "a coil split applies to cg-sense, l1-wavelet and tv without a partial-Fourier constraint");
        require_option(coil_split.part >= 0 && coil_split.part < coil_split.parts && bool(coil_split.sum_image) &&
                           coil_split.data.enabled(),
                       "ReconOptions.coil_split", "needs 0 <= part < parts and its image and data sums");
    }
    require_option(iterations >= 0, "ReconOptions.iterations",
                   "must be at least 1 (or 0 for the method's default), got " + std::to_string(iterations));
    if (lambda)
        require_option(std::isfinite(*lambda) && *lambda >= 0.0, "ReconOptions.lambda",
                       "must be a finite number >= 0, got " + std::to_string(*lambda));
    require_option(std::isfinite(tolerance) && tolerance >= 0.0, "ReconOptions.tolerance",
                   "must be a finite number >= 0, got " + std::to_string(tolerance));
    require_option(wavelet_levels >= 1 && wavelet_levels <= 8, "ReconOptions.wavelet_levels",
                   "must be 1 to 8, got " + std::to_string(wavelet_levels));
    require_option(pocs_iterations >= 1, "ReconOptions.pocs_iterations",
                   "must be at least 1, got " + std::to_string(pocs_iterations));
    require_option(std::isfinite(discrepancy_tau) && discrepancy_tau >= 0.0, "ReconOptions.discrepancy_tau",
                   "must be a positive number (0: the method's default), got " + std::to_string(discrepancy_tau));
    require_option(std::isfinite(noise_variance) && noise_variance >= 0.0, "ReconOptions.noise_variance",
                   "must be a positive number (0: estimated from the data), got " + std::to_string(noise_variance));
}

namespace {

Shape plane(index_t h, index_t w) { return Shape{h, w}; }

// The 99th percentile of |x| (host copy; one slice at a time, so the sort is cheap).
double percentile_abs(View<const complex64> x, double q) {
    const Array<complex64> h = Array<complex64>::copy_of(x, Device::cpu);
    std::vector<float> m(std::size_t(h.size()));
    for (index_t i = 0; i < h.size(); ++i) m[std::size_t(i)] = abs(h[i]);
    if (m.empty()) return 0.0;
    const auto k = std::size_t(std::min<double>(double(m.size() - 1), std::floor(q * double(m.size() - 1))));
    std::nth_element(m.begin(), m.begin() + std::ptrdiff_t(k), m.end());
    return double(m[k]);
}

// A coil split's operator (ReconOptions::coil_split): this process's coils' SENSE operator whose
// adjoint (and normal) coil sums are completed over the processes.
class CoilBlockOperator final : public LinearOperator<complex64> {
public:
    CoilBlockOperator(std::shared_ptr<const SenseOperator> a, std::function<void(View<complex64>)> sum)
        : a_(std::move(a)), sum_(std::move(sum)) {}
    Shape domain_shape() const override { return a_->domain_shape(); }
    Shape range_shape() const override { return a_->range_shape(); }
    Device device() const override { return a_->device(); }
    void apply(View<const complex64> x, View<complex64> y) const override { a_->apply(x, y); }
    void apply_adjoint(View<const complex64> y, View<complex64> x) const override {
        a_->apply_adjoint(y, x);
        sum_(x);
    }
    void apply_normal(View<const complex64> x, View<complex64> out) const override {
        a_->apply_normal(x, out);
        sum_(out);
    }

private:
    std::shared_ptr<const SenseOperator> a_;
    std::function<void(View<complex64>)> sum_;
};

}  // namespace

// What one slice's set-up makes and the next slice reuses.
struct SliceReconstructor::State {
    ReconOptions options;
    index_t full_rows = 0;              // set_readout_crop (0: not cropped)
    Device dev = Device::cpu;
    Array<complex64> y;                 // the masked (then scaled) k-space [C][H][W]
    Array<float> mask;                  // zero-filled: the mask [H][W] (the operator keeps its own)
    std::shared_ptr<SenseOperator> A;   // iterative methods: maps and mask swapped in per slice
    LinOpPtr<complex64> op;             // A, or with a coil split A completed over the processes
    Array<complex64> all_maps;          // coil split: every coil's maps on the device
    std::unique_ptr<FftPlan> zf_plan;   // zero-filled: the inverse FFT over the coils
    // L1-wavelet: the transform on the padded grid, its coefficients, the crop (when padded).
    Shape padded, image;
    int levels = 0;
    LinOpPtr<complex64> psi, crop;
    Array<complex64> coef;
    Array<float> magnitude_buffer;      // the magnitude when the caller's view is on another device
    Array<complex64> shifted;           // L1-wavelet cycle spinning: the shifted image
    Array<float> variance;              // the discrepancy rule: sigma^2 / s^2 per measured sample [C][H][W]
    Array<complex64> misfit_work;       // CG-SENSE's misfit: A x - b
    View<const complex64> estimate;     // the solver's current unknowns (the padded grid for L1)

    // Where the magnitude is computed: the caller's view when it is on the device, else the buffer.
    View<float> magnitude_on_device(View<float> out) {
        if (out.device() == dev) return out;
        if (magnitude_buffer.shape() != out.shape() || magnitude_buffer.device() != dev)
            magnitude_buffer = Array<float>(out.shape(), dev);
        return magnitude_buffer.view();
    }

    // The data on the device, masked once: y = mask . kspace.
    void load_data(View<const complex64> kspace, View<const float> m) {
        if (y.shape() != kspace.shape() || y.device() != dev) y = Array<complex64>(kspace.shape(), dev);
        y.assign(kspace);
        apply_mask(y.view(), m, y.view());
        require(max_abs(y.view()) > 0.0,
                "reconstruct_slice: no k-space sample is both measured and inside the mask; expected data where the "
                "mask is 1");
    }

    void set_operator(View<const complex64> maps, View<const float> m) {
        if (A && A->range_shape() == maps.shape()) {
            A->set_maps(maps);
            A->set_mask(m);
        } else {
            A = std::make_shared<SenseOperator>(maps, m, dev);
            op = A;
            if (options.coil_split.enabled()) op = std::make_shared<CoilBlockOperator>(A, options.coil_split.sum_image);
        }
    }

    // A sum over the data: over this process's coils, completed over the processes.
    double data_sum(double partial) const {
        if (options.coil_split.enabled()) options.coil_split.data.sum(&partial, 1);
        return partial;
    }

    void prepare_wavelet(index_t H, index_t W) {
        const index_t q = index_t(1) << options.wavelet_levels;
        const Shape p = plane((H + q - 1) / q * q, (W + q - 1) / q * q);
        if (psi && p == padded && image == plane(H, W) && levels == options.wavelet_levels) return;
        padded = p;
        image = plane(H, W);
        levels = options.wavelet_levels;
        psi = wavelet2d<complex64>(p, options.wavelet_levels, dev);
        coef = Array<complex64>(p, dev);
        crop = p != plane(H, W) ? crop_operator(p, H, W, dev) : nullptr;
    }

    // Solves the scaled problem model x = b for x (zero on entry), with `o`'s method and weight.
    // `stop_variance` > 0: the discrepancy rule with o's tau, sigma^2 / s^2 per measured sample.
    SolverResult solve(const LinOpPtr<complex64>& model, View<const complex64> b, View<complex64> x,
                       const ReconOptions& o, double lambda, const IterationCallback& callback,
                       double stop_variance, double rows) {
        SolverOptions so;
        so.max_iterations = o.resolved_iterations();
        so.tolerance = o.tolerance;
        so.callback = callback;
        const index_t H = x.dim(0), W = x.dim(1), C = coils();
        so.data_split = o.coil_split.data;
        const double tau = o.resolved_tau();
        const double measured = sum(A->mask()) * double(C);
        if (tau > 0.0 && stop_variance > 0.0 && measured > 0.0) {
            // A cropped readout (set_readout_crop): M_full = (M + rows - 1) / rows <= tau.
            so.discrepancy.tau = std::max(rows * tau - (rows - 1.0), 1e-3 * tau);
            if (o.method == Method::cg_sense) {
                // CG on the normal equations holds no data residual: one more A x per iteration.
                if (misfit_work.shape() != b.shape() || misfit_work.device() != dev)
                    misfit_work = Array<complex64>(b.shape(), dev);
                so.discrepancy.misfit = [this, &model, b, x, stop_variance, measured]() {
                    model->apply(x, misfit_work.view());
                    axpy(complex64(-1.0f), b, misfit_work.view());
                    return data_sum(norm2_squared(misfit_work.view())) / (stop_variance * measured);
                };
            } else {
                if (variance.shape() != b.shape() || variance.device() != dev) variance = Array<float>(b.shape(), dev);
                detail::for_each(dev, variance.size(),
                                 kern::MeasuredVarianceF{A->mask().data(), variance.data(), H * W, float(stop_variance)});
                so.discrepancy.variance = variance.view();
            }
        }
        estimate = x;
        switch (o.method) {
            case Method::cg_sense: return cg_normal(*model, b, x, lambda, so);
            case Method::l1_wavelet: {
                prepare_wavelet(H, W);
                LinOpPtr<complex64> op = model;
                if (crop) op = compose<complex64>(model, crop);
                Array<complex64> xp(padded, dev);
                estimate = xp.view();
                // Cycle spinning: the prox of the transform of the image shifted by (dy, dx), a
                // fresh random shift each iteration (Psi S is orthogonal too, so the prox is exact).
                const index_t q = index_t(1) << levels, ph = padded[0], pw = padded[1];
                std::mt19937_64 rng(o.cycle_spinning_seed);
                if (o.cycle_spinning && (shifted.shape() != padded || shifted.device() != dev))
                    shifted = Array<complex64>(padded, dev);
                const ProxFn<complex64> prox = [&](View<complex64> v, double step) {
                    if (!o.cycle_spinning) {
                        psi->apply(v, coef.view());
                        soft_threshold(coef.view(), lambda * step);
                        psi->apply_adjoint(coef.view(), v);
                        return;
                    }
                    const index_t dy = index_t(rng() % std::uint64_t(q)), dx = index_t(rng() % std::uint64_t(q));
                    detail::for_each(dev, v.size(), kern::CircularShiftF{v.data(), shifted.data(), ph, pw, dy, dx});
                    psi->apply(shifted.view(), coef.view());
                    soft_threshold(coef.view(), lambda * step);
                    psi->apply_adjoint(coef.view(), shifted.view());
                    detail::for_each(dev, v.size(),
                                     kern::CircularShiftF{shifted.data(), v.data(), ph, pw, (ph - dy) % ph, (pw - dx) % pw});
                };
                const RegValueFn<complex64> reg = [&](View<const complex64> v) {
                    psi->apply(v, coef.view());
                    return lambda * l1_norm(coef.view());
                };
                // ||A||^2 <= max_p sum_c |S_c(p)|^2: the mask and the unitary FFT are contractions.
                const View<const complex64> maps = all_coils_maps();
                const double bound = detail::reduce<double>(dev, H * W, kern::CoilPowerF{maps.data(), H * W, C},
                                                            kern::MaxOp());
                FistaOptions fo;
                fo.step = bound > 0.0 ? 1.0 / bound : 0.0;
                // With cycle spinning the prox changes every iteration, so the objective is not
                // monotone along a good run and the function-value restart fires on the noise of
                // the shifts, leaving FISTA with almost no momentum (measured at 8x: 22.7 dB with
                // the restart, 24.2 dB without; docs/mri.md "Stopping and defaults").
                fo.restart = !o.cycle_spinning;
                const SolverResult r = fista(*op, b, xp.view(), prox, reg, fo, so);
                const Array<complex64> cropped = center_crop(xp.view(), H, W);
                copy(cropped.view(), x);
                return r;
            }
            case Method::tv: {
                AdmmTvOptions ao;
                ao.lambda = lambda;
                ao.dims = 2;
                ao.isotropic = true;
                return admm_tv(*model, b, x, ao, so);
            }
            case Method::zero_filled: break;
        }
        return SolverResult{};
    }

    SliceInfo zero_filled(View<const complex64> kspace, View<const float> m_in, View<float> magnitude) {
        const index_t H = kspace.dim(1), W = kspace.dim(2);
        if (mask.shape() != m_in.shape() || mask.device() != dev) mask = Array<float>(m_in.shape(), dev);
        mask.assign(m_in);
        load_data(kspace, mask.view());
        // Partial Fourier: the left-out part of k-space estimated first (per coil), so that the
        // zero-filled image keeps its resolution on both sides of the centre.
        if (options.partial_fourier.any())
            pocs_partial_fourier(y.view(), mask.view(), options.partial_fourier, options.pocs_iterations);
        if (!zf_plan || zf_plan->batch() != y.dim(0) || zf_plan->dims() != std::vector<index_t>{H, W})
            zf_plan = std::make_unique<FftPlan>(FftPlan::for_shape(y.shape(), 2, dev));
        zf_plan->inverse_centered(y.view());
        const View<float> mag = magnitude_on_device(magnitude);
        rss(y.view(), mag);
        if (mag.data() != magnitude.data()) copy(mag, magnitude);
        return SliceInfo{};
    }

    // Every coil's count, and every coil's maps on the device (this process's block's when the
    // coils are not split: the operator's).
    index_t coils() const { return options.coil_split.enabled() ? all_maps.dim(0) : A->coils(); }
    View<const complex64> all_coils_maps() const { return options.coil_split.enabled() ? all_maps.view() : A->maps(); }

    SliceInfo iterative(View<const complex64> kspace_all, View<const float> m_in, View<const complex64> maps_all,
                        index_t part, index_t parts, View<float> magnitude, View<complex64> image) {
        const ReconOptions& o = options;
        const ReconOptions::CoilSplit& split = o.coil_split;
        const index_t H = kspace_all.dim(1), W = kspace_all.dim(2);
        require(maps_all.shape() == kspace_all.shape(), "reconstruct_slice: coil maps of shape " + maps_all.shape().str() +
                                                            " do not match the k-space " + kspace_all.shape().str());
        // A coil split keeps this process's block of the slice's coils.
        const RankBlock block = block_of(kspace_all.dim(0), split.part, split.parts);
        if (split.enabled()) {
            require(block.size() > 0, "reconstruct_slice: " + std::to_string(kspace_all.dim(0)) +
                                          " coil(s) cannot be split over " + std::to_string(split.parts) +
                                          " processes (compress to at least as many coils as processes)");
            if (all_maps.shape() != maps_all.shape() || all_maps.device() != dev) all_maps = Array<complex64>(maps_all.shape(), dev);
            all_maps.assign(maps_all);
        }
        const View<const complex64> kspace = split.enabled() ? kspace_all.items(block.begin, block.size()) : kspace_all;
        const View<const complex64> maps = split.enabled() ? maps_all.items(block.begin, block.size()) : maps_all;
        const index_t C = kspace_all.dim(0);  // every coil of the slice, split or not
        // The maps and the mask go to the device once, into the operator, which masks the data too.
        set_operator(maps, m_in);
        load_data(kspace, A->mask());
        SliceInfo r;
        Array<complex64> x(plane(H, W), dev);
        op->apply_adjoint(y.view(), x.view());
        // The top 1 % of the full grid's pixels (the image's and, beyond them, air).
        const double rows = full_rows > H ? double(full_rows) / double(H) : 1.0;
        const double q = rows > 1.0 ? std::max(0.0, 1.0 - 0.01 * rows) : 0.99;
        const double s = percentile_abs(x.view(), q);
        require(s > 0.0 && std::isfinite(s),
                "reconstruct_slice: the coil-combined zero-filled image is zero; the coil maps and the measured "
                "k-space do not overlap (all-zero maps?)");
        r.data_scale = s;
        // The noise level of the discrepancy stop, in the data's units (the masked data y here).
        const double tau = o.resolved_tau();
        if (tau > 0.0) {
            if (o.noise_variance > 0.0) r.noise_variance = o.noise_variance;
            else if (!split.enabled()) r.noise_variance = readout_noise_variance(y.view(), A->mask());
            else {
                // Every coil's masked data, as the serial run estimates from (each process alike).
                Array<complex64> every(kspace_all.shape(), dev);
                every.assign(kspace_all);
                apply_mask(every.view(), A->mask(), every.view());
                r.noise_variance = readout_noise_variance(every.view(), A->mask());
            }
        }
        const double stop_variance = r.noise_variance / (s * s);
        scale(complex64(float(1.0 / s)), y.view());
        fill(x.view(), complex64(0.0f));
        const double lambda = o.resolved_lambda();
        r.lambda = lambda;
        const View<const complex64> b = y.view();
        // The callback: progress, the caller's inspection of the estimate, and the plateau test of
        // the discrepancy stop (the misfit fell by less than k_misfit_plateau over the last
        // k_misfit_plateau_window iterations: a regulariser holds it above tau).
        std::vector<double> misfits;
        bool plateau = false, stalled = false;
        // L1-wavelet with cycle spinning: the drift test (DriftTest), on the centre H x W that the
        // caller inspects, whether the noise level is known or not.
        const bool watch_drift = tau > 0.0 && o.method == Method::l1_wavelet && o.cycle_spinning;
        DriftTest drift;
        Array<complex64> inspected;
        PhaseConstrained constrained;
        const bool watch_plateau = tau > 0.0 && stop_variance > 0.0;
        IterationCallback callback;
        if (o.progress || o.inspect || watch_plateau || watch_drift)
            callback = [&](const IterationInfo& it) {
                bool go_on = true;
                if (o.progress) {
                    ProgressInfo p;
                    p.iteration = it;
                    p.part = part;
                    p.parts = parts;
                    go_on = o.progress(p);
                }
                if (o.inspect) {
                    inspected = estimate.shape() == plane(H, W) ? Array<complex64>::copy_of(estimate, dev)
                                                                : center_crop(estimate, H, W);
                    if (o.partial_fourier.any())
                        detail::for_each(dev, inspected.size(),
                                         kern::ApplyPhaseF{inspected.data(), constrained.phase.data(), inspected.data()});
                    scale(complex64(float(s)), inspected.view());
                    go_on = o.inspect(it, inspected.view()) && go_on;
                }
                if (watch_plateau && std::isfinite(it.misfit)) {
                    misfits.push_back((it.misfit + rows - 1.0) / rows);  // the full grid's (set_readout_crop)
                    if (go_on && misfit_plateau_reached(misfits, it.residual)) {
                        plateau = true;
                        go_on = false;
                    }
                }
                if (watch_drift && go_on) {
                    View<const complex64> centre = estimate;
                    Array<complex64> cropped;
                    if (DriftTest::reads_estimate(it.iteration) && estimate.shape() != plane(H, W)) {
                        cropped = center_crop(estimate, H, W);
                        centre = cropped.view();
                    }
                    if (drift.update(it.iteration, it.residual, centre)) {
                        stalled = true;
                        go_on = false;
                    }
                }
                return go_on;
            };
        // Partial Fourier: the unknowns become the real r of x = e^{i phi} r (phase from the
        // symmetric centre), which fills the left-out part as POCS does for zero filling. The phase
        // comes from the same method run unconstrained first (twice the time): with
        // undersampling, a zero-filled centre or a short CG-SENSE carries aliasing into it, and the
        // constraint then costs more than it gives (measured: TV at 3x, NMSE 0.0036 against 0.0007
        // unconstrained; with its own first pass 0.0003).
        LinOpPtr<complex64> model = op;
        if (o.partial_fourier.any()) {
            (void)solve(A, b, x.view(), o, lambda, nullptr, stop_variance, rows);
            // The first estimate in the data's units, as the phase is taken from it.
            scale(complex64(float(s)), x.view());
            constrained = phase_constrained(A, x.view(), o.partial_fourier);
            model = constrained.op;
            fill(x.view(), complex64(0.0f));
        }
        r.solver = solve(model, b, x.view(), o, lambda, callback, stop_variance, rows);
        if (plateau && r.solver.stop_reason == "callback") r.solver.stop_reason = "misfit_plateau";
        if (stalled && r.solver.stop_reason == "callback") r.solver.stop_reason = "stalled";
        estimate = {};
        if (o.partial_fourier.any())
            detail::for_each(dev, x.size(), kern::ApplyPhaseF{x.data(), constrained.phase.data(), x.data()});
        // The data fit over the measured samples, for the noise-normalised residual (scaled
        // problem, so times s^2).
        {
            Array<complex64> ax(kspace.shape(), dev);
            A->apply(x.view(), ax.view());
            axpy(complex64(-1.0f), b, ax.view());
            r.residual_sq = data_sum(norm2_squared(ax.view())) * s * s;
            r.measured = index_t(std::llround(sum(A->mask()))) * C;
        }
        scale(complex64(float(s)), x.view());
        const View<float> mag = magnitude_on_device(magnitude);
        sense_magnitude(x.view(), all_coils_maps(), mag);
        if (mag.data() != magnitude.data()) copy(mag, magnitude);
        if (!image.empty()) copy(x.view(), image);
        return r;
    }
};

SliceReconstructor::SliceReconstructor(ReconOptions options) : state_(std::make_unique<State>()) {
    options.validate();
    state_->dev = options.device;
    state_->options = std::move(options);
}
SliceReconstructor::SliceReconstructor(SliceReconstructor&&) noexcept = default;
SliceReconstructor& SliceReconstructor::operator=(SliceReconstructor&&) noexcept = default;
SliceReconstructor::~SliceReconstructor() = default;

const ReconOptions& SliceReconstructor::options() const { return state_->options; }

void SliceReconstructor::set_readout_crop(index_t full_rows) { state_->full_rows = std::max<index_t>(0, full_rows); }

void SliceReconstructor::set_noise_variance(double variance) {
    require_option(std::isfinite(variance) && variance >= 0.0, "ReconOptions.noise_variance",
                   "must be a positive number (0: estimated from the data), got " + std::to_string(variance));
    state_->options.noise_variance = variance;
}

SliceInfo SliceReconstructor::reconstruct(View<const complex64> kspace, View<const float> mask,
                                          View<const complex64> maps, View<float> magnitude, View<complex64> image,
                                          index_t part, index_t parts) {
    const std::string where = "reconstruct_slice";
    require(kspace.rank() == 3, where + ": k-space must be [coils][H][W], got " + kspace.shape().str());
    const index_t H = kspace.dim(1), W = kspace.dim(2);
    require_view(kspace, kspace.shape(), where, "kspace");
    require_view(mask, plane(H, W), where, "mask");
    require_view(magnitude, plane(H, W), where, "magnitude");
    const ReconOptions& o = state_->options;
    if (o.method == Method::zero_filled && !image.empty())
        throw Error(ErrorCode::bad_input, where + ": image: zero-filled has no SENSE image; pass an empty view", "image");
    if (!image.empty()) require_view(image, plane(H, W), where, "image");
    if (o.progress) {
        ProgressInfo start;
        start.part = part;
        start.parts = parts;
        (void)o.progress(start);
    }
    if (o.method == Method::zero_filled) return state_->zero_filled(kspace, mask, magnitude);
    require_view(maps, kspace.shape(), where, "maps");
    return state_->iterative(kspace, mask, maps, part, parts, magnitude, image);
}

SliceRecon SliceReconstructor::reconstruct(View<const complex64> kspace, View<const float> mask,
                                           View<const complex64> maps, index_t part, index_t parts) {
    require(kspace.rank() == 3, "reconstruct_slice: k-space must be [coils][H][W], got " + kspace.shape().str());
    const Shape image_shape = plane(kspace.dim(1), kspace.dim(2));
    SliceRecon r;
    r.magnitude = Array<float>(image_shape);
    if (state_->options.method != Method::zero_filled) r.image = Array<complex64>(image_shape);
    static_cast<SliceInfo&>(r) = reconstruct(kspace, mask, maps, r.magnitude, r.image, part, parts);
    return r;
}

SliceRecon reconstruct_slice(View<const complex64> kspace, View<const float> mask, View<const complex64> maps,
                             const ReconOptions& options) {
    return SliceReconstructor(options).reconstruct(kspace, mask, maps);
}

Quality fastmri_quality(View<const float> reference, View<const float> recon) {
    require(reference.rank() == 3 && recon.rank() == 3,
            "fastmri_quality: expected volumes [slices][h][w], got " + reference.shape().str() + " and " +
                recon.shape().str());
    require(reference.dim(0) == recon.dim(0), "fastmri_quality: the reference has " + std::to_string(reference.dim(0)) +
                                                  " slices, the reconstruction " + std::to_string(recon.dim(0)));
    // fastMRI compares on the common centre crop.
    const index_t h = std::min(reference.dim(1), recon.dim(1)), w = std::min(reference.dim(2), recon.dim(2));
    const Array<float> ref = center_crop(reference, h, w), rec = center_crop(recon, h, w);
    const double peak = max_abs(ref.view());
    Quality q;
    q.nmse = nmse(ref.view(), rec.view());
    q.psnr_db = psnr(ref.view(), rec.view(), peak);
    q.ssim = ssim_stack(ref.view(), rec.view(), peak);
    return q;
}

}  // namespace lumen::mri
