// The ptychography forward model (include/lumen/ptycho/model.hpp). Host code: batching over
// positions, FFT plans, and the dispatch of the per-element functors of kernels/ptycho/ptycho_ops.hpp.
#include "lumen/ptycho/model.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kernels/ptycho/ptycho_ops.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "src/executor.hpp"

namespace lumen::ptycho {

namespace kp = kern::ptycho;

Loss parse_loss(const std::string& text, const std::string& option) {
    if (text == "amplitude") return Loss::amplitude;
    if (text == "intensity") return Loss::intensity;
    if (text == "poisson") return Loss::poisson;
    throw Error(ErrorCode::usage, option + ": unknown loss '" + text + "' (expected amplitude, intensity or poisson)");
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

void require_positions(View<const float> positions, const std::string& what) {
    require(positions.rank() == 2 && positions.dim(1) == 2 && positions.dim(0) >= 1,
            what + ": positions must be [J][2] (row, column) with J >= 1, got " + positions.shape().str());
}

}  // namespace

Shape object_shape_for(View<const float> positions_v, const Shape& probe_shape) {
    require_positions(positions_v, "ptycho::object_shape_for");
    require(probe_shape.rank() == 2 && probe_shape[0] >= 1 && probe_shape[1] >= 1,
            "ptycho::object_shape_for: the probe shape must be [my][mx], got " + probe_shape.str());
    const Array<float> p = host_copy(positions_v);
    double max_r = 0, max_c = 0;
    for (index_t j = 0; j < p.dim(0); ++j) {
        const double r = p[2 * j], c = p[2 * j + 1];
        require(std::isfinite(r) && std::isfinite(c) && r >= 0 && c >= 0,
                "ptycho::object_shape_for: position " + std::to_string(j) + " is (" + std::to_string(r) + ", " +
                    std::to_string(c) + "); positions must be finite and non-negative");
        max_r = std::max(max_r, r);
        max_c = std::max(max_c, c);
    }
    return Shape{index_t(std::floor(max_r)) + probe_shape[0], index_t(std::floor(max_c)) + probe_shape[1]};
}

struct Model::Impl {
    index_t J = 0, my = 0, mx = 0, m = 0, H = 0, W = 0, batch = 1;
    Device device = Device::cpu;
    bool subpixel = false;
    Array<index_t> corners_host;
    Array<float> frac_host;
    Array<index_t> corners;  // on the device
    Array<float> frac;
    // CPU overlap-add: for each batch, groups of positions whose windows are disjoint.
    struct Group {
        index_t offset, count;
    };
    std::vector<std::vector<Group>> groups;
    Array<index_t> group_list;  // host
    Array<complex64> probe;     // [my][mx]
    Array<complex64> shifted;   // [J][my][mx] when subpixel
    FftPlan plan_batch, plan_one;
    std::optional<FftPlan> plan_tail;
    mutable Array<complex64> work, work2, spectrum;
    Array<float> data;  // [J][m], FFT order
    Array<float> mask;  // [m], FFT order, or empty
    double data_max = 0, data_total = 0, data_mean = 0;

    Impl(const Shape& obj, const Shape& prb, View<const float> positions_v, Device dev, const ModelOptions& opt)
        : plan_batch(make_plans(obj, prb, positions_v, dev, opt)), plan_one({prb[0], prb[1]}, 1, dev) {
        if (J % batch) plan_tail.emplace(std::vector<index_t>{my, mx}, J % batch, dev);
        probe = Array<complex64>(Shape{my, mx}, device);
        work = Array<complex64>(Shape{batch * m}, device);
        spectrum = Array<complex64>(Shape{m}, device);
        if (subpixel) shifted = Array<complex64>(Shape{J, my, mx}, device);
        if (device == Device::cpu) make_groups();
    }

    // Validates the geometry, fills the sizes and positions, and returns the batch plan.
    FftPlan make_plans(const Shape& obj, const Shape& prb, View<const float> positions_v, Device dev,
                       const ModelOptions& opt) {
        require_positions(positions_v, "ptycho::Model");
        require(prb.rank() == 2 && prb[0] >= 1 && prb[1] >= 1,
                "ptycho::Model: the probe shape must be [my][mx], got " + prb.str());
        require(obj.rank() == 2 && obj[0] >= prb[0] && obj[1] >= prb[1],
                "ptycho::Model: the object shape must be [H][W] at least as large as the probe " + prb.str() +
                    ", got " + obj.str());
        device = dev;
        J = positions_v.dim(0);
        my = prb[0];
        mx = prb[1];
        m = my * mx;
        H = obj[0];
        W = obj[1];
        const Array<float> p = host_copy(positions_v);
        corners_host = Array<index_t>(Shape{J, 2});
        frac_host = Array<float>(Shape{J, 2});
        bool any_frac = false;
        for (index_t j = 0; j < J; ++j) {
            for (int a = 0; a < 2; ++a) {
                const double v = p[2 * j + a];
                require(std::isfinite(v), "ptycho::Model: position " + std::to_string(j) + " is not finite");
                double c = opt.subpixel ? std::floor(v) : std::round(v);
                double f = opt.subpixel ? v - c : 0.0;
                // Remainders within float rounding of a whole pixel count as integer positions.
                if (f > 1.0 - 1e-5) {
                    c += 1.0;
                    f = 0.0;
                } else if (f < 1e-5) {
                    f = 0.0;
                }
                corners_host[2 * j + a] = index_t(c);
                frac_host[2 * j + a] = float(f);
                any_frac = any_frac || f != 0.0;
            }
            const index_t r = corners_host[2 * j], c = corners_host[2 * j + 1];
            require(r >= 0 && c >= 0 && r + my <= H && c + mx <= W,
                    "ptycho::Model: the probe window of position " + std::to_string(j) + " at (" + std::to_string(p[2 * j]) +
                        ", " + std::to_string(p[2 * j + 1]) + ") leaves the object " + obj.str());
        }
        subpixel = any_frac;
        corners = corners_host.to(device);
        frac = frac_host.to(device);
        const index_t per_batch = std::max<index_t>(1, (index_t(256) << 20) / (m * index_t(sizeof(complex64))));
        batch = std::min(J, opt.batch > 0 ? opt.batch : per_batch);
        return FftPlan({my, mx}, batch, device);
    }

    // Colouring for race-free CPU overlap-add: positions in cells of the window size; a colour is
    // (cell row parity, cell column parity, rank within the cell). Two windows of one colour are
    // in different cells at least two cells apart along some axis, so they cannot overlap.
    void make_groups() {
        std::vector<index_t> list;
        for (index_t j0 = 0; j0 < J; j0 += batch) {
            const index_t count = std::min(batch, J - j0);
            std::map<std::pair<index_t, index_t>, index_t> in_cell;
            std::map<std::tuple<int, int, index_t>, std::vector<index_t>> colour;
            for (index_t j = j0; j < j0 + count; ++j) {
                const index_t cy = corners_host[2 * j] / my, cx = corners_host[2 * j + 1] / mx;
                const index_t rank = in_cell[{cy, cx}]++;
                colour[{int(cy % 2), int(cx % 2), rank}].push_back(j);
            }
            std::vector<Group> g;
            for (auto& [key, members] : colour) {
                g.push_back({index_t(list.size()), index_t(members.size())});
                list.insert(list.end(), members.begin(), members.end());
            }
            groups.push_back(std::move(g));
        }
        group_list = Array<index_t>::from(list, Shape{index_t(list.size())});
    }

    const FftPlan& plan_for(index_t count) const { return count == batch ? plan_batch : *plan_tail; }

    kp::Windows windows(index_t j0) const {
        return kp::Windows{corners.data(), nullptr, j0, j0, my, mx, W};
    }
    kp::ProbeRef probe_ref() const {
        return subpixel ? kp::ProbeRef{shifted.data(), m, 0} : kp::ProbeRef{probe.data(), 0, 0};
    }

    template <class Body>
    void for_batches(const Body& body) const {
        for (index_t j0 = 0, k = 0; j0 < J; j0 += batch, ++k) body(k, j0, std::min(batch, J - j0));
    }

    // Runs an overlap-add functor over the positions [j0, j0 + count) with buffer frame 0 = j0:
    // make(std::true_type / std::false_type, windows) builds it with or without atomics.
    template <class Make>
    void scatter(index_t batch_index, index_t j0, [[maybe_unused]] index_t count, const Make& make) const {
        if (device == Device::cpu) {
            for (const Group& g : groups[std::size_t(batch_index)]) {
                const kp::Windows w{corners.data(), group_list.data() + g.offset, 0, j0, my, mx, W};
                detail::for_each_cpu(g.count * m, make(std::false_type{}, w));
            }
        } else {
            LUMEN_CUDA_CALL(detail::for_each_gpu(count * m, make(std::true_type{}, windows(j0))));
        }
    }

    // The frames of positions [j0, j0 + count) of a [J][m] array.
    static View<complex64> frames(View<complex64> all, index_t j0, index_t count, index_t m) {
        return View<complex64>(all.data() + j0 * m, Shape{count * m}, all.device());
    }
    View<complex64> work_view(index_t count) const { return View<complex64>(work.data(), Shape{count * m}, device); }

    // psi = F(P_j O_j) for positions [j0, j0 + count) into `out` (count frames).
    void forward_batch(const complex64* object, index_t j0, index_t count, View<complex64> out) const {
        detail::for_each(device, count * m, kp::ExitWaveF{windows(j0), probe_ref(), object, out.data()});
        plan_for(count).forward(out);
    }

    // Recomputes the shifted probes P_j = F^H D_j F P.
    void update_shifted() {
        if (!subpixel) return;
        copy(View<const complex64>(probe.view().reshaped(Shape{m})), spectrum.view());
        plan_one.forward(spectrum);
        for_batches([&](index_t, index_t j0, index_t count) {
            View<complex64> out = frames(shifted.view(), j0, count, m);
            detail::for_each(device, count * m, kp::ShiftSpectrumF{windows(j0), frac.data(), spectrum.data(), out.data()});
            plan_for(count).inverse(out);
        });
    }

    // Adds B^H-side sums of the (inverse-FFT'd) batch g onto out [m]: sum_j conj(O_j) g_j for
    // integer positions; with sub-pixel shifts the products go through F, conj(D_j) and are summed
    // into `acc_spectrum`, which the caller transforms back once at the end.
    void probe_adjoint_batch(const complex64* object, index_t j0, index_t count, View<complex64> g,
                             complex64* out, complex64* acc_spectrum) const {
        if (!subpixel) {
            detail::for_each(device, m, kp::ProbeAdjointGatherF{windows(j0), count, object, g.data(), out});
            return;
        }
        detail::for_each(device, count * m, kp::ConjObjectMulF{windows(j0), object, g.data()});
        plan_for(count).forward(g);
        detail::for_each(device, m, kp::UnshiftSumGatherF{windows(j0), count, frac.data(), g.data(), acc_spectrum});
    }

    void object_adjoint_batch(index_t k, index_t j0, index_t count, View<complex64> g, complex64* out) const {
        const kp::ProbeRef pr = probe_ref();
        const complex64* gd = g.data();
        scatter(k, j0, count, [&](auto atomic, const kp::Windows& w) {
            return kp::ObjectAdjointF<decltype(atomic)::value>{w, pr, gd, out};
        });
    }

    void require_view(const char* what, const Shape& got, const Shape& want, Device dev) const {
        require(got.size() == want.size(), std::string("ptycho::Model::") + what + ": expected an array of shape " +
                                               want.str() + ", got " + got.str());
        require(dev == device, std::string("ptycho::Model::") + what + ": the array is on " + device_name(dev) +
                                   " but the model is on " + device_name(device));
    }
};

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
    require(probe.shape() == probe_shape(),
            "ptycho::Model::set_probe: expected a probe of shape " + probe_shape().str() + ", got " + probe.shape().str());
    copy(probe, s.probe.view());
    s.update_shifted();
}

View<const complex64> Model::probe() const { return impl_->probe.view(); }

void Model::far_field(View<const complex64> object, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_view("far_field (object)", object.shape(), object_shape(), object.device());
    s.require_view("far_field (output)", out.shape(), data_shape(), out.device());
    s.for_batches([&](index_t, index_t j0, index_t count) {
        s.forward_batch(object.data(), j0, count, Impl::frames(out, j0, count, s.m));
    });
}

void Model::adjoint_object(View<const complex64> g, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_view("adjoint_object (input)", g.shape(), data_shape(), g.device());
    s.require_view("adjoint_object (output)", out.shape(), object_shape(), out.device());
    fill(out, complex64(0.0f));
    s.for_batches([&](index_t k, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        copy(View<const complex64>(g.data() + j0 * s.m, Shape{count * s.m}, g.device()), buf);
        s.plan_for(count).inverse(buf);
        s.object_adjoint_batch(k, j0, count, buf, out.data());
    });
}

void Model::far_field_of_probe(View<const complex64> probe, View<const complex64> object, View<complex64> out) const {
    const Impl& s = *impl_;
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
            detail::for_each(s.device, count * m, kp::ShiftSpectrumF{s.windows(j0), s.frac.data(), s.spectrum.data(), q.data()});
            s.plan_for(count).inverse(q);
            pr = kp::ProbeRef{q.data(), m, j0};
        }
        detail::for_each(s.device, count * m, kp::ExitWaveF{s.windows(j0), pr, object.data(), dst.data()});
        s.plan_for(count).forward(dst);
    });
}

void Model::adjoint_probe(View<const complex64> g, View<const complex64> object, View<complex64> out) const {
    const Impl& s = *impl_;
    s.require_view("adjoint_probe (input)", g.shape(), data_shape(), g.device());
    s.require_view("adjoint_probe (object)", object.shape(), object_shape(), object.device());
    s.require_view("adjoint_probe (output)", out.shape(), probe_shape(), out.device());
    fill(out, complex64(0.0f));
    Array<complex64> acc(Shape{s.m}, s.device);
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        copy(View<const complex64>(g.data() + j0 * s.m, Shape{count * s.m}, g.device()), buf);
        s.plan_for(count).inverse(buf);
        s.probe_adjoint_batch(object.data(), j0, count, buf, out.data(), acc.data());
    });
    if (s.subpixel) {
        s.plan_one.inverse(acc);
        copy(View<const complex64>(acc.view()), View<complex64>(out.data(), Shape{s.m}, out.device()));
    }
}

void Model::intensities(View<const complex64> object, View<float> out) const {
    const Impl& s = *impl_;
    s.require_view("intensities (object)", object.shape(), object_shape(), object.device());
    s.require_view("intensities (output)", out.shape(), data_shape(), out.device());
    Array<float> tmp(Shape{s.batch * s.m}, s.device);
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        detail::for_each(s.device, count * s.m, kern::ptycho::IntensityF{buf.data(), tmp.data()});
        // FFT order -> detector order (fftshift).
        detail::for_each(s.device, count * s.m,
                         kp::FrameShiftF{tmp.data(), out.data() + j0 * s.m, s.my, s.mx, (s.my + 1) / 2, (s.mx + 1) / 2});
    });
}

Array<float> Model::illumination() const {
    const Impl& s = *impl_;
    Array<float> out(object_shape(), s.device);
    const kp::ProbeRef pr = s.probe_ref();
    float* od = out.data();
    s.for_batches([&](index_t k, index_t j0, index_t count) {
        s.scatter(k, j0, count, [&](auto atomic, const kp::Windows& w) {
            return kp::IlluminationF<decltype(atomic)::value>{w, pr, od};
        });
    });
    return out;
}

Array<float> Model::object_power(View<const complex64> object) const {
    const Impl& s = *impl_;
    s.require_view("object_power", object.shape(), object_shape(), object.device());
    Array<float> out(probe_shape(), s.device);
    s.for_batches([&](index_t, index_t j0, index_t count) {
        detail::for_each(s.device, s.m, kp::ObjectPowerGatherF{s.windows(j0), count, object.data(), out.data()});
    });
    return out;
}

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
        require(std::isfinite(v) && v >= 0, "ptycho::Model::set_data: intensity " + std::to_string(v) + " at frame " +
                                                std::to_string(i / s.m) + " (intensities must be finite and >= 0)");
        if (!mk.empty() && mk[i % s.m] == 0.0f) continue;
        mx = std::max(mx, double(v));
        total += v;
        ++measured;
    }
    s.data_max = mx;
    s.data_total = total;
    s.data_mean = measured ? total / double(measured) : 0.0;
    const Array<float> yd = y.to(s.device);
    s.data = Array<float>(Shape{s.J * s.m}, s.device);
    // Detector order -> FFT order (ifftshift), once.
    detail::for_each(s.device, s.J * s.m, kp::FrameShiftF{yd.data(), s.data.data(), s.my, s.mx, s.my / 2, s.mx / 2});
    s.mask = Array<float>();
    if (!mk.empty()) {
        const Array<float> md = mk.to(s.device);
        s.mask = Array<float>(Shape{s.m}, s.device);
        detail::for_each(s.device, s.m, kp::FrameShiftF{md.data(), s.mask.data(), s.my, s.mx, s.my / 2, s.mx / 2});
    }
}

double Model::loss(Loss loss, View<const complex64> object, View<complex64> grad_object, View<complex64> grad_probe) const {
    const Impl& s = *impl_;
    require(has_data(), "ptycho::Model::loss: no measurements (call set_data first)");
    s.require_view("loss (object)", object.shape(), object_shape(), object.device());
    const bool want_o = !grad_object.empty(), want_p = !grad_probe.empty();
    if (want_o) {
        s.require_view("loss (object gradient)", grad_object.shape(), object_shape(), grad_object.device());
        fill(grad_object, complex64(0.0f));
    }
    Array<complex64> acc;
    if (want_p) {
        s.require_view("loss (probe gradient)", grad_probe.shape(), probe_shape(), grad_probe.device());
        fill(grad_probe, complex64(0.0f));
        if (s.subpixel) acc = Array<complex64>(Shape{s.m}, s.device);
    }
    const int kind = loss == Loss::amplitude ? kp::loss_amplitude
                     : loss == Loss::intensity ? kp::loss_intensity
                                               : kp::loss_poisson;
    const float eps = float(poisson_eps());
    double total = 0;
    s.for_batches([&](index_t k, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        total += detail::reduce<double>(
            s.device, count * s.m,
            kp::FarFieldLossF{buf.data(), s.data.data() + j0 * s.m, s.mask.empty() ? nullptr : s.mask.data(), s.m, kind, eps});
        if (!want_o && !want_p) return;
        s.plan_for(count).inverse(buf);
        if (want_o) s.object_adjoint_batch(k, j0, count, buf, grad_object.data());
        if (want_p) s.probe_adjoint_batch(object.data(), j0, count, buf, grad_probe.data(), acc.data());
    });
    if (want_p && s.subpixel) {
        s.plan_one.inverse(acc);
        copy(View<const complex64>(acc.view()), View<complex64>(grad_probe.data(), Shape{s.m}, grad_probe.device()));
    }
    return total;
}

double Model::intensity_curvature(View<const complex64> object) const {
    const Impl& s = *impl_;
    require(has_data(), "ptycho::Model::intensity_curvature: no measurements (call set_data first)");
    double best = 0;
    s.for_batches([&](index_t, index_t j0, index_t count) {
        View<complex64> buf = s.work_view(count);
        s.forward_batch(object.data(), j0, count, buf);
        best = std::max(best, detail::reduce<double>(s.device, count * s.m,
                                                     kp::IntensityCurvatureF{buf.data(), s.data.data() + j0 * s.m,
                                                                             s.mask.empty() ? nullptr : s.mask.data(), s.m},
                                                     kern::MaxOp()));
    });
    return best;
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
