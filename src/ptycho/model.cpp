// The ptychography forward model (include/lumen/ptycho/model.hpp). Host code: batching over
// positions, FFT plans, and the dispatch of the per-element functors of kernels/ptycho/ptycho_ops.hpp.
#include "lumen/ptycho/model.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "src/ptycho/model_impl.hpp"

namespace lumen::ptycho {

Loss parse_loss(const std::string& text) {
    if (text == "amplitude") return Loss::amplitude;
    if (text == "intensity") return Loss::intensity;
    if (text == "poisson") return Loss::poisson;
    invalid_option("ReconOptions.loss", "unknown loss '" + text + "' (expected amplitude, intensity or poisson)");
}

const char* loss_name(Loss loss) noexcept {
    switch (loss) {
        case Loss::amplitude: return "amplitude";
        case Loss::intensity: return "intensity";
        case Loss::poisson: return "poisson";
    }
    return "?";
}

namespace {
Array<float> host_copy(View<const float> v) { return Array<float>::copy_of(v, Device::cpu); }
// The kernels' code for a loss (kernels/ptycho/ptycho_ops.hpp).
int loss_kind(Loss loss) {
    return loss == Loss::amplitude ? kp::loss_amplitude : loss == Loss::intensity ? kp::loss_intensity : kp::loss_poisson;
}

}  // namespace

void require_positions(View<const float> positions, const std::string& what) {
    require(positions.rank() == 2 && positions.dim(1) == 2 && positions.dim(0) >= 1,
            what + ": positions must be [J][2] (row, column) with J >= 1, got " + positions.shape().str());
}

Shape object_shape_for(View<const float> positions_v, const Shape& probe_shape) {
    require_positions(positions_v, "ptycho::object_shape_for");
    require(probe_shape.rank() == 2 && probe_shape[0] >= 1 && probe_shape[1] >= 1,
            "ptycho::object_shape_for: the probe shape must be [my][mx], got " + probe_shape.str());
    const Array<float> p = host_copy(positions_v);
    double max_r = 0, max_c = 0;
    for (index_t j = 0; j < p.dim(0); ++j) {
        const double r = p[2 * j], c = p[2 * j + 1];
        if (!(std::isfinite(r) && std::isfinite(c) && r >= 0 && c >= 0))
            require(false, "ptycho::object_shape_for: position " + std::to_string(j) + " is (" + std::to_string(r) + ", " +
                    std::to_string(c) + "); positions must be finite and non-negative");
        max_r = std::max(max_r, r);
        max_c = std::max(max_c, c);
    }
    // Converting a double beyond int64 to an integer is undefined: far positions (a translation
    // in the wrong unit) are refused here; the caller bounds the object's memory.
    require(max_r < 1e15 && max_c < 1e15, "ptycho::object_shape_for: positions span " + std::to_string(max_r) + " x " +
                                              std::to_string(max_c) + " pixels; check the translation units (metres)");
    return Shape{index_t(std::floor(max_r)) + probe_shape[0], index_t(std::floor(max_c)) + probe_shape[1]};
}

Model::Model(const Shape& object_shape, const Shape& probe_shape, View<const float> positions, Device device,
             const ModelOptions& options)
    : impl_(std::make_unique<Impl>(object_shape, probe_shape, positions, device, options)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Shape Model::object_shape() const { return Shape{impl_->H, impl_->W}; }
Shape Model::probe_shape() const { return Shape{impl_->my, impl_->mx}; }
Shape Model::data_shape() const { return Shape{impl_->J, impl_->my, impl_->mx}; }
index_t Model::positions() const { return impl_->J; }
index_t Model::total_positions() const { return impl_->total_J; }
const Communicator& Model::ranks() const { return *impl_->ranks; }
index_t Model::modes() const { return impl_->K; }
index_t Model::slices() const { return impl_->N; }
Shape Model::object_stack_shape() const { return impl_->stack_shape(); }
Device Model::device() const { return impl_->device; }
bool Model::subpixel() const { return impl_->subpixel; }
index_t Model::batch() const { return impl_->batch; }
const Array<index_t>& Model::corners() const { return impl_->corners_host; }
const Array<float>& Model::remainders() const { return impl_->frac_host; }
bool Model::has_data() const { return !impl_->data.empty(); }
double Model::data_max() const { return impl_->data_max; }
double Model::data_total() const { return impl_->data_total; }
double Model::poisson_eps() const { return std::max(1e-3 * impl_->data_mean, 1e-12); }

void Model::set_probe(View<const complex64> probe) {
    Impl& s = *impl_;
    const bool all_modes = probe.shape() == s.probe.shape();
    require(all_modes || probe.shape() == probe_shape(),
            "ptycho::Model::set_probe: expected a probe of shape " + s.probe.shape().str() +
                (s.K > 1 ? " or " + probe_shape().str() : std::string()) + ", got " + probe.shape().str());
    if (all_modes) {
        copy(probe, s.probe.view());
    } else {
        fill(s.probe.view(), complex64(0.0f));
        copy(probe, View<complex64>(s.probe.data(), probe_shape(), s.device));
    }
    s.update_shifted();
}

View<const complex64> Model::probe() const { return impl_->probe.view(); }

void Model::set_positions(View<const float> positions) {
    Impl& s = *impl_;
    require(positions.shape() == Shape({s.J, 2}), "ptycho::Model::set_positions: expected positions [" +
                                                      std::to_string(s.J) + "][2], got " + positions.shape().str());
    s.move_to(positions);
}

void Model::position_curvature(Loss loss, View<const complex64> object, View<float> out) const {
    const Impl& s = *impl_;
    s.require_single_slice("position_curvature");
    s.require_view("position_curvature (object)", object.shape(), object_shape(), object.device());
    s.require_view("position_curvature (output)", out.shape(), Shape{s.J, 2}, out.device());
    const int kind = loss_kind(loss);
    const float eps = has_data() ? float(poisson_eps()) : 1e-12f;
    if (s.work2.size() < s.batch * s.K * s.m) s.work2 = Array<complex64>(Shape{s.batch * s.K * s.m}, s.device);
    const float* mask = s.mask.empty() ? nullptr : s.mask.data();
    s.for_batches([&](index_t, index_t j0, index_t count) {
        const index_t cm = count * s.m;
        View<complex64> psi = s.work_view(count);
        View<complex64> dpsi(s.work2.data(), Shape{s.K * cm}, s.device);
        s.forward_batch(object.data(), j0, count, psi);
        for (int axis = 0; axis < 2; ++axis) {
            // dPsi_jk = F(S_j O (.) d(T_j P_k)/dp): the shifted probes' derivatives, times the object.
            for (index_t k = 0; k < s.K; ++k)
                detail::for_each(s.device, cm, kp::ShiftDerivativeSpectrumF{s.windows(j0), s.shift_tables(),
                                                                           s.probe_spectrum.data() + k * s.m,
                                                                           dpsi.data() + k * cm, axis});
            s.plan_for(count).inverse(dpsi);
            for (index_t k = 0; k < s.K; ++k)
                detail::for_each(s.device, cm, kp::ExitWaveF{s.windows(j0), kp::ProbeRef{dpsi.data() + k * cm, s.m, j0},
                                                            object.data(), dpsi.data() + k * cm});
            s.propagate(s.plan_for(count), dpsi, count * s.K);
            detail::for_each(s.device, count, kp::PositionCurvatureGatherF{psi.data(), dpsi.data(), mask, s.m, count, s.K,
                                                                           kind, eps, j0, axis, out.data()});
        }
    });
}

void Model::frame_losses(Loss loss, View<const complex64> object, index_t dy, index_t dx, View<float> out) const {
    const Impl& s = *impl_;
    require(has_data(), "ptycho::Model::frame_losses: no measurements (call set_data first)");
    s.require_single_slice("frame_losses");
    s.require_view("frame_losses (object)", object.shape(), object_shape(), object.device());
    s.require_view("frame_losses (output)", out.shape(), Shape{s.J}, out.device());
    const int kind = loss_kind(loss);
    const float eps = float(poisson_eps());
    if (s.moved_corners.empty()) s.moved_corners = Array<index_t>(Shape{s.J, 2}, s.device);
    const float* mask = s.mask.empty() ? nullptr : s.mask.data();
    s.for_batches([&](index_t, index_t j0, index_t count) {
        const index_t cm = count * s.m;
        View<complex64> psi = s.work_view(count);
        detail::for_each(s.device, count,
                         kp::OffsetCornersF{s.corners.data(), j0, dy, dx, s.H - s.my, s.W - s.mx, s.moved_corners.data()});
        const kp::Windows moved{s.moved_corners.data(), nullptr, j0, j0, s.my, s.mx, s.W};
        for (index_t k = 0; k < s.K; ++k)
            detail::for_each(s.device, cm, kp::ExitWaveF{moved, s.probe_ref(k), object.data(), psi.data() + k * cm});
        s.propagate(s.plan_for(count), psi, count * s.K);
        detail::for_each(s.device, count,
                         kp::FrameLossGatherF{psi.data(), s.data.data() + j0 * s.m, mask, s.m, count, s.K, kind, eps, j0,
                                              s.corners.data(), s.moved_corners.data(), dy, dx, out.data()});
    });
}

void Model::far_field(View<const complex64> object, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_single_mode("far_field");
    s.require_single_slice("far_field");
    s.require_view("far_field (object)", object.shape(), object_shape(), object.device());
    s.require_view("far_field (output)", out.shape(), data_shape(), out.device());
    s.for_batches([&](index_t, index_t j0, index_t count) {
        s.forward_batch(object.data(), j0, count, Impl::frames(out, j0, count, s.m));
    });
}

void Model::adjoint_object(View<const complex64> g, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_single_mode("adjoint_object");
    s.require_single_slice("adjoint_object");
    s.require_view("adjoint_object (input)", g.shape(), data_shape(), g.device());
    s.require_view("adjoint_object (output)", out.shape(), object_shape(), out.device());
    fill(out, complex64(0.0f));
    s.for_batches([&](index_t k, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        copy(View<const complex64>(g.data() + j0 * s.m, Shape{count * s.m}, g.device()), buf);
        s.back_propagate(s.plan_for(count), buf, count);
        s.object_adjoint_batch(k, j0, count, buf, out.data());
    });
    s.sum_over_ranks(out);
}

void Model::far_field_of_probe(View<const complex64> probe, View<const complex64> object, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_single_mode("far_field_of_probe");
    s.require_single_slice("far_field_of_probe");
    s.require_view("far_field_of_probe (probe)", probe.shape(), probe_shape(), probe.device());
    s.require_view("far_field_of_probe (object)", object.shape(), object_shape(), object.device());
    s.require_view("far_field_of_probe (output)", out.shape(), data_shape(), out.device());
    const index_t m = s.m;
    if (s.subpixel) {
        if (s.work2.empty()) s.work2 = Array<complex64>(Shape{s.batch * m}, s.device);
        copy(View<const complex64>(probe.data(), Shape{m}, probe.device()), s.spectrum.view());
        s.plan_one.forward(s.spectrum);
    }
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> dst = Impl::frames(out, j0, count, m);
        kp::ProbeRef pr{probe.data(), 0, 0};
        if (s.subpixel) {
            View<complex64> q(s.work2.data(), Shape{count * m}, s.device);
            detail::for_each(s.device, count * m, kp::ShiftSpectrumF{s.windows(j0), s.shift_tables(), s.spectrum.data(), q.data()});
            s.plan_for(count).inverse(q);
            pr = kp::ProbeRef{q.data(), m, j0};
        }
        detail::for_each(s.device, count * m, kp::ExitWaveF{s.windows(j0), pr, object.data(), dst.data()});
        s.propagate(s.plan_for(count), dst, count);
    });
}

void Model::adjoint_probe(View<const complex64> g, View<const complex64> object, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_single_mode("adjoint_probe");
    s.require_single_slice("adjoint_probe");
    s.require_view("adjoint_probe (input)", g.shape(), data_shape(), g.device());
    s.require_view("adjoint_probe (object)", object.shape(), object_shape(), object.device());
    s.require_view("adjoint_probe (output)", out.shape(), probe_shape(), out.device());
    fill(out, complex64(0.0f));
    Array<complex64> acc(Shape{s.m}, s.device);
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        copy(View<const complex64>(g.data() + j0 * s.m, Shape{count * s.m}, g.device()), buf);
        s.back_propagate(s.plan_for(count), buf, count);
        s.probe_adjoint_batch(object.data(), j0, count, buf, out.data(), acc.data());
    });
    if (s.subpixel) {
        s.plan_one.inverse(acc);
        copy(acc.view(), View<complex64>(out.data(), Shape{s.m}, out.device()));
    }
    s.sum_over_ranks(out);
}

void Model::intensities(View<const complex64> object, View<float> out) const {
    const Impl& s = *impl_;
    s.require_view("intensities (object)", object.shape(), s.stack_shape(), object.device());
    s.require_view("intensities (output)", out.shape(), data_shape(), out.device());
    Array<float> tmp(Shape{s.batch * s.m}, s.device);
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        detail::for_each(s.device, count * s.m, kern::ptycho::IntensityF{buf.data(), tmp.data(), s.K, count * s.m});
        // FFT order -> detector order (fftshift); near-field images stay as they are.
        detail::for_each(s.device, count * s.m,
                         kp::frame_shift(tmp.data(), out.data() + j0 * s.m, s.my, s.mx, s.near ? 0 : (s.my + 1) / 2,
                                         s.near ? 0 : (s.mx + 1) / 2));
    });
}

Array<float> Model::illumination() const {
    Array<float> out(object_shape(), impl_->device);
    impl_->illumination_into(out);
    return out;
}

Array<float> Model::object_power(View<const complex64> object) const {
    const Impl& s = *impl_;
    s.require_single_slice("object_power");
    s.require_view("object_power", object.shape(), object_shape(), object.device());
    Array<float> out(probe_shape(), s.device);
    s.object_power_into(object.data(), out);
    return out;
}

double Model::lipschitz_object() const {
    const Impl& s = *impl_;
    // The map is made again only after the probe or the positions changed: a known-probe AWF asks
    // for it every iteration (precondition_object).
    if (s.illum_fresh) return s.illum_max;
    if (s.illum_buf.empty()) s.illum_buf = Array<float>(object_shape(), s.device);
    s.illumination_into(s.illum_buf);
    s.illum_max = Impl::max_of(s.illum_buf.view());
    s.illum_fresh = true;
    return s.illum_max;
}

double Model::lipschitz_probe(View<const complex64> object) const {
    const Impl& s = *impl_;
    s.require_view("lipschitz_probe", object.shape(), s.stack_shape(), object.device());
    if (s.power_buf.empty()) s.power_buf = Array<float>(probe_shape(), s.device);
    s.object_power_into(object.data(), s.power_buf);
    double lp = Impl::max_of(s.power_buf.view());
    // Behind the first slice the probe's field passes unitary propagations and multiplications by
    // the later slices, which scale its norm by at most their largest modulus.
    for (index_t n = 2; n <= s.N; ++n) lp *= s.slice_max_power(object.data(), n);
    return lp;
}

std::vector<double> Model::lipschitz_slices(View<const complex64> object) const {
    const Impl& s = *impl_;
    s.require_view("lipschitz_slices", object.shape(), s.stack_shape(), object.device());
    if (s.N == 1) return {lipschitz_object()};
    // The illumination reaching slices 2..N: sum_j sum_k |q_njk|^2 on the object grid, from a
    // forward pass that stops before the detector.
    s.clear_slice_illumination();
    s.for_batches([&](index_t b, index_t j0, index_t count) {
        s.forward_batch(object.data(), j0, count, s.work_view(count), false);
        s.add_slice_illumination(b, j0, count);
    });
    return s.slice_bounds(object.data(), lipschitz_object());
}

const std::vector<double>& Model::last_lipschitz_slices() const { return impl_->last_bounds; }

void Model::set_data(View<const float> intensities, View<const float> mask) {
    Impl& s = *impl_;
    require(intensities.shape() == data_shape(), "ptycho::Model::set_data: expected intensities of shape " +
                                                     data_shape().str() + ", got " + intensities.shape().str());
    const Array<float> y = host_copy(intensities);
    Array<float> mk;
    if (!mask.empty()) {
        require(mask.shape() == probe_shape(), "ptycho::Model::set_data: expected a detector mask of shape " +
                                                   probe_shape().str() + ", got " + mask.shape().str());
        mk = host_copy(mask);
    }
    double mx = 0, total = 0;
    index_t measured = 0;
    for (index_t i = 0; i < y.size(); ++i) {
        const float v = y[i];
        if (!(std::isfinite(v) && v >= 0))
            require(false, "ptycho::Model::set_data: intensity " + std::to_string(v) + " at frame " +
                               std::to_string(i / s.m) + " (intensities must be finite and >= 0)");
        if (!mk.empty() && mk[i % s.m] == 0.0f) continue;
        mx = std::max(mx, double(v));
        total += v;
        ++measured;
    }
    double tallies[] = {total, double(measured)};
    s.ranks->sum(tallies, 2);
    s.data_max = s.max_over_ranks(mx);
    s.data_total = tallies[0];
    s.data_mean = tallies[1] > 0 ? tallies[0] / tallies[1] : 0.0;
    const Array<float> yd = y.to(s.device);
    s.data = Array<float>(Shape{s.J * s.m}, s.device);
    // Detector order -> FFT order (ifftshift), once.
    detail::for_each(s.device, s.J * s.m,
                     kp::frame_shift(yd.data(), s.data.data(), s.my, s.mx, s.data_shift_y(), s.data_shift_x()));
    s.mask = Array<float>();
    if (!mk.empty()) {
        const Array<float> md = mk.to(s.device);
        s.mask = Array<float>(Shape{s.m}, s.device);
        detail::for_each(s.device, s.m,
                         kp::frame_shift(md.data(), s.mask.data(), s.my, s.mx, s.data_shift_y(), s.data_shift_x()));
    }
}

namespace {

// The table of the Poisson expectation in residual(), made on first use.
void ensure_variance_table(const Model::Impl& s) {
    if (!s.variance_table.empty()) return;
    std::vector<double> nodes(kp::k_variance_intervals + 1);
    for (int i = 0; i <= kp::k_variance_intervals; ++i) nodes[std::size_t(i)] = kp::variance_table_node(i);
    s.variance_table = Array<double>::from(nodes, Shape{index_t(nodes.size())}).to(s.device);
}

// Adds one batch's far fields (buf, before anything overwrites them) to a Residual's sums.
void add_residual(const Model::Impl& s, const complex64* buf, index_t j0, index_t count, Model::Residual& r) {
    const float* mask = s.mask.empty() ? nullptr : s.mask.data();
    const float* y = s.data.data() + j0 * s.m;
    r.squared += detail::reduce<double>(s.device, count * s.m, kp::AmplitudeResidualF{buf, y, mask, s.m, 0, s.K, count * s.m});
    r.expected += detail::reduce<double>(
        s.device, count * s.m, kp::AmplitudeResidualF{buf, y, mask, s.m, 1, s.K, count * s.m, s.variance_table.data()});
}

// The measured pixel count and (distributed) the sums over every rank's frames.
void finish_residual(const Model::Impl& s, Model::Residual& r) {
    index_t measured = s.m;
    if (!s.mask.empty()) {
        const Array<float> mk = s.mask.to(Device::cpu);
        measured = 0;
        for (index_t i = 0; i < s.m; ++i) measured += mk[i] != 0.0f;
    }
    r.pixels = measured * s.total_J;
    if (s.ranks->distributed()) {
        double sums[] = {r.squared, r.expected};
        s.ranks->sum(sums, 2);
        r.squared = sums[0];
        r.expected = sums[1];
    }
}

}  // namespace

double Model::loss(Loss loss, View<const complex64> object, View<complex64> grad_object, View<complex64> grad_probe,
                   View<float> grad_positions) const {
    return loss_pass(loss, object, grad_object, grad_probe, grad_positions, nullptr);
}

double Model::loss(Loss loss, View<const complex64> object, View<complex64> grad_object, View<complex64> grad_probe,
                   View<float> grad_positions, Residual& fit) const {
    require(has_data(), "ptycho::Model::loss: no measurements (call set_data first)");
    fit = Residual();
    ensure_variance_table(*impl_);
    const double value = loss_pass(loss, object, grad_object, grad_probe, grad_positions, &fit);
    finish_residual(*impl_, fit);
    return value;
}

double Model::loss_pass(Loss loss, View<const complex64> object, View<complex64> grad_object, View<complex64> grad_probe,
                        View<float> grad_positions, Residual* fit) const {
    const Impl& s = *impl_;
    require(has_data(), "ptycho::Model::loss: no measurements (call set_data first)");
    s.require_view("loss (object)", object.shape(), s.stack_shape(), object.device());
    const bool want_o = !grad_object.empty(), want_p = !grad_probe.empty(), want_x = !grad_positions.empty();
    if (want_x) {
        s.require_view("loss (position gradient)", grad_positions.shape(), Shape{s.J, 2}, grad_positions.device());
        fill(grad_positions, 0.0f);
    }
    if (want_o) {
        s.require_view("loss (object gradient)", grad_object.shape(), s.stack_shape(), grad_object.device());
        fill(grad_object, complex64(0.0f));
    }
    Array<complex64> acc;
    if (want_p) {
        s.require_view("loss (probe gradient)", grad_probe.shape(), s.probe.shape(), grad_probe.device());
        fill(grad_probe, complex64(0.0f));
        if (s.subpixel) acc = Array<complex64>(Shape{s.K * s.m}, s.device);
    }
    const int kind = loss_kind(loss);
    const float eps = float(poisson_eps());
    // Multi-slice with the object gradient: the step bounds come with the pass (the incident
    // waves are there), instead of a forward pass of their own.
    const bool bounds = s.N > 1 && want_o;
    if (bounds) s.clear_slice_illumination();
    double total = 0;
    s.for_batches([&](index_t k, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        if (bounds) s.add_slice_illumination(k, j0, count);
        if (fit) add_residual(s, buf.data(), j0, count, *fit);
        total += detail::reduce<double>(
            s.device, count * s.m,
            kp::FarFieldLossF{buf.data(), s.data.data() + j0 * s.m, s.mask.empty() ? nullptr : s.mask.data(), s.m, kind, eps,
                              s.K, count * s.m});
        if (!want_o && !want_p && !want_x) return;
        s.back_propagate(s.plan_for(count), buf, count * s.K);
        if (s.N > 1) s.slices_adjoint_batch(k, object.data(), j0, count, buf, want_o ? grad_object.data() : nullptr);
        if (want_o) s.object_adjoint_batch(k, j0, count, buf, grad_object.data());
        if (want_p || want_x)
            s.probe_adjoint_batch(object.data(), j0, count, buf, want_p ? grad_probe.data() : nullptr,
                                  want_p ? acc.data() : nullptr, want_x ? grad_positions.data() : nullptr);
    });
    if (want_p && s.subpixel) {
        s.plan_all_modes().inverse(acc);
        copy(acc.view(), View<complex64>(grad_probe.data(), Shape{s.K * s.m}, grad_probe.device()));
    }
    // Distributed: the frames' sums over all ranks (the position gradient is per frame: the rank's).
    if (want_o) s.sum_over_ranks(grad_object);
    if (want_p) s.sum_over_ranks(grad_probe);
    total = s.sum_over_ranks(total);
    if (bounds) s.last_bounds = s.slice_bounds(object.data(), lipschitz_object());
    return total;
}

Model::Residual Model::residual(View<const complex64> object) const {
    const Impl& s = *impl_;
    require(has_data(), "ptycho::Model::residual: no measurements (call set_data first)");
    s.require_view("residual (object)", object.shape(), s.stack_shape(), object.device());
    Residual r;
    ensure_variance_table(s);
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        add_residual(s, buf.data(), j0, count, r);
    });
    finish_residual(s, r);
    return r;
}

double Model::precondition_object(View<complex64> g, double floor, double reference) const {
    const Impl& s = *impl_;
    s.require_single_slice("precondition_object");
    s.require_view("precondition_object (gradient)", g.shape(), object_shape(), g.device());
    const double lo = lipschitz_object();  // fills illum_buf
    detail::for_each(s.device, g.size(),
                     kp::IlluminationPreconditionF{g.data(), s.illum_buf.data(), float(reference), float(floor * lo)});
    return lo;
}

double Model::intensity_curvature(View<const complex64> object) const {
    const Impl& s = *impl_;
    require(has_data(), "ptycho::Model::intensity_curvature: no measurements (call set_data first)");
    s.require_view("intensity_curvature (object)", object.shape(), s.stack_shape(), object.device());
    double best = 0;
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        best = std::max(best, detail::reduce<double>(s.device, count * s.m,
                                                     kp::IntensityCurvatureF{buf.data(), s.data.data() + j0 * s.m,
                                                                             s.mask.empty() ? nullptr : s.mask.data(), s.m,
                                                                             s.K, count * s.m},
                                                     kern::MaxOp()));
    });
    return s.max_over_ranks(best);
}

// ---- the model as linear operators ----------------------------------------------------------

namespace {

class ObjectOperator final : public LinearOperator<complex64> {
public:
    explicit ObjectOperator(const Model& model) : model_(model) {}
    Shape domain_shape() const override { return model_.object_shape(); }
    Shape range_shape() const override { return model_.data_shape(); }
    Device device() const override { return model_.device(); }
    void apply(View<const complex64> x, View<complex64> y) const override { model_.far_field(x, y); }
    void apply_adjoint(View<const complex64> y, View<complex64> x) const override { model_.adjoint_object(y, x); }

private:
    const Model& model_;
};

class ProbeOperator final : public LinearOperator<complex64> {
public:
    ProbeOperator(const Model& model, View<const complex64> object)
        : model_(model), object_(Array<complex64>::copy_of(object, model.device())) {}
    Shape domain_shape() const override { return model_.probe_shape(); }
    Shape range_shape() const override { return model_.data_shape(); }
    Device device() const override { return model_.device(); }
    void apply(View<const complex64> x, View<complex64> y) const override {
        model_.far_field_of_probe(x, object_.view(), y);
    }
    void apply_adjoint(View<const complex64> y, View<complex64> x) const override {
        model_.adjoint_probe(y, object_.view(), x);
    }

private:
    const Model& model_;
    Array<complex64> object_;
};

}  // namespace

LinOpPtr<complex64> object_operator(const Model& model) { return std::make_shared<ObjectOperator>(model); }
LinOpPtr<complex64> probe_operator(const Model& model, View<const complex64> object) {
    return std::make_shared<ProbeOperator>(model, object);
}

}  // namespace lumen::ptycho
