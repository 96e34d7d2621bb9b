// The internals of ptycho::Model, shared by the host code of the module (model.cpp, pie.cpp):
// batching over positions, FFT plans, buffers, the overlap-add colouring, and the dispatch of the
// functors of kernels/ptycho/ptycho_ops.hpp. Not installed.
#pragma once

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
#include "lumen/ptycho/model.hpp"
#include "src/executor.hpp"

namespace lumen::ptycho {

namespace kp = kern::ptycho;

void require_positions(View<const float> positions, const std::string& what);

struct Model::Impl {
    index_t J = 0, my = 0, mx = 0, m = 0, H = 0, W = 0, batch = 1;
    index_t K = 1;  // incoherent probe modes
    index_t N = 1;  // object slices
    // The ranks the frames are split over (ModelOptions::ranks; single_rank() when not
    // distributed) and the frames of all of them. Declared before the plans: make_plans sets them.
    const Communicator* ranks = &single_rank();
    index_t total_J = 0;
    Device device = Device::cpu;
    bool subpixel = false;
    bool allow_subpixel = true;  // ModelOptions::subpixel
    Array<index_t> corners_host;
    Array<float> frac_host;
    Array<index_t> corners;  // on the device
    mutable Array<index_t> moved_corners;  // [J][2] on the device: Model::frame_losses' windows
    Array<complex64> phase_y, phase_x;  // [J][my], [J][mx] Fourier-shift factors (sub-pixel only)
    // CPU overlap-add: for each batch, groups of positions whose windows are disjoint.
    struct Group {
        index_t offset, count;
    };
    std::vector<std::vector<Group>> groups;
    Array<index_t> group_list;  // host
    Array<complex64> probe;     // [my][mx], or [K][my][mx] with probe modes
    Array<complex64> probe_spectrum;  // [K][m] F P_k (FFT order), for the position gradient
    Array<complex64> shifted;   // [K][J][my][mx] when subpixel: P_jk = T_j P_k
    // plan_batch and plan_tail transform the K modes of a batch at once (batch * K frames).
    FftPlan plan_batch, plan_one;
    std::optional<FftPlan> plan_modes;  // K frames (K > 1)
    std::optional<FftPlan> plan_tail;
    mutable Array<complex64> work, work2, spectrum;
    mutable Array<float> illum_buf, power_buf;
    // illum_buf and its maximum hold the current probe's and positions' illumination (false after
    // update_shifted: every probe or position change goes through it).
    mutable bool illum_fresh = false;
    mutable double illum_max = 0;
    bool near = false;
    Array<complex64> transfer;  // [m] the Fresnel transfer function (near field only)
    Array<complex64> slice_transfer;  // [m] the transfer function over one slice distance (N > 1)
    // N > 1: the waves incident on slices 2..N of the current batch, [N - 1][K][count][m] (kept
    // by the forward pass for the gradients).
    mutable Array<complex64> layers;
    // N > 1: the illumination reaching slices 2..N, [N - 1][H][W], and the bounds L_n that the
    // last loss() with an object gradient computed from it (Model::last_lipschitz_slices).
    mutable Array<float> slice_illum;
    mutable std::vector<double> last_bounds;
    // Sums over the ranks of what each rank's frames contribute (no-ops on one rank).
    void sum_over_ranks(View<float> v) const { ranks->sum(v); }
    void sum_over_ranks(View<complex64> v) const { ranks->sum(v); }
    double sum_over_ranks(double v) const { return ranks->sum(v); }
    double max_over_ranks(double v) const { return ranks->max(v); }
    Array<float> data;  // [J][m], FFT order (far field) or as measured (near field)
    Array<float> mask;  // [m], FFT order, or empty
    // poisson_amplitude_variance at the table's nodes (kernels/ptycho/ptycho_ops.hpp), made by
    // the first residual().
    mutable Array<double> variance_table;
    double data_max = 0, data_total = 0, data_mean = 0;

    Impl(const Shape& obj, const Shape& prb, View<const float> positions_v, Device dev, const ModelOptions& opt)
        : plan_batch(make_plans(obj, prb, positions_v, dev, opt)), plan_one({prb[0], prb[1]}, 1, dev) {
        if (J % batch) plan_tail.emplace(std::vector<index_t>{my, mx}, (J % batch) * K, dev);
        if (K > 1) plan_modes.emplace(std::vector<index_t>{my, mx}, K, dev);
        probe = Array<complex64>(K > 1 ? Shape{K, my, mx} : Shape{my, mx}, device);
        probe_spectrum = Array<complex64>(Shape{K * m}, device);
        work = Array<complex64>(Shape{batch * K * m}, device);
        spectrum = Array<complex64>(Shape{m}, device);
        if (subpixel) shifted = Array<complex64>(Shape{K * J * m}, device);
        if (device == Device::cpu) make_groups();
        near = opt.near_field();
        if (near) transfer = fresnel_transfer(opt.fresnel_y, opt.fresnel_x);
        if (N > 1) {
            require(std::isfinite(opt.slice_fresnel_y) && std::isfinite(opt.slice_fresnel_x) && opt.slice_fresnel_y > 0 &&
                        opt.slice_fresnel_x > 0,
                    "ptycho::Model: a multi-slice object needs the slice coefficients lambda dz / (n p)^2 finite and > 0");
            slice_transfer = fresnel_transfer(opt.slice_fresnel_y, opt.slice_fresnel_x);
            layers = Array<complex64>(Shape{(N - 1) * batch * K * m}, device);
        }
    }

    // H(k) = exp(-i pi (a_y ky^2 + a_x kx^2)) in FFT order, signed frequencies, in double: the
    // Fresnel propagator of the near field, and between the slices of a multi-slice object.
    Array<complex64> fresnel_transfer(double ay, double ax) const {
        require(std::isfinite(ay) && std::isfinite(ax) && ay >= 0 && ax >= 0,
                "ptycho::Model: the near-field coefficients lambda z / (n p)^2 must be finite and >= 0");
        Array<complex64> h(Shape{m});
        for (index_t y = 0; y < my; ++y)
            for (index_t x = 0; x < mx; ++x) {
                const double ky = double(y < (my + 1) / 2 ? y : y - my), kx = double(x < (mx + 1) / 2 ? x : x - mx);
                const double ph = -kPi * (ay * ky * ky + ax * kx * kx);
                h[y * mx + x] = complex64(float(std::cos(ph)), float(std::sin(ph)));
            }
        return h.to(device);
    }

    // One slice distance of Fresnel propagation within each frame, in place: F^H H F, or its
    // adjoint F^H conj(H) F (propagation over -dz).
    void propagate_slice(const FftPlan& plan, View<complex64> buf, index_t count, bool adjoint) const {
        plan.forward(buf);
        detail::for_each(device, count * m, kp::TransferF{buf.data(), slice_transfer.data(), m, adjoint ? 1 : 0});
        plan.inverse(buf);
    }
    index_t object_size() const { return H * W; }
    Shape stack_shape() const { return N > 1 ? Shape{N, H, W} : Shape{H, W}; }
    // The incident wave on slice n (1-based, n >= 2) of mode k, for a batch of `count` positions.
    complex64* layer(index_t n, index_t k, index_t count) const {
        return layers.data() + ((n - 2) * K + k) * count * m;
    }

    // Exit waves -> detector fields in place: F (far field) or F^H H F (near field).
    void propagate(const FftPlan& plan, View<complex64> buf, index_t count) const {
        plan.forward(buf);
        if (!near) return;
        detail::for_each(device, count * m, kp::TransferF{buf.data(), transfer.data(), m, 0});
        plan.inverse(buf);
    }
    // The adjoint: F^H (far field) or F^H conj(H) F (near field).
    void back_propagate(const FftPlan& plan, View<complex64> buf, index_t count) const {
        if (near) {
            plan.forward(buf);
            detail::for_each(device, count * m, kp::TransferF{buf.data(), transfer.data(), m, 1});
        }
        plan.inverse(buf);
    }
    // Far-field frames are measured centred and used in FFT order (shift n / 2); near-field
    // frames are images, used as they are.
    index_t data_shift_y() const { return near ? 0 : my / 2; }
    index_t data_shift_x() const { return near ? 0 : mx / 2; }

    // Validates the geometry, fills the sizes and positions, and returns the batch plan.
    FftPlan make_plans(const Shape& obj, const Shape& prb, View<const float> positions_v, Device dev,
                       const ModelOptions& opt) {
        require_positions(positions_v, "ptycho::Model");
        require(prb.rank() == 2 && prb[0] >= 1 && prb[1] >= 1,
                "ptycho::Model: the probe shape must be [my][mx], got " + prb.str());
        require(obj.rank() == 2 && obj[0] >= prb[0] && obj[1] >= prb[1],
                "ptycho::Model: the object shape must be [H][W] at least as large as the probe " + prb.str() +
                    ", got " + obj.str());
        require(opt.modes >= 1 && opt.modes <= 64,
                "ptycho::Model: the number of probe modes must be 1 to 64, got " + std::to_string(opt.modes));
        require(opt.slices >= 1 && opt.slices <= 64,
                "ptycho::Model: the number of object slices must be 1 to 64, got " + std::to_string(opt.slices));
        device = dev;
        if (opt.ranks) ranks = opt.ranks;
        K = opt.modes;
        N = opt.slices;
        allow_subpixel = opt.subpixel;
        J = positions_v.dim(0);
        {
            std::int64_t all = J;
            ranks->sum(&all, 1);
            total_J = all;
        }
        my = prb[0];
        mx = prb[1];
        m = my * mx;
        H = obj[0];
        W = obj[1];
        place(positions_v);
        // N > 1 slices keep N - 1 incident waves per frame besides the work buffer.
        const index_t per_batch = std::max<index_t>(1, (index_t(256) << 20) / (N * K * m * index_t(sizeof(complex64))));
        batch = std::min(J, opt.batch > 0 ? opt.batch : per_batch);
        return FftPlan({my, mx}, batch * K, device);
    }

    // The integer corners and sub-pixel remainders of the positions (and the shift tables); the
    // windows must lie inside the object.
    void place(View<const float> positions_v) {
        const Array<float> p = Array<float>::copy_of(positions_v, Device::cpu);
        corners_host = Array<index_t>(Shape{J, 2});
        frac_host = Array<float>(Shape{J, 2});
        bool any_frac = false;
        for (index_t j = 0; j < J; ++j) {
            for (int a = 0; a < 2; ++a) {
                const double v = p[2 * j + a];
                if (!std::isfinite(v)) require(false, "ptycho::Model: position " + std::to_string(j) + " is not finite");
                double c = allow_subpixel ? std::floor(v) : std::round(v);
                double f = allow_subpixel ? v - c : 0.0;
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
            if (!(r >= 0 && c >= 0 && r + my <= H && c + mx <= W))
                require(false,
                    "ptycho::Model: the probe window of position " + std::to_string(j) + " at (" + std::to_string(p[2 * j]) +
                        ", " + std::to_string(p[2 * j + 1]) + ") leaves the object " + Shape{H, W}.str());
        }
        subpixel = any_frac;
        corners = corners_host.to(device);
        if (subpixel) make_shift_tables();
    }

    // New positions (position refinement): corners, remainders, shift tables, the CPU colouring
    // and the shifted probes follow; batches and plans stay.
    void move_to(View<const float> positions_v) {
        place(positions_v);
        if (subpixel && shifted.empty()) shifted = Array<complex64>(Shape{K * J * m}, device);
        if (device == Device::cpu) {
            groups.clear();
            make_groups();
        }
        update_shifted();
    }

    // The separable Fourier-shift factors exp(-2 pi i k f / n) per position and axis (signed k),
    // in double precision.
    void make_shift_tables() {
        Array<complex64> ty(Shape{J, my}), tx(Shape{J, mx});
        auto fill_axis = [&](Array<complex64>& t, index_t n, int axis) {
            for (index_t j = 0; j < J; ++j)
                for (index_t r = 0; r < n; ++r) {
                    const double k = double(r < (n + 1) / 2 ? r : r - n);
                    const double ph = -2.0 * kPi * k * double(frac_host[2 * j + axis]) / double(n);
                    t[j * n + r] = complex64(float(std::cos(ph)), float(std::sin(ph)));
                }
        };
        fill_axis(ty, my, 0);
        fill_axis(tx, mx, 1);
        phase_y = ty.to(device);
        phase_x = tx.to(device);
    }
    kp::ShiftTables shift_tables() const {
        return subpixel ? kp::ShiftTables{phase_y.data(), phase_x.data(), my, mx} : kp::ShiftTables{nullptr, nullptr, my, mx};
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

    // The plan for a batch of `count` positions: count * K frames (the modes of each position).
    const FftPlan& plan_for(index_t count) const { return count == batch ? plan_batch : *plan_tail; }
    const FftPlan& plan_all_modes() const { return K > 1 ? *plan_modes : plan_one; }

    kp::Windows windows(index_t j0) const {
        return kp::Windows{corners.data(), nullptr, j0, j0, my, mx, W};
    }
    // The probe (mode k) as the positions see it.
    kp::ProbeRef probe_ref(index_t k = 0) const {
        return subpixel ? kp::ProbeRef{shifted.data() + k * J * m, m, 0} : kp::ProbeRef{probe.data() + k * m, 0, 0};
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
    // The batch buffer: [K][count][m] (mode-major, so one mode's frames are contiguous).
    View<complex64> work_view(index_t count) const { return View<complex64>(work.data(), Shape{K * count * m}, device); }

    // psi_k = F(P_jk O_j) for positions [j0, j0 + count) and every mode into `out` ([K][count][m]).
    // N > 1 slices (object: the stack [N][H][W]): psi_1 = P_jk O_1, psi_n = Prop_dz(psi_{n-1}) O_n,
    // the incident waves Prop_dz(psi_{n-1}) kept in `layers`; then the detector propagation
    // (skipped when to_detector is false: the exit waves of the last slice stay in `out`).
    void forward_batch(const complex64* object, index_t j0, index_t count, View<complex64> out,
                       bool to_detector = true) const {
        const index_t cm = count * m;
        for (index_t k = 0; k < K; ++k)
            detail::for_each(device, cm, kp::ExitWaveF{windows(j0), probe_ref(k), object, out.data() + k * cm});
        for (index_t n = 2; n <= N; ++n) {
            propagate_slice(plan_for(count), out, count * K, false);
            copy(View<const complex64>(out.data(), Shape{K * cm}, device), View<complex64>(layer(n, 0, count), Shape{K * cm}, device));
            // In place: the "probe" of ExitWaveF is the incident wave itself (stride m from j0).
            for (index_t k = 0; k < K; ++k)
                detail::for_each(device, cm, kp::ExitWaveF{windows(j0), kp::ProbeRef{out.data() + k * cm, m, j0},
                                                            object + (n - 1) * object_size(), out.data() + k * cm});
        }
        if (to_detector) propagate(plan_for(count), out, count * K);
    }

    // The multi-slice part of the gradient: g ([K][count][m]) holds the gradient with respect to
    // the last slice's exit waves (after back-propagation from the detector); for n = N .. 2 adds
    // S^T (conj(q_n) g) onto slice n of grad_object (when not null), then g <- Prop_{-dz}(conj(O_n) g).
    // On return g is the gradient with respect to psi_1 = P O_1, as in the single-slice model.
    // Needs the layers of forward_batch for this batch.
    void slices_adjoint_batch(index_t batch_index, const complex64* object, index_t j0, index_t count, View<complex64> g,
                              complex64* grad_object) const {
        const index_t cm = count * m;
        for (index_t n = N; n >= 2; --n) {
            const complex64* slice = object + (n - 1) * object_size();
            for (index_t k = 0; k < K; ++k) {
                complex64* gk = g.data() + k * cm;
                if (grad_object) {
                    const kp::ProbeRef incident{layer(n, k, count), m, j0};
                    complex64* out = grad_object + (n - 1) * object_size();
                    scatter(batch_index, j0, count, [&](auto atomic, const kp::Windows& w) {
                        return kp::ObjectAdjointF<decltype(atomic)::value>{w, incident, gk, out};
                    });
                }
                detail::for_each(device, cm, kp::ConjObjectMulF{windows(j0), slice, gk});
            }
            propagate_slice(plan_for(count), g, count * K, true);
        }
    }

    // Adds the illumination of the incident waves of this batch (kept by forward_batch) onto the
    // maps of slices 2..N in slice_illum.
    void add_slice_illumination(index_t batch_index, index_t j0, index_t count) const {
        for (index_t n = 2; n <= N; ++n)
            for (index_t k = 0; k < K; ++k) {
                const kp::ProbeRef incident{layer(n, k, count), m, j0};
                float* out = slice_illum.data() + (n - 2) * object_size();
                scatter(batch_index, j0, count, [&](auto atomic, const kp::Windows& w) {
                    return kp::IlluminationF<decltype(atomic)::value>{w, incident, out};
                });
            }
    }
    void clear_slice_illumination() const {
        if (slice_illum.empty()) slice_illum = Array<float>(Shape{(N - 1) * object_size()}, device);
        fill(slice_illum.view(), 0.0f);
    }
    // L_n from the maps in slice_illum and the probe's illumination of slice 1: each map's maximum
    // times prod_{m > n} max |O_m|^2 (what leaves slice n passes unitary propagations and the later
    // slices, which grow a perturbation's norm by at most their largest modulus).
    std::vector<double> slice_bounds(const complex64* object, double probe_bound) const {
        sum_over_ranks(slice_illum.view());
        std::vector<double> bound{probe_bound};
        for (index_t n = 2; n <= N; ++n)
            bound.push_back(max_of(View<const float>(slice_illum.data() + (n - 2) * object_size(), Shape{object_size()}, device)));
        double behind = 1.0;
        for (index_t n = N; n >= 1; --n) {
            bound[std::size_t(n - 1)] *= behind;
            behind *= slice_max_power(object, n);
        }
        return bound;
    }

    // The largest |O_n|^2 over the scanned windows of slice n (1-based) of a stack.
    double slice_max_power(const complex64* object, index_t n) const {
        const kp::Windows all{corners.data(), nullptr, 0, 0, my, mx, W};
        return max_over_ranks(
            detail::reduce<double>(device, J * m, kp::PatchNormSqF{all, object + (n - 1) * object_size()}, kern::MaxOp()));
    }

    // Recomputes the probe spectra F P_k and the shifted probes P_jk = F^H D_j F P_k.
    void update_shifted() {
        illum_fresh = false;
        copy(View<const complex64>(probe.data(), Shape{K * m}, device), probe_spectrum.view());
        plan_all_modes().forward(probe_spectrum);
        if (!subpixel) return;
        for_batches([&](index_t, index_t j0, index_t count) {
            View<complex64> buf = work_view(count);
            for (index_t k = 0; k < K; ++k)
                detail::for_each(device, count * m, kp::ShiftSpectrumF{windows(j0), shift_tables(), probe_spectrum.data() + k * m,
                                                                      buf.data() + k * count * m});
            plan_for(count).inverse(buf);
            for (index_t k = 0; k < K; ++k)
                copy(View<const complex64>(buf.data() + k * count * m, Shape{count * m}, device),
                     View<complex64>(shifted.data() + (k * J + j0) * m, Shape{count * m}, device));
        });
    }

    // The probe side of a batch of exit-wave gradients g ([K][count][m], after back-propagation;
    // overwritten): adds the B^H sums onto out [K][m] when `out` is not null (sum_j conj(O_j) g_jk
    // for integer positions; with sub-pixel shifts the products go through F, conj(D_j) and are
    // summed into `acc_spectrum` [K][m], which the caller transforms back once at the end), and the
    // position gradient onto grad_positions [J][2] when that is not null.
    void probe_adjoint_batch(const complex64* object, index_t j0, index_t count, View<complex64> g,
                             complex64* out, complex64* acc_spectrum, float* grad_positions = nullptr) const {
        const index_t cm = count * m;
        if (out && !subpixel)
            for (index_t k = 0; k < K; ++k)
                detail::for_each(device, m, kp::ProbeAdjointGatherF{windows(j0), count, object, g.data() + k * cm, out + k * m});
        if (!(out && subpixel) && !grad_positions) return;
        for (index_t k = 0; k < K; ++k)
            detail::for_each(device, cm, kp::ConjObjectMulF{windows(j0), object, g.data() + k * cm});
        plan_for(count).forward(g);
        for (index_t k = 0; k < K; ++k) {
            if (grad_positions)
                detail::for_each(device, 2 * count,
                                 kp::PositionGradientGatherF{j0, shift_tables(), g.data() + k * cm,
                                                             probe_spectrum.data() + k * m, grad_positions});
            if (out && subpixel)
                detail::for_each(device, m, kp::UnshiftSumGatherF{windows(j0), count, shift_tables(), g.data() + k * cm,
                                                                  acc_spectrum + k * m});
        }
    }

    void object_adjoint_batch(index_t batch_index, index_t j0, index_t count, View<complex64> g, complex64* out) const {
        for (index_t k = 0; k < K; ++k) {
            const kp::ProbeRef pr = probe_ref(k);
            const complex64* gd = g.data() + k * count * m;
            scatter(batch_index, j0, count, [&](auto atomic, const kp::Windows& w) {
                return kp::ObjectAdjointF<decltype(atomic)::value>{w, pr, gd, out};
            });
        }
    }

    // sum_j sum_k |P_jk|^2 onto the object grid `out` (zeroed here); over every rank's frames, or
    // (all_ranks false) over this rank's own.
    void illumination_into(View<float> out, bool all_ranks = true) const {
        fill(out, 0.0f);
        float* od = out.data();
        for (index_t mode = 0; mode < K; ++mode) {
            const kp::ProbeRef pr = probe_ref(mode);
            for_batches([&](index_t k, index_t j0, index_t count) {
                scatter(k, j0, count, [&](auto atomic, const kp::Windows& w) {
                    return kp::IlluminationF<decltype(atomic)::value>{w, pr, od};
                });
            });
        }
        if (all_ranks) sum_over_ranks(out);
    }
    // sum_j |O(c_j + r)|^2 onto the probe grid `out` (zeroed here).
    void object_power_into(const complex64* object, View<float> out) const {
        fill(out, 0.0f);
        for_batches([&](index_t, index_t j0, index_t count) {
            detail::for_each(device, m, kp::ObjectPowerGatherF{windows(j0), count, object, out.data()});
        });
        sum_over_ranks(out);
    }
    static double max_of(View<const float> v) {
        return detail::reduce<double>(v.device(), v.size(), kern::SumF<float, double>{v.data()}, kern::MaxOp());
    }

    void require_single_slice(const char* what) const {
        require(N == 1, std::string("ptycho::Model::") + what + ": the linear maps are the single-slice model; this model has " +
                            std::to_string(N) + " object slices (use loss() and intensities())");
    }

    void require_single_mode(const char* what) const {
        require(K == 1, std::string("ptycho::Model::") + what + ": the linear maps are the single-mode model; this model has " +
                            std::to_string(K) + " probe modes (use loss() and intensities())");
    }

    void require_view(const char* what, const Shape& got, const Shape& want, Device dev) const {
        require(got.size() == want.size(), std::string("ptycho::Model::") + what + ": expected an array of shape " +
                                               want.str() + ", got " + got.str());
        require(dev == device, std::string("ptycho::Model::") + what + ": the array is on " + device_name(dev) +
                                   " but the model is on " + device_name(device));
    }
};


}  // namespace lumen::ptycho
