// ePIE / rPIE (src/ptycho/pie.hpp). The positions are visited one after another (each update
// changes what the next position sees); the work inside one position is per-pixel functors run
// by the executors, so the same code runs on either device.
//
// Not parallel over frames (issue #16): frames of one non-overlapping colour set touch disjoint
// object pixels, but the sweep visits all positions in a fresh random order, every frame with
// probe refinement updates the one shared probe, and the (r)PIE step uses max|P|^2 of the probe
// as it is at that frame; processing a colour set at once would be another algorithm with other
// results. So the order stays, and each frame's FFT (plan_one, one m-element transform) runs on
// the calling thread by the size rule of src/fft_threads.hpp instead of waking FFTW's threads.
#include "src/ptycho/pie.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "src/ptycho/model_impl.hpp"

namespace lumen::ptycho {

SolverResult run_pie(Model& model, Array<complex64>& object, Array<complex64>& probe, const PieOptions& o,
                     const IterationHook& monitor) {
    const Model::Impl& s = model.internals();
    require(model.has_data(), "ptycho: (r)PIE needs measurements");
    const index_t J = s.J, m = s.m;
    const Device dev = s.device;
    const float* mask = s.mask.empty() ? nullptr : s.mask.data();

    Array<complex64> psi(Shape{m}, dev), pj(Shape{m}, dev), pj_old(Shape{m}, dev), acc(Shape{m}, dev);
    const double energy0 = norm2_squared(probe.view());
    const double total_photons = std::max(model.data_total(), 1e-30);
    // Distributed (docs/scaling.md): each rank sweeps its own frames from the common estimates,
    // then the ranks' objects are merged by their illumination-weighted mean and their probes by
    // their mean (synchronise_ranks), once per sweep. Not the serial algorithm: a rank's frames
    // do not see the other ranks' updates of the same sweep.
    const Communicator& ranks = *s.ranks;
    Array<float> weight;
    Array<complex64> weighted;
    auto synchronise_ranks = [&](bool refine) {
        if (!ranks.distributed()) return;
        if (weight.empty()) {
            weight = Array<float>(Shape{s.H * s.W}, dev);
            weighted = Array<complex64>(Shape{s.H * s.W}, dev);
        }
        s.illumination_into(weight.view(), false);  // this rank's frames, with the sweep's probe
        detail::for_each(dev, s.H * s.W, kp::WeightObjectF{weight.data(), object.data(), weighted.data()});
        ranks.sum(weighted.view());
        ranks.sum(weight.view());
        detail::for_each(dev, s.H * s.W, kp::WeightedMeanF{weighted.data(), weight.data(), object.data()});
        if (refine) {
            ranks.sum(probe.view());
            scale(complex64(float(1.0 / ranks.size())), probe.view());
        }
    };

    std::vector<index_t> order(static_cast<std::size_t>(J));
    std::iota(order.begin(), order.end(), index_t(0));
    std::mt19937_64 rng(o.seed * 0x2545F4914F6CDD1DULL + 7);

    SolverResult result;
    result.stop_reason = "max_iterations";
    // Checkpoint hook (issue #10): restore object and probe, replay the sweeps' shuffles.
    int first = 1;
    if (const SolverState* state = o.checkpoint ? o.checkpoint->resume : nullptr) {
        require(state->iteration >= 0 && state->iteration <= o.iterations,
                "ptycho: the checkpoint is at sweep " + std::to_string(state->iteration) + ", outside 0 to " +
                    std::to_string(o.iterations));
        state->get("object", object.view());
        state->get("probe", probe.view());
        model.set_probe(probe.view());
        for (first = 1; first <= state->iteration; ++first) std::shuffle(order.begin(), order.end(), rng);
        result.iterations = state->iteration;
    }
    const auto start = std::chrono::steady_clock::now();
    for (int k = first; k <= o.iterations; ++k) {
        const bool refine = o.refine_probe && k > o.probe_delay;
        std::shuffle(order.begin(), order.end(), rng);
        double loss = 0;
        for (const index_t j : order) {
            const kp::Windows w{s.corners.data(), nullptr, j, j, s.my, s.mx, s.W};
            // The probe as position j sees it.
            complex64* pd = probe.data();
            if (s.subpixel) {
                if (refine) {
                    // T_j P from the current probe (it changes at every position).
                    copy(View<const complex64>(probe.view().reshaped(Shape{m})), acc.view());
                    s.plan_one.forward(acc);
                    detail::for_each(dev, m, kp::ShiftSpectrumF{w, s.shift_tables(), acc.data(), pj.data()});
                    s.plan_one.inverse(pj);
                    copy(pj.view(), pj_old.view());
                } else {
                    copy(View<const complex64>(s.shifted.data() + j * m, Shape{m}, dev), pj.view());
                }
                pd = pj.data();
            }
            detail::for_each(dev, m, kp::ExitWaveF{w, kp::ProbeRef{pd, 0, 0}, object.data(), psi.data()});
            s.propagate(s.plan_one, psi, 1);
            loss += detail::reduce<double>(dev, m, kp::ModulusProjectF{psi.data(), s.data.data() + j * m, mask});
            s.back_propagate(s.plan_one, psi, 1);
            const double max_p = detail::reduce<double>(dev, m, kern::NormSqF<complex64>{pd}, kern::MaxOp());
            const double max_o =
                refine ? detail::reduce<double>(dev, m, kp::PatchNormSqF{w, object.data()}, kern::MaxOp()) : 0.0;
            detail::for_each(dev, m,
                                    kp::PieUpdateF{w, psi.data(), object.data(), pd, float(o.alpha), float(o.beta),
                                                   float(max_p), float(max_o), o.regularized ? 1 : 0, refine ? 1 : 0});
            if (refine && s.subpixel) {
                // Move the update of T_j P back to P: P += T_j^H (T_j P' - T_j P).
                lin_comb(complex64(1.0f), pj.view(), complex64(-1.0f),
                         pj_old.view(), pj.view());
                s.plan_one.forward(pj);
                fill(acc.view(), complex64(0.0f));
                detail::for_each(dev, m, kp::UnshiftSumGatherF{w, 1, s.shift_tables(), pj.data(), acc.data()});
                s.plan_one.inverse(acc);
                axpy(complex64(1.0f), acc.view(), probe.view().reshaped(Shape{m}));
            }
        }
        if (ranks.distributed()) {
            if (refine) model.set_probe(probe.view());  // the illumination weights use the rank's final probe
            synchronise_ranks(refine);
            loss = ranks.sum(loss);
        }
        if (!std::isfinite(loss) || !all_finite(object.view()))
            throw Error(ErrorCode::failure, std::string(o.regularized ? "rPIE" : "ePIE") + " diverged at sweep " +
                                                std::to_string(k) + " (non-finite values)");
        if (refine) {
            // Same scale convention as AWF: the probe keeps its starting energy.
            const double e = norm2_squared(probe.view());
            if (e > 0 && std::isfinite(e)) {
                const double c = std::sqrt(e / energy0);
                scale(complex64(float(1.0 / c)), probe.view());
                scale(complex64(float(c)), object.view());
            }
            model.set_probe(probe.view());
        }
        IterationInfo info;
        info.iteration = k;
        info.objective = loss;
        info.residual = std::sqrt(2.0 * loss / total_photons);
        info.step = o.alpha;
        info.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const char* rule = nullptr;  // the stopping rule's reason to stop after this sweep
        if (o.guard) {
            // The model holds the sweep's final probe (set above when refined, else the fixed one).
            const double misfit = o.guard->misfit(k, object.view(), probe.view(), false);
            if (o.discrepancy_tau > 0) {
                info.misfit = misfit;
                if (misfit <= o.discrepancy_tau) rule = "discrepancy";
            }
            if (o.guard->diverging(k, object.view(), probe.view()) && !rule) rule = "diverged";
        }
        result.history.push_back(info);
        result.iterations = k;
        result.elapsed_s = info.elapsed_s;
        if (monitor && !monitor(info, object.view(), probe.view())) {
            result.stop_reason = "callback";
            break;
        }
        bool stop = false;  // checkpoint hook (issue #10)
        if (o.checkpoint && o.checkpoint->due(k, &stop)) {
            SolverState state;
            state.iteration = k;
            state.put("object", View<const complex64>(object.view()));
            state.put("probe", View<const complex64>(probe.view()));
            o.checkpoint->save(state);
            if (stop) {
                result.stop_reason = "interrupted";
                break;
            }
        }
        if (rule) {
            result.stop_reason = rule;
            break;
        }
    }
    return result;
}

}  // namespace lumen::ptycho
