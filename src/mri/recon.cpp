// MRI reconstruction through the shared solvers, the whole-file pipeline and fastMRI metrics.
#include "lumen/mri/recon.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "kernels/mri/partial_fourier.hpp"
#include "kernels/mri/sense_ops.hpp"
#include "lumen/core/checks.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/history.hpp"
#include "lumen/io/png.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "lumen/version.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::mri {

Method parse_method(const std::string& text, const std::string& option) {
    if (text == "zf" || text == "zero-filled") return Method::zero_filled;
    if (text == "cg-sense" || text == "sense") return Method::cg_sense;
    if (text == "l1-wavelet" || text == "l1") return Method::l1_wavelet;
    if (text == "tv") return Method::tv;
    throw Error(ErrorCode::usage, option + ": unknown method '" + text + "'; expected zf, cg-sense, l1-wavelet or tv");
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
        case Method::l1_wavelet: return 100;
        case Method::tv: return 40;
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

}  // namespace

SliceRecon reconstruct_slice(View<const complex64> kspace, View<const float> mask, View<const complex64> maps,
                             const ReconOptions& o) {
    require(kspace.rank() == 3, "reconstruct_slice: k-space must be [coils][H][W], got " + kspace.shape().str());
    const index_t C = kspace.dim(0), H = kspace.dim(1), W = kspace.dim(2);
    require(mask.shape() == plane(H, W), "reconstruct_slice: mask of shape " + mask.shape().str() +
                                              " does not match the k-space plane " + plane(H, W).str());
    const Device dev = o.device;
    SliceRecon r;
    Array<complex64> y = Array<complex64>::copy_of(kspace, dev);
    const Array<float> m = Array<float>::copy_of(mask, dev);
    apply_mask(View<const complex64>(y.view()), m.view(), y.view());
    require(max_abs(View<const complex64>(y.view())) > 0.0,
            "reconstruct_slice: no k-space sample is both measured and inside the mask; expected data where the mask is 1");

    if (o.method == Method::zero_filled) {
        // Partial Fourier: the left-out part of k-space estimated first (per coil), so that the
        // zero-filled image keeps its resolution on both sides of the centre.
        if (o.partial_fourier.any()) pocs_partial_fourier(y.view(), m.view(), o.partial_fourier, o.pocs_iterations);
        FftPlan::for_shape(y.shape(), 2, dev).inverse_centered(y.view());
        Array<float> mag(plane(H, W), dev);
        rss(View<const complex64>(y.view()), mag.view());
        r.magnitude = mag.to(Device::cpu);
        return r;
    }

    require(maps.shape() == kspace.shape(), "reconstruct_slice: coil maps of shape " + maps.shape().str() +
                                                " do not match the k-space " + kspace.shape().str());
    const Array<complex64> s_maps = Array<complex64>::copy_of(maps, dev);
    auto A = std::make_shared<SenseOperator>(s_maps.view(), m.view(), dev);
    Array<complex64> x(plane(H, W), dev);
    A->apply_adjoint(View<const complex64>(y.view()), x.view());
    const double s = percentile_abs(View<const complex64>(x.view()), 0.99);
    require(s > 0.0 && std::isfinite(s),
            "reconstruct_slice: the coil-combined zero-filled image is zero; the coil maps and the measured "
            "k-space do not overlap (all-zero maps?)");
    r.data_scale = s;
    scale(complex64(float(1.0 / s)), y.view());
    fill(x.view(), complex64(0.0f));
    const double lambda = o.lambda >= 0.0 ? o.lambda : default_lambda(o.method);
    require(std::isfinite(lambda), "--lambda must be a finite number >= 0");
    r.lambda = lambda;
    SolverOptions so;
    so.max_iterations = o.iterations > 0 ? o.iterations : default_iterations(o.method);
    so.tolerance = o.tolerance;
    so.callback = o.callback;
    const View<const complex64> b = y.view();
    // Partial Fourier: the unknowns become the real r of x = e^{i phi} r (phase from the symmetric
    // centre), which fills the left-out part as POCS does for zero filling. The phase comes from
    // the same method run unconstrained first (twice the time): with
    // undersampling, a zero-filled centre or a short CG-SENSE carries aliasing into it, and the
    // constraint then costs more than it gives (measured: TV at 3x, NMSE 0.0036 against 0.0007
    // unconstrained; with its own first pass 0.0003).
    LinOpPtr<complex64> model = A;
    PhaseConstrained constrained;
    if (o.partial_fourier.any()) {
        ReconOptions first = o;
        first.partial_fourier = PartialFourier{};
        first.callback = nullptr;
        const SliceRecon r0 = reconstruct_slice(kspace, mask, maps, first);
        const Array<complex64> x0 = r0.image.to(dev);
        constrained = phase_constrained(A, View<const complex64>(x0.view()), o.partial_fourier);
        model = constrained.op;
        fill(x.view(), complex64(0.0f));
    }

    switch (o.method) {
        case Method::cg_sense: r.solver = cg_normal(*model, b, x.view(), lambda, so); break;
        case Method::l1_wavelet: {
            require(o.wavelet_levels >= 1 && o.wavelet_levels <= 8, "--wavelet-levels must be 1 to 8");
            const index_t q = index_t(1) << o.wavelet_levels;
            const index_t ph = (H + q - 1) / q * q, pw = (W + q - 1) / q * q;
            LinOpPtr<complex64> op = model;
            if (ph != H || pw != W) op = compose<complex64>(model, crop_operator(plane(ph, pw), H, W, dev));
            Array<complex64> xp(plane(ph, pw), dev);
            const auto psi = wavelet2d<complex64>(plane(ph, pw), o.wavelet_levels, dev);
            Array<complex64> coef(plane(ph, pw), dev);
            const ProxFn<complex64> prox = [&](View<complex64> v, double step) {
                psi->apply(View<const complex64>(v), coef.view());
                soft_threshold(coef.view(), lambda * step);
                psi->apply_adjoint(View<const complex64>(coef.view()), v);
            };
            const RegValueFn<complex64> reg = [&](View<const complex64> v) {
                psi->apply(v, coef.view());
                return lambda * l1_norm(View<const complex64>(coef.view()));
            };
            // ||A||^2 <= max_p sum_c |S_c(p)|^2: the mask and the unitary FFT are contractions.
            const double bound = detail::reduce<double>(dev, H * W, kern::CoilPowerF{s_maps.data(), H * W, C},
                                                        kern::MaxOp());
            FistaOptions fo;
            fo.step = bound > 0.0 ? 1.0 / bound : 0.0;
            r.solver = fista(*op, b, xp.view(), prox, reg, fo, so);
            const Array<complex64> cropped = center_crop(View<const complex64>(xp.view()), H, W);
            x.assign(cropped.view());
            break;
        }
        case Method::tv: {
            AdmmTvOptions ao;
            ao.lambda = lambda;
            ao.dims = 2;
            ao.isotropic = true;
            r.solver = admm_tv(*model, b, x.view(), ao, so);
            break;
        }
        case Method::zero_filled: break;
    }
    if (o.partial_fourier.any())
        detail::for_each(dev, x.size(), kern::ApplyPhaseF{x.data(), constrained.phase.data(), x.data()});
    // The data fit over the measured samples, for the noise-normalised residual (scaled problem,
    // so times s^2).
    {
        Array<complex64> ax(kspace.shape(), dev);
        A->apply(View<const complex64>(x.view()), ax.view());
        axpy(complex64(-1.0f), b, ax.view());
        r.residual_sq = norm2_squared(View<const complex64>(ax.view())) * s * s;
        r.measured = index_t(std::llround(sum(View<const float>(m.view())))) * C;
    }
    scale(complex64(float(s)), x.view());
    Array<float> mag(plane(H, W), dev);
    sense_magnitude(View<const complex64>(x.view()), s_maps.view(), mag.view());
    r.magnitude = mag.to(Device::cpu);
    r.image = x.to(Device::cpu);
    return r;
}

Quality fastmri_quality(View<const float> reference, View<const float> recon) {
    require(reference.rank() == 3 && recon.rank() == 3,
            "fastmri_quality: expected volumes [slices][h][w], got " + reference.shape().str() + " and " + recon.shape().str());
    require(reference.dim(0) == recon.dim(0), "fastmri_quality: the reference has " + std::to_string(reference.dim(0)) +
                                                  " slices, the reconstruction " + std::to_string(recon.dim(0)));
    // fastMRI compares on the common centre crop.
    const index_t h = std::min(reference.dim(1), recon.dim(1)), w = std::min(reference.dim(2), recon.dim(2));
    const Array<float> ref = center_crop(reference, h, w), rec = center_crop(recon, h, w);
    const double peak = max_abs(View<const float>(ref.view()));
    Quality q;
    q.nmse = nmse(ref.view(), rec.view());
    q.psnr = psnr(ref.view(), rec.view(), peak);
    q.ssim = ssim_stack(ref.view(), rec.view(), peak);
    return q;
}

namespace {

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
            mul(View<const float>(own.view()), View<const float>(m.view()), m.view());
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

Array<complex64> slice_maps(const Array<complex64>& truth, index_t slice) {
    if (truth.rank() == 3) return truth.clone();
    return Array<complex64>::copy_of(truth.view().item(slice), Device::cpu);
}

// Mask for one slice: the run's mask, or the non-zero samples of this slice.
Array<float> slice_mask(const Array<float>& run_mask, const Array<complex64>& k) {
    if (!run_mask.empty()) return run_mask.clone();
    Array<float> m(Shape{k.dim(1), k.dim(2)});
    mask_from_data(View<const complex64>(k.view()), m.view());
    return m;
}

double acceleration_over(const Array<float>& m, const ScanHeader& h) {
    double n = 0;
    for (index_t y = 0; y < h.height; ++y)
        for (index_t x = h.first_column; x < h.last_column; ++x) n += m[y * h.width + x] != 0.0f;
    const double total = double(h.height) * double(h.last_column - h.first_column);
    return n > 0 ? total / n : 0.0;
}

std::string slice_name(const std::string& stem, index_t s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "_s%03ld.png", long(s));
    return stem + buf;
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
        mask_from_data(View<const complex64>(k.view()), m.view());
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
        a.noise = noise_whitening(View<const complex64>(noise.view()), ratio, h.path + ": noise pre-scan");
        std::string msg = "noise pre-scan: " + std::to_string(h.noise_scans) + " acquisitions, " +
                          std::to_string(a.noise.samples) + " samples per coil (dwell " + detail::num(h.noise_dwell_us) +
                          " us, imaging " + detail::num(h.acquisition_dwell_us) + " us); coil noise std max/min " +
                          detail::num(a.noise.std_ratio) + ", largest coil correlation " +
                          detail::num(a.noise.max_correlation) + "; ";
        if (!method) msg += "recon whitens the coils with it (Cholesky of the covariance; --no-prewhiten: not)";
        else if (prewhiten) msg += "the coils are whitened with it (Cholesky of the covariance)";
        else msg += "not applied (--no-prewhiten)";
        report_check("mri.noise_prewhitening", true, msg);
    } else {
        report_check("mri.noise_prewhitening", true,
                     "no noise pre-scan (ACQ_IS_NOISE_MEASUREMENT) in the file: the coils are not whitened, and the "
                     "noise level for the residual comes from the image background");
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
                         what + ": the left-out part is not estimated (--partial-fourier zero-fill), so the image "
                                "loses resolution along that axis; drop the option to fill it (POCS for zf, a "
                                "phase-constrained model for the iterative methods)");
        }
    }

    if (h.recon_height > 0 && h.height >= 2 * h.recon_height)
        report_check("mri.readout_oversampling", true,
                     "the readout is " + detail::num(double(h.height) / double(h.recon_height)) +
                         "x oversampled (" + std::to_string(h.height) + " samples for a recon size of " +
                         std::to_string(h.recon_height) + "): the image is cropped to the centre " +
                         std::to_string(h.recon_height) + " rows after the inverse FFT");
    else
        report_check("mri.readout_oversampling", true,
                     "readout of " + std::to_string(h.height) + " samples for a recon size of " +
                         std::to_string(h.recon_height) + " rows (no oversampling to remove beyond the centre crop)");
    return a;
}

RunSummary run_recon(const RunOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    io::require_distinct_paths(o.input, o.output);
    if (o.maps != "espirit" && o.maps != "truth")
        throw Error(ErrorCode::usage, "--maps: unknown value '" + o.maps + "'; expected espirit or truth");
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
    const bool need_maps = method != Method::zero_filled;
    Array<complex64> truth_maps;
    if (need_maps && o.maps == "truth") {
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

    const index_t S = h.slices, rh = h.recon_height, rw = h.recon_width;
    Array<float> volume(Shape{S, rh, rw});
    SolverResult merged;
    std::vector<std::int64_t> history_slice;
    double acc_sum = 0.0;
    Array<float> last_mask;
    for (index_t s = 0; s < S; ++s) {
        if (o.on_slice) o.on_slice(s, S);
        Array<complex64> k = reader.read_slice(s);
        if (sum.whitened) apply_whitening(assessment.noise, k.view());
        const Array<float> m = slice_mask(run_mask, k);
        acc_sum += acceleration_over(m, h);
        apply_mask(View<const complex64>(k.view()), m.view(), k.view());
        // sigma^2 per sample: the pre-scan's (whitened or not, its mean coil variance), else the
        // image background of this slice.
        const double variance = assessment.noise.samples > 0
                                    ? assessment.noise.variance
                                    : background_noise_variance(View<const complex64>(k.view()), m.view());
        variance_sum += variance;
        Array<complex64> maps;
        if (need_maps) {
            if (o.maps == "truth") maps = slice_maps(truth_maps, s);
            else if (h.coils == 1) {
                maps = Array<complex64>(k.shape());
                fill(maps.view(), complex64(1.0f));
            } else {
                maps = espirit(View<const complex64>(k.view()), m.view(), o.espirit, o.recon.device).maps;
            }
        }
        const SliceRecon r = reconstruct_slice(k.view(), m.view(), maps.view(), recon);
        if (r.residual_sq >= 0.0 && variance > 0.0) {
            residual_sum += r.residual_sq;
            residual_norm += double(r.measured) * variance;
        }
        const Array<float> c = center_crop(View<const float>(r.magnitude.view()), rh, rw);
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
        last_mask = m.clone();
    }
    sum.acceleration = acc_sum / double(S);
    sum.noise_variance = variance_sum / double(S);
    sum.noise_source = assessment.noise.samples > 0 ? "noise pre-scan" : (sum.noise_variance > 0.0 ? "image background" : "");
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
            msg += ": the model leaves far more than noise unexplained; check the coil maps (ESPIRiT crop, --maps), "
                   "the mask, and the conventions above (k-space centre, reversed lines), or lower --lambda";
        report_check("mri.data_fit", fits, msg);
    }
    if (!reference.empty()) {
        sum.has_quality = true;
        sum.quality = fastmri_quality(reference.view(), volume.view());
    }

    io::require_finite(View<const float>(volume.view()), o.output + ": the reconstructed /reconstruction");
    // One set for the .h5 and its PNGs: both land, or neither (and never over the input).
    io::OutputSet outputs(o.input);
    io::H5Writer out(outputs, o.output);
    out.write("/reconstruction", View<const float>(volume.view()));
    write_history(out, merged, "/history");
    out.write("/history/slice", View<const std::int64_t>(Array<std::int64_t>::from(history_slice, Shape{index_t(history_slice.size())}).view()));
    Array<std::uint8_t> mask_u8(last_mask.shape());
    for (index_t i = 0; i < mask_u8.size(); ++i) mask_u8[i] = last_mask[i] != 0.0f ? 1 : 0;
    out.write("/mask", View<const std::uint8_t>(mask_u8.view()));
    out.set_attr("/", "method", std::string(method_name(method)));
    out.set_attr("/", "lambda", o.recon.lambda >= 0.0 ? o.recon.lambda : default_lambda(method));
    out.set_attr("/", "iterations", std::int64_t(o.recon.iterations > 0 ? o.recon.iterations : default_iterations(method)));
    out.set_attr("/", "maps", need_maps ? o.maps : std::string("none"));
    out.set_attr("/", "mask_source", sum.mask_source);
    if (o.undersample) {
        out.set_attr("/", "mask_kind", std::string(mask_kind_name(o.mask.kind)));
        out.set_attr("/", "mask_seed", std::int64_t(o.mask.seed));
        out.set_attr("/", "requested_acceleration", o.mask.acceleration);
    }
    out.set_attr("/", "acceleration", sum.acceleration);
    out.set_attr("/", "espirit_kernel", std::int64_t(o.espirit.kernel));
    out.set_attr("/", "espirit_calibration", std::int64_t(o.espirit.calibration));
    out.set_attr("/", "espirit_threshold", o.espirit.threshold);
    out.set_attr("/", "espirit_crop", o.espirit.crop);
    out.set_attr("/", "device", std::string(device_name(o.recon.device)));
    out.set_attr("/", "prewhitened", std::int64_t(sum.whitened ? 1 : 0));
    out.set_attr("/", "partial_fourier", std::string(!sum.partial_fourier.any() ? "none"
                                                      : !o.pocs                          ? "not filled"
                                                      : method == Method::zero_filled   ? "pocs"
                                                                                         : "phase-constrained"));
    out.set_attr("/", "noise_variance", sum.noise_variance);
    out.set_attr("/", "noise_source", sum.noise_source);
    if (sum.residual >= 0.0) out.set_attr("/", "noise_normalised_residual", sum.residual);
    out.set_attr("/", "input", o.input);
    out.set_attr("/", "lumen_version", std::string(LUMEN_VERSION));
    if (sum.has_quality) {
        out.set_attr("/", "nmse", sum.quality.nmse);
        out.set_attr("/", "psnr", sum.quality.psnr);
        out.set_attr("/", "ssim", sum.quality.ssim);
    }
    out.commit();

    if (!o.png_prefix.empty()) {
        const double top = max_abs(View<const float>((reference.empty() ? volume : reference).view()));
        for (index_t s = 0; s < S; ++s) {
            const std::string p = slice_name(o.png_prefix, s);
            io::write_png(outputs, p, View<const float>(volume.data() + s * rh * rw, Shape{rh, rw}), 0.0f, float(top));
            sum.previews.push_back(p);
            if (!reference.empty()) {
                const std::string q = slice_name(o.png_prefix + "_reference", s);
                io::write_png(outputs, q, View<const float>(reference.data() + s * reference.dim(1) * reference.dim(2),
                                                   Shape{reference.dim(1), reference.dim(2)}),
                              0.0f, float(top));
                sum.previews.push_back(q);
            }
        }
    }
    outputs.commit();
    sum.seconds = seconds_since(t0);
    return sum;
}

EspiritRunSummary run_espirit(const EspiritRunOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
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
        if (o.on_slice) o.on_slice(s, h.slices);
        Array<complex64> k = reader.read_slice(s);
        const Array<float> m = slice_mask(run_mask, k);
        apply_mask(View<const complex64>(k.view()), m.view(), k.view());
        const EspiritResult r = espirit(View<const complex64>(k.view()), m.view(), o.espirit, o.device);
        copy(View<const complex64>(r.maps.view()), maps.view().item(s));
        copy(View<const float>(r.eigenvalues.view()), eig.view().item(s));
        sum.kernels_kept.push_back(r.kernels_kept);
        sum.box = r.box;
    }
    io::require_finite(View<const complex64>(maps.view()), o.output + ": the estimated /sensitivities");
    io::require_finite(View<const float>(eig.view()), o.output + ": the /eigenvalues");
    io::OutputSet outputs(o.input);
    io::H5Writer out(outputs, o.output);
    out.write("/sensitivities", View<const complex64>(maps.view()));
    out.write("/eigenvalues", View<const float>(eig.view()));
    out.set_attr("/", "kernel", std::int64_t(o.espirit.kernel));
    out.set_attr("/", "calibration", std::int64_t(o.espirit.calibration));
    out.set_attr("/", "threshold", o.espirit.threshold);
    out.set_attr("/", "crop", o.espirit.crop);
    out.set_attr("/", "calibration_rows", std::int64_t(sum.box.rows));
    out.set_attr("/", "calibration_cols", std::int64_t(sum.box.cols));
    out.set_attr("/", "input", o.input);
    out.set_attr("/", "lumen_version", std::string(LUMEN_VERSION));
    out.commit();
    outputs.commit();
    sum.seconds = seconds_since(t0);
    return sum;
}

}  // namespace lumen::mri
