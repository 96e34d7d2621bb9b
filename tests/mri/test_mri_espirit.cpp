// The dense Hermitian eigensolver, the simulator, and ESPIRiT maps on a simulated scan.
#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
#include "lumen/solvers/solvers.hpp"
#include "src/mri/eigen.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

TEST(MriEigen, HermitianDecompositionIsAccurate) {
    for (int n : {1, 2, 3, 17, 60}) {
        std::mt19937_64 rng{std::uint64_t(n)};
        std::normal_distribution<double> g;
        std::vector<complex128> b(std::size_t(n * n)), a(std::size_t(n * n));
        for (auto& v : b) v = complex128(g(rng), g(rng));
        // A = B B^H plus a repeated eigenvalue block to exercise degenerate cases.
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                complex128 acc(0, 0);
                for (int k = 0; k < n / 2 + 1; ++k) acc += b[std::size_t(i * n + k)] * conj(b[std::size_t(j * n + k)]);
                a[std::size_t(i * n + j)] = acc;
            }
        const auto e = detail::hermitian_eigen(a, n);
        double scale = std::fabs(e.values[0]) + 1e-300, worst = 0, ortho = 0;
        for (int j = 0; j < n; ++j) {
            if (j > 0) {
                EXPECT_GE(e.values[std::size_t(j - 1)], e.values[std::size_t(j)]);
            }
            for (int i = 0; i < n; ++i) {
                complex128 av(0, 0);
                for (int k = 0; k < n; ++k) av += a[std::size_t(i * n + k)] * e.vectors[std::size_t(j * n + k)];
                const complex128 r = av - e.vectors[std::size_t(j * n + i)] * e.values[std::size_t(j)];
                worst = std::max(worst, std::sqrt(norm(r)) / scale);
            }
            for (int q = 0; q < n; ++q) {
                complex128 d(0, 0);
                for (int i = 0; i < n; ++i) d += conj(e.vectors[std::size_t(j * n + i)]) * e.vectors[std::size_t(q * n + i)];
                ortho = std::max(ortho, std::sqrt(norm(d - complex128(j == q ? 1.0 : 0.0, 0.0))));
            }
        }
        EXPECT_LT(worst, 1e-10) << n;
        EXPECT_LT(ortho, 1e-10) << n;
    }
}

TEST(MriSimulate, ShapesTargetsAndNoise) {
    SimulationOptions o;
    o.height = 64;
    o.width = 48;
    o.coils = 4;
    o.slices = 2;
    const SimulatedScan s = simulate(o);
    EXPECT_EQ(s.kspace.shape(), Shape({2, 4, 64, 48}));
    EXPECT_EQ(s.target.shape(), Shape({2, 32, 32}));
    // Noiseless: fastMRI's RSS target equals the truth target.
    double diff = 0, ref = 0;
    for (index_t i = 0; i < s.target.size(); ++i) {
        diff += std::pow(s.target[i] - s.rss[i], 2);
        ref += std::pow(s.target[i], 2);
    }
    EXPECT_LT(std::sqrt(diff / ref), 1e-5);
    o.noise = 0.05;
    const SimulatedScan n = simulate(o);
    double kd = 0, kr = 0;
    for (index_t i = 0; i < n.kspace.size(); ++i) {
        kd += norm(n.kspace[i] - s.kspace[i]);
        kr += norm(s.kspace[i]);
    }
    EXPECT_NEAR(std::sqrt(kd / kr), 0.05, 0.005);
    o.coils = 0;
    EXPECT_THROW(simulate(o), Error);
}

namespace {

SimulatedScan small_scan(index_t coils = 8) {
    SimulationOptions o;
    o.height = 128;
    o.width = 96;
    o.coils = coils;
    o.recon_height = 80;
    o.recon_width = 80;
    return simulate(o);
}

// CG-SENSE image magnitude (RSS scale), cropped to the recon box.
Array<float> cg_sense_image(const SimulatedScan& s, View<const complex64> maps, const Array<float>& mask, int iters) {
    const index_t C = s.kspace.dim(1), h = s.kspace.dim(2), w = s.kspace.dim(3);
    const SenseOperator A(maps, mask.view(), Device::cpu);
    Array<complex64> y(Shape{C, h, w});
    apply_mask(s.kspace.view().item(0), mask, y.view());
    Array<complex64> x(Shape{h, w});
    SolverOptions so;
    so.max_iterations = iters;
    cg_normal(A, y.view(), x.view(), 1e-6, so);
    Array<float> mag(Shape{h, w});
    sense_magnitude(x.view(), maps, mag.view());
    return center_crop(mag.view(), s.recon_height, s.recon_width);
}

}  // namespace

TEST(MriEspirit, MapsMatchTrueSensitivitiesUpToPhase) {
    const SimulatedScan s = small_scan();
    const index_t C = 8, h = 128, w = 96;
    EspiritOptions eo;
    const EspiritResult r = espirit(s.kspace.view().item(0), {}, eo, Device::cpu);
    EXPECT_EQ(r.box.rows, 24);
    EXPECT_EQ(r.box.cols, 24);
    EXPECT_GT(r.kernels_kept, 0);
    // Inside the object, |<S_esp, S_true>| / ||S_true|| is ~1 (same direction per pixel), and the
    // eigenvalue is ~1.
    double worst = 1.0, eig_min = 1.0;
    index_t inside = 0;
    for (index_t p = 0; p < h * w; ++p) {
        if (std::abs(s.image[p].re) + std::abs(s.image[p].im) < 0.05) continue;
        std::complex<double> d = 0;
        double nt = 0, ne = 0;
        for (index_t c = 0; c < C; ++c) {
            const complex64 a = r.maps[c * h * w + p], b = s.sensitivities[c * h * w + p];
            d += std::conj(std::complex<double>(a.re, a.im)) * std::complex<double>(b.re, b.im);
            nt += norm(b);
            ne += norm(a);
        }
        worst = std::min(worst, std::abs(d) / std::sqrt(nt * ne + 1e-30));
        eig_min = std::min(eig_min, double(r.eigenvalues[p]));
        ++inside;
    }
    EXPECT_GT(inside, 1000);
    RecordProperty("worst_alignment", std::to_string(worst));
    RecordProperty("min_eigenvalue", std::to_string(eig_min));
    std::printf("ESPIRiT: worst alignment %.5f, min eigenvalue inside %.4f, kernels kept %ld\n", worst, eig_min,
                long(r.kernels_kept));
    EXPECT_GT(worst, 0.99);
    EXPECT_GT(eig_min, 0.9);
}

TEST(MriEspirit, CgSenseWithEspiritMapsMatchesTrueMaps) {
    const SimulatedScan s = small_scan();
    const index_t C = 8, h = 128, w = 96;
    MaskSpec spec;
    spec.kind = MaskKind::poisson;  // 2-D variable density with a 24 x 24 calibration box
    spec.acceleration = 4.0;
    spec.seed = 3;
    const Array<float> mask = make_mask(spec, h, w);
    Array<complex64> y(Shape{C, h, w});
    apply_mask(s.kspace.view().item(0), mask, y.view());
    const EspiritResult r = espirit(y.view(), mask.view(), EspiritOptions{}, Device::cpu);
    // True maps zeroed away from the object (2-pixel margin), as ESPIRiT's eigenvalue crop does:
    // without that support both are solving for the empty background too.
    Array<complex64> true_maps = s.sensitivities.clone();
    for (index_t p = 0; p < h * w; ++p) {
        bool inside = false;
        for (index_t dy = -2; dy <= 2; ++dy)
            for (index_t dx = -2; dx <= 2; ++dx) {
                const index_t yy = p / w + dy, xx = p % w + dx;
                if (yy >= 0 && yy < h && xx >= 0 && xx < w && abs(s.image[yy * w + xx]) > 0.0f) inside = true;
            }
        if (!inside)
            for (index_t c = 0; c < C; ++c) true_maps[c * h * w + p] = complex64(0.0f);
    }
    const Array<float> with_true = cg_sense_image(s, true_maps.view(), mask, 30);
    const Array<float> with_esp = cg_sense_image(s, r.maps.view(), mask, 30);
    const double d = nrmse(with_true.view(), with_esp.view());
    const double e_true = nrmse(s.target.view(), with_true.view());
    const double e_esp = nrmse(s.target.view(), with_esp.view());
    std::printf("CG-SENSE 4x: NRMSE true maps %.4f, ESPIRiT maps %.4f, between %.4f\n", e_true, e_esp, d);
    EXPECT_LT(d, 0.05);
    EXPECT_LT(e_esp, 0.08);
}

TEST(MriEspirit, BadCalibrationIsRejected) {
    const SimulatedScan s = small_scan(4);
    const View<const complex64> k(s.kspace.data(), Shape{4, 128, 96});
    Array<float> mask(Shape{128, 96});
    for (index_t y = 0; y < 128; ++y)
        for (index_t x = 46; x < 50; ++x) mask[y * 96 + x] = 1.0f;  // only 4 centre columns
    EXPECT_THROW(espirit(k, mask.view(), EspiritOptions{}, Device::cpu), Error);
    const Array<complex64> zeros(Shape{4, 128, 96});
    fill(mask.view(), 1.0f);
    EXPECT_THROW(espirit(zeros.view(), mask.view(), EspiritOptions{}, Device::cpu), Error);
}
