// CT reconstruction methods (include/lumen/ct/recon.hpp): FDK, and SIRT, CGLS, ADMM-TV and
// nonlinear Beer-Lambert least squares through the shared solvers and the projector pair.
#include "lumen/ct/recon.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "kernels/ct/elementwise.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/png.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "lumen/version.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::num;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `cgls` in cycles of `restart` iterations, projecting onto x >= 0 between cycles; the
// history and the callback see one continuous iteration count.
SolverResult projected_cgls(const Projector& A, View<const float> b, View<float> x, int restart,
                            const SolverOptions& options) {
    if (restart <= 0) return cgls<float>(A, b, x, 0.0, options);
    SolverResult total;
    total.stop_reason = "max_iterations";
    int done = 0;
    const auto t0 = std::chrono::steady_clock::now();
    bool stop = false;
    while (done < options.max_iterations && !stop) {
        SolverOptions cycle;
        cycle.max_iterations = std::min(restart, options.max_iterations - done);
        cycle.tolerance = options.tolerance;
        const int offset = done;
        cycle.callback = [&](const IterationInfo& info) {
            IterationInfo shifted = info;
            shifted.iteration = info.iteration + offset;
            shifted.elapsed_s = seconds_since(t0);
            total.history.push_back(shifted);
            if (options.callback && !options.callback(shifted)) {
                stop = true;
                return false;
            }
            return true;
        };
        const SolverResult r = cgls<float>(A, b, x, 0.0, cycle);
        clamp(x, 0.0f, std::numeric_limits<float>::max());
        done += std::max(r.iterations, 1);
        if (stop) total.stop_reason = "callback";
        if (r.converged) {
            total.converged = true;
            total.stop_reason = "tolerance";
            break;
        }
    }
    total.iterations = done;
    total.elapsed_s = seconds_since(t0);
    return total;
}

}  // namespace

Method parse_method(const std::string& text, const std::string& option) {
    if (text == "fdk") return Method::fdk;
    if (text == "sirt") return Method::sirt;
    if (text == "cgls") return Method::cgls;
    if (text == "tv") return Method::tv;
    if (text == "nonlinear") return Method::nonlinear;
    throw Error(ErrorCode::bad_input, option + " is '" + text + "', expected fdk, sirt, cgls, tv or nonlinear");
}

const char* method_name(Method m) noexcept {
    switch (m) {
        case Method::fdk: return "fdk";
        case Method::sirt: return "sirt";
        case Method::cgls: return "cgls";
        case Method::tv: return "tv";
        case Method::nonlinear: return "nonlinear";
    }
    return "?";
}

int default_iterations(Method m) {
    switch (m) {
        case Method::fdk: return 0;
        case Method::sirt: return 100;
        case Method::cgls: return 30;
        case Method::tv: return 30;
        case Method::nonlinear: return 100;
    }
    return 0;
}

double linearised_loss(const Projector& A, View<const float> b, View<const float> x, View<float> grad,
                       View<float> work) {
    A.apply(x, work);
    const double loss = detail::reduce<double>(A.device(), work.size(),
                                               kern::ct::LinearResidualF{work.data(), b.data(), work.data()});
    A.apply_adjoint(work, grad);
    return loss;
}

double beer_lambert_loss(const Projector& A, View<const float> t, View<const float> x, View<float> grad,
                         View<float> work) {
    A.apply(x, work);
    const double loss = detail::reduce<double>(A.device(), work.size(),
                                               kern::ct::BeerLambertResidualF{work.data(), t.data(), work.data()});
    A.apply_adjoint(work, grad);
    return loss;
}

ReconResult reconstruct(const Geometry& g, View<const float> t_in, const ReconOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    g.validate();
    require(t_in.shape() == g.projection_shape(), "CT reconstruction: projections of shape " + t_in.shape().str() +
                                                      " do not match the geometry's " + g.projection_shape().str());
    require(o.iterations >= 0, "--iters must be non-negative, got " + std::to_string(o.iterations));
    const Device dev = o.device;
    const Array<float> t = Array<float>::copy_of(t_in, dev);
    const Projector A(g, dev);
    Array<float> x(g.volume_shape(), dev);
    const int iters = o.iterations > 0 ? o.iterations : default_iterations(o.method);

    ReconResult out;
    out.parameters.emplace_back("method", method_name(o.method));
    SolverOptions so;
    so.max_iterations = iters;
    so.callback = o.progress;
    const std::string context = "CT reconstruction (" + std::string(method_name(o.method)) + ")";
    auto log_data = [&]() {
        if (o.min_transmission > 0) out.parameters.emplace_back("clamp_transmission", num(o.min_transmission));
        return line_integrals(t, o.min_transmission, context);
    };

    switch (o.method) {
        case Method::fdk: {
            const Array<float> b = log_data();
            fdk(A, b, x, o.fdk);
            out.solver.stop_reason = "direct";
            out.parameters.emplace_back("filter", filter_window_name(o.fdk.window));
            out.parameters.emplace_back("cutoff", num(o.fdk.cutoff));
            out.parameters.emplace_back("short_scan", is_full_scan(g.angles) ? "no (full circle)" : "parker");
            break;
        }
        case Method::sirt: {
            const Array<float> b = log_data();
            SirtOptions s;
            s.relaxation = o.sirt_relaxation;
            s.lower = 0.0f;
            s.upper = std::numeric_limits<float>::max();
            out.solver = sirt(A, b, x, s, so);
            out.parameters.emplace_back("relaxation", num(o.sirt_relaxation));
            out.parameters.emplace_back("nonnegative", "yes");
            break;
        }
        case Method::cgls: {
            const Array<float> b = log_data();
            out.solver = projected_cgls(A, b, x, o.cgls_restart, so);
            out.parameters.emplace_back("restart", std::to_string(o.cgls_restart));
            out.parameters.emplace_back("nonnegative", o.cgls_restart > 0 ? "yes (projected between restarts)" : "no");
            break;
        }
        case Method::tv: {
            const Array<float> b = log_data();
            AdmmTvOptions a;
            a.dims = 3;
            a.isotropic = true;
            a.inner_cg_iterations = o.tv_inner;
            a.nonnegative = true;
            a.lambda = o.tv_lambda;
            if (!(a.lambda > 0.0)) {
                // Relative weight: lambda scales like A^T b, so the result does not depend on the
                // units of the data or the number of views.
                Array<float> atb(g.volume_shape(), dev);
                A.apply_adjoint(b, atb);
                a.lambda = o.tv_weight * max_abs<float>(atb);
                out.parameters.emplace_back("tv_weight", num(o.tv_weight));
            }
            require(a.lambda > 0.0 && std::isfinite(a.lambda), context + ": the TV weight must be positive");
            out.solver = admm_tv<float>(A, b, x, a, so);
            out.parameters.emplace_back("lambda", num(a.lambda));
            out.parameters.emplace_back("inner_cg_iterations", std::to_string(o.tv_inner));
            break;
        }
        case Method::nonlinear: {
            require(o.init == "fdk" || o.init == "zero", "--init is '" + o.init + "', expected fdk or zero");
            if (o.init == "fdk") {
                // The start only: rays with no transmitted signal are clamped for its log.
                const Array<float> b = line_integrals(t, std::max(o.min_transmission, 1e-4), context);
                FdkOptions start = o.fdk;
                if (start.short_scan == ShortScan::automatic && !is_full_scan(g.angles)) {
                    // FDK needs 180 degrees plus the fan; without it start from zero.
                    try {
                        fdk(A, b, x, start);
                    } catch (const Error&) {
                        fill(x.view(), 0.0f);
                    }
                } else {
                    fdk(A, b, x, start);
                }
                project_nonnegative(x);
            }
            // Smoothness of 0.5 (e^{-u} - t)^2 on u >= 0 (A x >= 0 for x >= 0): its second
            // derivative 2 e^{-2u} - t e^{-u} decreases in u for t < 4, so it is at most 2 - t,
            // and the loss's gradient is Lipschitz with (2 - min t) ||A||^2.
            Array<float> t_host = t.to(Device::cpu);
            double lowest = 1.0;
            for (float v : t_host) lowest = std::min(lowest, double(v));
            const double curvature = 2.0 - std::min(lowest, 1.0);
            const double norm = operator_norm<float>(A, o.power_iterations);
            double lipschitz = curvature * norm * norm * 1.02;

            // Optional smoothed TV, lambda sum_v sqrt(|(D x)_v|^2 + eps^2). Its gradient is
            // Lipschitz with lambda ||D||^2 / eps <= 12 lambda / eps; lambda = w ||A||^2 eps makes
            // that 12 w ||A||^2 and balances the TV gradient against the data gradient of a
            // deviation of size eps, whatever the units (docs/ct.md).
            LinOpPtr<float> D;
            Array<float> dx;
            float eps = float(o.nonlinear_tv_eps);
            double lam = 0.0;
            if (o.nonlinear_tv > 0.0) {
                D = finite_difference<float>(g.volume_shape(), 3, dev);
                dx = Array<float>(D->range_shape(), dev);
                if (!(eps > 0.0f)) eps = float(std::max(0.01 * max_abs<float>(x), 1e-6));
                lam = o.nonlinear_tv * norm * norm * double(eps);
                lipschitz += lam * 12.0 / double(eps);
                out.parameters.emplace_back("tv_weight", num(o.nonlinear_tv));
                out.parameters.emplace_back("tv_lambda", num(lam));
                out.parameters.emplace_back("tv_eps", num(eps));
            }
            Array<float> work(g.projection_shape(), dev);
            Array<float> tv_grad;
            if (lam > 0.0) tv_grad = Array<float>(g.volume_shape(), dev);
            ObjectiveGradientFn<float> f = [&](const std::vector<View<const float>>& xs,
                                               const std::vector<View<float>>& grads) {
                double loss = beer_lambert_loss(A, t, xs[0], grads[0], work);
                if (lam > 0.0) {
                    D->apply(xs[0], dx);
                    const double tv = detail::reduce<double>(
                        dev, xs[0].size(), kern::ct::SmoothTvF{dx.data(), xs[0].size(), eps});
                    D->apply_adjoint(dx, tv_grad);
                    axpy(float(lam), View<const float>(tv_grad), grads[0]);
                    loss += lam * tv;
                }
                return loss;
            };
            NesterovOptions<float> n;
            n.momentum = true;
            n.adaptive_restart = true;
            n.project = [](std::vector<View<float>>& xs) { project_nonnegative(xs[0]); };
            const double step = 1.0 / lipschitz;
            out.solver = nesterov<float>(f, {Block<float>{x.view(), step}}, n, so);
            out.parameters.emplace_back("init", o.init);
            out.parameters.emplace_back("step", num(step));
            out.parameters.emplace_back("operator_norm", num(norm));
            out.parameters.emplace_back("nonnegative", "yes");
            break;
        }
    }
    if (o.method != Method::fdk) out.parameters.emplace_back("iterations", std::to_string(out.solver.iterations));
    require(all_finite<float>(x), context + ": the reconstruction is not finite");
    out.volume = x.to(Device::cpu);
    out.elapsed_s = seconds_since(t0);
    return out;
}

ReconResult reconstruct(const Scan& scan, const ReconOptions& options) {
    const Array<float> t = transmission(scan, options.device);
    try {
        return reconstruct(scan.geometry, t, options);
    } catch (const Error& e) {
        // Name the file in data errors (e.g. intensities a log cannot take).
        if (e.code() == ErrorCode::bad_input && !scan.path.empty()) throw Error(e.code(), scan.path + ": " + e.what());
        throw;
    }
}

Quality compare_with_truth(View<const float> truth, View<const float> volume) {
    require(truth.shape() == volume.shape(), "compare_with_truth: the truth " + truth.shape().str() +
                                                 " and the reconstruction " + volume.shape().str() + " differ in shape");
    Quality q;
    Array<float> t = Array<float>::copy_of(truth, Device::cpu);
    q.peak = 0.0;
    for (float v : t) q.peak = std::max(q.peak, double(v));
    q.psnr_db = psnr(truth, volume, q.peak);
    q.nrmse = nrmse(truth, volume);
    q.ssim = ssim_stack(truth, volume, q.peak);
    return q;
}

std::vector<std::string> write_reconstruction(const std::string& path, const Geometry& g, const ReconResult& r,
                                              const std::string& device, const Quality* quality, const std::string& png_prefix) {
    io::OutputSet set;
    std::vector<std::string> pngs = write_reconstruction(set, path, g, r, device, quality, png_prefix);
    set.commit();
    return pngs;
}

std::vector<std::string> write_reconstruction(io::OutputSet& set, const std::string& path, const Geometry& g,
                                              const ReconResult& r, const std::string& device, const Quality* quality,
                                              const std::string& png_prefix) {
    require(r.volume.shape() == g.volume_shape(), "write_reconstruction: the volume does not match the geometry");
    io::require_finite(r.volume.view(), path + ": the reconstructed /volume");
    io::H5Writer out(set, path);
    out.write("/volume", r.volume.view());
    out.set_attr("/volume", "units", "attenuation per mm");
    out.set_attr("/volume", "axes", "z:y:x");
    write_history(out, r.solver);
    write_geometry(out, g);
    for (const auto& [k, v] : r.parameters) out.set_attr("/", k, v);
    out.set_attr("/", "lumen_version", LUMEN_VERSION);
    out.set_attr("/", "device", device);
    out.set_attr("/", "elapsed_s", r.elapsed_s);
    if (quality) {
        out.set_attr("/", "psnr_db", quality->psnr_db);
        out.set_attr("/", "psnr_peak", quality->peak);
        out.set_attr("/", "nrmse", quality->nrmse);
        out.set_attr("/", "ssim", quality->ssim);
    }
    out.commit();

    std::vector<std::string> pngs;
    if (png_prefix.empty()) return pngs;
    const std::string& stem = png_prefix;
    const index_t nx = g.volume.nx, ny = g.volume.ny, nz = g.volume.nz;
    const float* v = r.volume.data();
    // One grey scale for all three: 0 to the 99th percentile of the volume, a soft-tissue window
    // in which small dense inserts saturate rather than turning everything else black.
    std::vector<float> sorted(r.volume.begin(), r.volume.end());
    const std::size_t k = std::min(sorted.size() - 1, std::size_t(0.99 * double(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(k), sorted.end());
    float hi = sorted[k];
    if (!(hi > 0.0f)) hi = 1.0f;
    Array<float> axial(Shape{ny, nx}), coronal(Shape{nz, nx}), sagittal(Shape{nz, ny});
    const index_t zc = nz / 2, yc = ny / 2, xc = nx / 2;
    for (index_t y = 0; y < ny; ++y)
        for (index_t x = 0; x < nx; ++x) axial[(ny - 1 - y) * nx + x] = v[(zc * ny + y) * nx + x];
    for (index_t z = 0; z < nz; ++z)
        for (index_t x = 0; x < nx; ++x) coronal[(nz - 1 - z) * nx + x] = v[(z * ny + yc) * nx + x];
    for (index_t z = 0; z < nz; ++z)
        for (index_t y = 0; y < ny; ++y) sagittal[(nz - 1 - z) * ny + y] = v[(z * ny + y) * nx + xc];
    const std::pair<const char*, Array<float>*> slices[] = {
        {"_axial.png", &axial}, {"_coronal.png", &coronal}, {"_sagittal.png", &sagittal}};
    for (const auto& [suffix, img] : slices) {
        const std::string p = stem + suffix;
        io::write_png(set, p, img->view(), 0.0f, hi);
        pngs.push_back(p);
    }
    return pngs;
}

}  // namespace lumen::ct
