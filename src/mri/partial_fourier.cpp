// Partial-Fourier detection and POCS; the per-element math is in kernels/mri/partial_fourier.hpp.
#include "lumen/mri/partial_fourier.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/mri/partial_fourier.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/sense.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::mri {

double PartialFourierAxis::fraction() const {
    const index_t c = n / 2, reach = std::max(c - lo, hi - c);
    return reach > 0 ? double(hi - lo) / double(2 * reach) : 1.0;
}

index_t PartialFourierAxis::half_symmetric() const { return std::max<index_t>(0, std::min(n / 2 - lo, hi - n / 2)); }

std::string PartialFourierAxis::describe(const char* axis) const {
    return std::string(axis) + " " + std::to_string(int(std::lround(100.0 * fraction()))) + " % acquired (" +
           std::to_string(lo) + " to " + std::to_string(hi - 1) + " of 0 to " + std::to_string(n - 1) + ", centre " +
           std::to_string(n / 2) + ")";
}

namespace {

// occupied[i]: line i holds a sample. header [first, last): the header's acquired extent.
PartialFourierAxis detect_axis(const std::vector<char>& occupied, index_t first, index_t last) {
    PartialFourierAxis a;
    a.n = index_t(occupied.size());
    const index_t c = a.n / 2;
    a.lo = a.n;
    a.hi = 0;
    for (index_t i = 0; i < a.n; ++i)
        if (occupied[std::size_t(i)]) {
            a.lo = std::min(a.lo, i);
            a.hi = i + 1;
        }
    if (a.hi <= a.lo) {
        a.lo = 0;
        a.hi = a.n;
        return a;
    }
    // One sample of slack: even and odd centre conventions differ by one.
    a.declared = std::abs((c - first) - (last - c)) >= 2;
    const index_t below = c - a.lo, above = a.hi - c, d = std::abs(below - above);
    if (d < 2 || a.lo > c || a.hi <= c) return a;
    // The band the short side lacks, seen on the long side.
    const index_t b0 = below > above ? a.lo : c + below, b1 = below > above ? c - above : a.hi;
    index_t u = 0;
    for (index_t i = b0; i < b1; ++i) u += occupied[std::size_t(i)] ? 1 : 0;
    const double rho = double(u) / double(d);
    // P(an undersampling mask of this density leaves d lines empty) = (1 - rho)^d.
    const bool significant = rho >= 1.0 || double(d) * -std::log1p(-rho) > std::log(1000.0);
    a.partial = a.declared || significant;
    return a;
}

// Per axis: 1 on the acquired extent, 2 on the band POCS fills (the mirror image of the long
// side's extra reach), 0 elsewhere.
std::vector<int> axis_roles(const PartialFourierAxis& a) {
    std::vector<int> r(std::size_t(a.n), 0);
    for (index_t i = a.lo; i < a.hi; ++i) r[std::size_t(i)] = 1;
    if (!a.partial) return r;
    const index_t c = a.n / 2;
    index_t f0 = 0, f1 = 0;
    if (c - a.lo > a.hi - c) {  // the high side is missing: mirror of lo is 2c - lo
        f0 = a.hi;
        f1 = std::min(a.n, 2 * c - a.lo + 1);
    } else {  // the low side is missing: mirror of hi - 1
        f0 = std::max<index_t>(0, 2 * c - (a.hi - 1));
        f1 = a.lo;
    }
    for (index_t i = f0; i < f1; ++i) r[std::size_t(i)] = 2;
    return r;
}

// Hann taper over the symmetric centre [c - h, c + h) of a partial axis (1 along a full axis).
std::vector<float> axis_window(const PartialFourierAxis& a) {
    std::vector<float> w(std::size_t(a.n), 1.0f);
    if (!a.partial) return w;
    const index_t c = a.n / 2, h = a.half_symmetric();
    for (index_t i = 0; i < a.n; ++i) {
        const double t = double(i - c) / double(std::max<index_t>(h, 1));
        w[std::size_t(i)] = std::abs(t) < 1.0 ? float(0.5 + 0.5 * std::cos(kPi * t)) : 0.0f;
    }
    return w;
}

}  // namespace

PartialFourier detect_partial_fourier(View<const float> mask, index_t first_row, index_t last_row, index_t first_column,
                                      index_t last_column) {
    require(mask.rank() == 2, "detect_partial_fourier: the mask must be [H][W], got " + mask.shape().str());
    const Array<float> m = Array<float>::copy_of(mask, Device::cpu);
    const index_t H = m.dim(0), W = m.dim(1);
    std::vector<char> rows(std::size_t(H), 0), cols(std::size_t(W), 0);
    for (index_t y = std::max<index_t>(0, first_row); y < std::min(H, last_row); ++y)
        for (index_t x = std::max<index_t>(0, first_column); x < std::min(W, last_column); ++x)
            if (m[y * W + x] != 0.0f) rows[std::size_t(y)] = cols[std::size_t(x)] = 1;
    PartialFourier pf;
    pf.rows = detect_axis(rows, first_row, last_row);
    pf.cols = detect_axis(cols, first_column, last_column);
    return pf;
}

void pocs_partial_fourier(View<complex64> kspace, View<const float> mask, const PartialFourier& pf, int iterations) {
    require(kspace.rank() == 3, "pocs_partial_fourier: k-space must be [coils][H][W], got " + kspace.shape().str());
    const index_t H = kspace.dim(1), W = kspace.dim(2), n = H * W;
    require(mask.shape() == Shape({H, W}) && pf.rows.n == H && pf.cols.n == W,
            "pocs_partial_fourier: the mask or the partial-Fourier extent does not match the k-space plane " +
                Shape({H, W}).str());
    if (!pf.any() || iterations <= 0) return;
    const Device dev = kspace.device();
    const std::vector<int> rr = axis_roles(pf.rows), cr = axis_roles(pf.cols);
    const std::vector<float> wr = axis_window(pf.rows), wc = axis_window(pf.cols);
    Array<float> fill(Shape{H, W}), window(Shape{H, W});
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
            const int a = rr[std::size_t(y)], b = cr[std::size_t(x)];
            fill[y * W + x] = (a != 0 && b != 0 && !(a == 1 && b == 1)) ? 1.0f : 0.0f;
            window[y * W + x] = wr[std::size_t(y)] * wc[std::size_t(x)];
        }
    const Array<float> fill_d = fill.to(dev), window_d = window.to(dev), mask_d = Array<float>::copy_of(mask, dev);
    const FftPlan plan = FftPlan::for_shape(kspace.shape(), 2, dev);
    Array<complex64> data = Array<complex64>::copy_of(kspace, dev);
    apply_mask(data.view(), mask_d.view(), data.view());
    // The phase estimate from the symmetric centre only: its k-space is what both sides share.
    Array<complex64> phase(kspace.shape(), dev);
    apply_mask(data.view(), window_d.view(), phase.view());
    plan.inverse_centered(phase.view());
    detail::for_each(dev, phase.size(), kern::UnitPhaseF{phase.data(), phase.data()});
    Array<complex64> k = data.clone();
    for (int it = 0; it < iterations; ++it) {
        plan.inverse_centered(k.view());
        detail::for_each(dev, k.size(), kern::PhaseConstrainF{k.data(), phase.data()});
        plan.forward_centered(k.view());
        detail::for_each(dev, k.size(), kern::PocsConsistencyF{data.data(), mask_d.data(), fill_d.data(), k.data(), n});
    }
    copy(k.view(), kspace);
}

namespace {

class PhaseConstrainedOperator final : public LinearOperator<complex64> {
public:
    PhaseConstrainedOperator(LinOpPtr<complex64> a, View<const complex64> phase)
        : a_(std::move(a)),
          phase_(phase),
          tmp_(a_->domain_shape(), a_->device()),
          tmp2_(a_->domain_shape(), a_->device()) {}
    Shape domain_shape() const override { return a_->domain_shape(); }
    Shape range_shape() const override { return a_->range_shape(); }
    Device device() const override { return a_->device(); }
    void apply(View<const complex64> r, View<complex64> y) const override {
        detail::for_each(device(), r.size(), kern::ApplyPhaseF{r.data(), phase_.data(), tmp_.data()});
        a_->apply(tmp_.view(), y);
    }
    void apply_adjoint(View<const complex64> y, View<complex64> r) const override {
        a_->apply_adjoint(y, tmp_.view());
        detail::for_each(device(), r.size(), kern::ProjectPhaseF{tmp_.data(), phase_.data(), r.data()});
    }
    void apply_normal(View<const complex64> r, View<complex64> out) const override {
        detail::for_each(device(), r.size(), kern::ApplyPhaseF{r.data(), phase_.data(), tmp_.data()});
        a_->apply_normal(tmp_.view(), tmp2_.view());
        detail::for_each(device(), out.size(), kern::ProjectPhaseF{tmp2_.data(), phase_.data(), out.data()});
    }

private:
    LinOpPtr<complex64> a_;
    View<const complex64> phase_;  // owned by the PhaseConstrained result, which outlives the solve
    mutable Array<complex64> tmp_, tmp2_;
};

}  // namespace

PhaseConstrained phase_constrained(LinOpPtr<complex64> A, View<const complex64> image, const PartialFourier& pf) {
    require(image.shape() == A->domain_shape() && image.rank() == 2,
            "phase_constrained: the image estimate of shape " + image.shape().str() +
                " does not match the operator's domain " + A->domain_shape().str());
    const index_t H = image.dim(0), W = image.dim(1);
    require(pf.rows.n == H && pf.cols.n == W, "phase_constrained: the partial-Fourier extent does not match the image");
    const Device dev = A->device();
    const std::vector<float> wr = axis_window(pf.rows), wc = axis_window(pf.cols);
    Array<float> window(Shape{H, W});
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) window[y * W + x] = wr[std::size_t(y)] * wc[std::size_t(x)];
    const Array<float> window_d = window.to(dev);
    // Low-pass the estimate to the symmetric centre: the part of its k-space both sides measured.
    PhaseConstrained out;
    out.phase = Array<complex64>::copy_of(image, dev);
    const FftPlan plan = FftPlan::for_shape(out.phase.shape(), 2, dev);
    plan.forward_centered(out.phase.view());
    apply_mask(out.phase.view(), window_d.view(), out.phase.view());
    plan.inverse_centered(out.phase.view());
    detail::for_each(dev, out.phase.size(), kern::UnitPhaseF{out.phase.data(), out.phase.data()});
    out.op = std::make_shared<PhaseConstrainedOperator>(std::move(A), out.phase.view());
    return out;
}

}  // namespace lumen::mri
