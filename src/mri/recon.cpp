// MRI reconstruction through the shared solvers, the whole-file pipeline and fastMRI metrics.
#include "lumen/mri/recon.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "kernels/mri/sense_ops.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/png.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "lumen/version.hpp"
#include "src/executor.hpp"

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

double l1_norm(View<const complex64> x) {
    return detail::reduce<double>(x.device(), x.size(), kern::AbsF{x.data()});
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

    switch (o.method) {
        case Method::cg_sense: r.solver = cg_normal(*A, b, x.view(), lambda, so); break;
        case Method::l1_wavelet: {
            require(o.wavelet_levels >= 1 && o.wavelet_levels <= 8, "--wavelet-levels must be 1 to 8");
            const index_t q = index_t(1) << o.wavelet_levels;
            const index_t ph = (H + q - 1) / q * q, pw = (W + q - 1) / q * q;
            LinOpPtr<complex64> op = A;
            if (ph != H || pw != W) op = compose<complex64>(A, crop_operator(plane(ph, pw), H, W, dev));
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
            r.solver = admm_tv(*A, b, x.view(), ao, so);
            break;
        }
        case Method::zero_filled: break;
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

}  // namespace

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
    const bool need_maps = method != Method::zero_filled;
    Array<complex64> truth_maps;
    if (need_maps && o.maps == "truth") truth_maps = reader.truth_sensitivities();
    const Array<float> reference = reader.reference();

    const index_t S = h.slices, rh = h.recon_height, rw = h.recon_width;
    Array<float> volume(Shape{S, rh, rw});
    SolverResult merged;
    std::vector<std::int64_t> history_slice;
    double acc_sum = 0.0;
    Array<float> last_mask;
    for (index_t s = 0; s < S; ++s) {
        if (o.on_slice) o.on_slice(s, S);
        Array<complex64> k = reader.read_slice(s);
        const Array<float> m = slice_mask(run_mask, k);
        acc_sum += acceleration_over(m, h);
        apply_mask(View<const complex64>(k.view()), m.view(), k.view());
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
        const SliceRecon r = reconstruct_slice(k.view(), m.view(), maps.view(), o.recon);
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
