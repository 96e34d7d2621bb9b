// Uses the installed public API of lumen::core only (no file formats): an array, vector algebra,
// a unitary FFT round trip, the two kinds of operator a user builds a reconstruction from -- the
// CT projector and the MRI SENSE operator -- each checked for adjointness,
// <A x, y> = <x, A^T y>, on a tiny problem, and a plan object (ct::Reconstructor) reused across
// two scans, writing into the caller's arrays, against the one-call ct::reconstruct.
#include <lumen/core/array.hpp>
#include <lumen/core/complex.hpp>
#include <lumen/ct/geometry.hpp>
#include <lumen/ct/projector.hpp>
#include <lumen/ct/recon.hpp>
#include <lumen/fft.hpp>
#include <lumen/linalg.hpp>
#include <lumen/mri/sense.hpp>
#include <lumen/version.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace lumen;

namespace {

// Deterministic values in [-1, 1) without <random>'s implementation-defined distributions.
float pseudo(index_t i, int salt) {
    const unsigned h = static_cast<unsigned>(i * 2654435761u) ^ static_cast<unsigned>(salt * 40503);
    return float(h % 2001u) / 1000.0f - 1.0f;
}

double fft_round_trip() {
    Array<complex64> x(Shape{4, 8});
    for (index_t i = 0; i < x.size(); ++i) x[i] = complex64(float(i % 5), float(i % 3));
    Array<complex64> y = x.clone();
    FftPlan plan = FftPlan::for_shape(x.shape(), 1, Device::cpu);
    plan.forward(y);
    plan.inverse(y);
    axpy(complex64(-1.0f), x, y.view());
    return norm2(y) / norm2(x);
}

// |<A x, y> - <x, A^T y>| / (|A x| |y|)
double projector_adjointness() {
    const ct::Geometry g = ct::default_cone_geometry(8, 1.0, 6);
    ct::Projector A(g, Device::cpu);
    Array<float> x(A.domain_shape()), y(A.range_shape());
    for (index_t i = 0; i < x.size(); ++i) x[i] = pseudo(i, 1) + 1.0f;
    for (index_t i = 0; i < y.size(); ++i) y[i] = pseudo(i, 2) + 1.0f;
    Array<float> ax(A.range_shape()), aty(A.domain_shape());
    A.apply(x.view(), ax.view());
    A.apply_adjoint(y.view(), aty.view());
    const double lhs = dot(ax, y);
    const double rhs = dot(x, aty);
    return std::fabs(lhs - rhs) / (norm2(ax) * norm2(y));
}

double sense_adjointness() {
    const index_t coils = 3, ny = 8, nx = 8;
    Array<complex64> maps(Shape{coils, ny, nx});
    Array<float> mask(Shape{ny, nx});
    for (index_t i = 0; i < maps.size(); ++i) maps[i] = complex64(pseudo(i, 3), pseudo(i, 4));
    for (index_t i = 0; i < mask.size(); ++i) mask[i] = (i / nx) % 2 == 0 ? 1.0f : 0.0f;
    mri::SenseOperator E(maps.view(), mask.view(), Device::cpu);
    Array<complex64> x(E.domain_shape()), y(E.range_shape());
    for (index_t i = 0; i < x.size(); ++i) x[i] = complex64(pseudo(i, 5), pseudo(i, 6));
    for (index_t i = 0; i < y.size(); ++i) y[i] = complex64(pseudo(i, 7), pseudo(i, 8));
    Array<complex64> ex(E.range_shape()), ehy(E.domain_shape());
    E.apply(x.view(), ex.view());
    E.apply_adjoint(y.view(), ehy.view());
    const complex128 lhs = dot(ex, y);
    const complex128 rhs = dot(x, ehy);
    return std::hypot(lhs.re - rhs.re, lhs.im - rhs.im) /
           (norm2(ex) * norm2(y));
}

// max |plan - one call| / max |one call| over two scans (the exponentials of two volumes'
// projections) reconstructed by one SIRT plan into the caller's array; 0 when the plan gives the
// same as fresh set-ups.
double plan_reuse() {
    const ct::Geometry g = ct::default_cone_geometry(8, 1.0, 6);
    const ct::Projector A(g, Device::cpu);
    ct::ReconOptions options;
    options.method = ct::Method::sirt;
    options.iterations = 3;
    ct::Reconstructor plan(g, options);
    Array<float> volume(g.volume_shape());
    double worst = 0.0;
    for (int scan = 0; scan < 2; ++scan) {
        Array<float> x(A.domain_shape()), t(A.range_shape());
        for (index_t i = 0; i < x.size(); ++i) x[i] = 0.01f * (pseudo(i, 9 + scan) + 1.0f);
        A.apply(x.view(), t.view());
        for (float& v : t) v = std::exp(-v);
        const ct::ReconInfo info = plan.reconstruct(t, volume);
        const ct::ReconResult once = ct::reconstruct(g, t, options);
        if (info.solver.iterations != once.solver.iterations) return 1.0;
        axpy(-1.0f, once.volume, volume.view());
        worst = std::max(worst, max_abs(volume) / max_abs(once.volume));
    }
    return worst;
}

}  // namespace

int main() {
    const double fft = fft_round_trip();
    const double ct = projector_adjointness();
    const double mri = sense_adjointness();
    const double plan = plan_reuse();
    std::printf("lumen %s consumer: FFT round trip %.2e, ct::Projector adjointness %.2e, "
                "mri::SenseOperator adjointness %.2e, ct::Reconstructor reused against one call %.2e\n",
                LUMEN_VERSION, fft, ct, mri, plan);
    return fft < 1e-5 && ct < 1e-5 && mri < 1e-5 && plan == 0.0 ? 0 : 1;
}
