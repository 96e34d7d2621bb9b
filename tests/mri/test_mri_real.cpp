// The conventions of real scans (issue 11, MRI): reversed readouts, noise pre-scans, partial
// Fourier, the loop-counter flags of lumen's ISMRMRD output, and the plausibility checks. Every
// trap is written by lumen's own simulator and writers; each test fails when the convention is
// ignored.
#include <ismrmrd/dataset.h>

#include <cmath>
#include <random>

#include "lumen/core/checks.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/noise.hpp"
#include "lumen/mri/partial_fourier.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/run.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

SimulatedScan sim(index_t coils, index_t slices, index_t h = 64, index_t w = 48, double noise = 0.0) {
    SimulationOptions o;
    o.height = h;
    o.width = w;
    o.coils = coils;
    o.slices = slices;
    o.noise = noise;
    o.seed = 3;
    return simulate(o);
}

Array<float> read_recon(const std::string& path) { return io::H5File::open(path).read_float("/reconstruction", 3); }

// Correlated complex Gaussian noise L z, z white with E|z|^2 = 1: [coils][n].
Array<complex64> correlated_noise(const std::vector<complex64>& L, index_t coils, index_t n, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> g(0.0f, std::sqrt(0.5f));
    Array<complex64> z(Shape{coils, n}), out(Shape{coils, n});
    for (index_t i = 0; i < z.size(); ++i) z[i] = complex64(g(gen), g(gen));
    for (index_t c = 0; c < coils; ++c)
        for (index_t i = 0; i < n; ++i) {
            complex64 acc(0.0f);
            for (index_t d = 0; d <= c; ++d) acc += L[std::size_t(c * coils + d)] * z[d * n + i];
            out[c * n + i] = acc;
        }
    return out;
}

}  // namespace

TEST(MriReal, ReversedReadoutsAreFlippedBack) {
    // Bipolar (EPI-like) readouts: every odd line stored +kx first and flagged ACQ_IS_REVERSE.
    // Read as stored, those lines are mirrored: N/2 ghosts.
    const SimulatedScan s = sim(3, 2);
    const std::string p = test::temp_path("reversed.mrd");
    IsmrmrdWriteOptions wo;
    wo.reverse_odd_lines = true;
    wo.recon_height = s.recon_height;
    wo.recon_width = s.recon_width;
    write_ismrmrd(p, s.kspace.view(), wo);
    const ScanReader r = ScanReader::open(p);
    EXPECT_EQ(r.header().reversed_lines, 2 * 24);
    for (index_t sl = 0; sl < 2; ++sl)
        EXPECT_EQ(test::max_rel_diff(r.read_slice(sl), s.kspace.view().item(sl)), 0.0);

    RunOptions o;
    o.input = p;
    o.output = test::temp_path("reversed_out.h5");
    o.recon.method = Method::zero_filled;
    CheckCollector checks;
    run_recon(o);
    EXPECT_LT(nrmse(s.target.view(), read_recon(o.output).view()), 0.02);
    ASSERT_FALSE(checks.results().empty());
    bool reported = false;
    for (const auto& c : checks.results()) reported = reported || (c.id == "mri.reversed_lines" && c.ok);
    EXPECT_TRUE(reported);
}

TEST(MriReal, IsmrmrdOutputSetsTheLoopFlags) {
    // Gadgetron and other streaming readers close a slice on last-in-slice and the scan on
    // last-in-measurement; the mask leaves out the last column, so last-in-slice cannot simply be
    // "ky == W - 1".
    const SimulatedScan s = sim(2, 3);
    Array<float> cols(Shape{48});
    for (index_t x = 2; x < 46; ++x) cols[x] = x % 2 == 0 || std::abs(x - 24) < 4 ? 1.0f : 0.0f;
    const std::string p = test::temp_path("flags.mrd");
    IsmrmrdWriteOptions wo;
    wo.mask = cols.view();
    Array<complex64> noise(Shape{2, 100});
    fill(noise.view(), complex64(1e-3f, 0.0f));
    noise[7] = complex64(0.0f, 2e-3f);
    wo.noise = noise.view();
    write_ismrmrd(p, s.kspace.view(), wo);
    ISMRMRD::Dataset d(p.c_str(), "dataset", false);
    const uint32_t n = d.getNumberOfAcquisitions();
    std::vector<ISMRMRD::Acquisition> acq(n);
    for (uint32_t i = 0; i < n; ++i) d.readAcquisition(i, acq[i]);
    const index_t lines = index_t(std::count_if(cols.begin(), cols.end(), [](float v) { return v != 0.0f; }));
    ASSERT_EQ(index_t(n), 2 + 3 * lines);  // 100 noise samples in readouts of up to 64
    EXPECT_TRUE(acq[0].isFlagSet(ISMRMRD::ISMRMRD_ACQ_IS_NOISE_MEASUREMENT));
    for (index_t sl = 0; sl < 3; ++sl) {
        ISMRMRD::Acquisition& first = acq[std::size_t(2 + sl * lines)];
        ISMRMRD::Acquisition& last = acq[std::size_t(2 + (sl + 1) * lines - 1)];
        EXPECT_TRUE(first.isFlagSet(ISMRMRD::ISMRMRD_ACQ_FIRST_IN_SLICE)) << sl;
        EXPECT_FALSE(first.isFlagSet(ISMRMRD::ISMRMRD_ACQ_LAST_IN_SLICE)) << sl;
        EXPECT_TRUE(last.isFlagSet(ISMRMRD::ISMRMRD_ACQ_LAST_IN_SLICE)) << sl;
        EXPECT_EQ(last.idx().kspace_encode_step_1, 44);
        EXPECT_EQ(last.isFlagSet(ISMRMRD::ISMRMRD_ACQ_LAST_IN_MEASUREMENT), sl == 2) << sl;
        for (index_t i = 1; i + 1 < lines; ++i) {
            ISMRMRD::Acquisition& mid = acq[std::size_t(2 + sl * lines + i)];
            EXPECT_FALSE(mid.isFlagSet(ISMRMRD::ISMRMRD_ACQ_FIRST_IN_SLICE) ||
                         mid.isFlagSet(ISMRMRD::ISMRMRD_ACQ_LAST_IN_SLICE));
        }
    }
    // The reader keeps the noise apart, in order.
    const ScanReader r = ScanReader::open(p);
    EXPECT_EQ(r.header().noise_scans, 2);
    const Array<complex64> back = r.noise_samples();
    ASSERT_EQ(back.shape(), Shape({2, 100}));
    EXPECT_EQ(test::max_rel_diff(back.view(), noise.view()), 0.0);
}

TEST(MriReal, WhiteningDecorrelatesTheCoils) {
    const index_t C = 4;
    // A loud coil (10x), and correlations up to 0.6 between neighbours.
    // clang-format off
    std::vector<complex64> L = {complex64(10.0f),       0,                      0,                     0,
                                complex64(0.6f, 0.2f),  complex64(0.8f),        0,                     0,
                                0,                      complex64(0.5f, -0.3f), complex64(0.9f),       0,
                                complex64(0.1f),        0,                      complex64(0.2f, 0.1f), complex64(1.0f)};
    // clang-format on
    const Array<complex64> pre = correlated_noise(L, C, 20000, 1);
    const NoiseWhitening w = noise_whitening(pre.view(), 1.0, "test");
    EXPECT_NEAR(w.std_ratio, 10.0 / std::sqrt(0.6 * 0.6 + 0.2 * 0.2 + 0.64), 0.5);
    EXPECT_GT(w.max_correlation, 0.4);
    Array<complex64> fresh = correlated_noise(L, C, 20000, 2);
    apply_whitening(w, fresh.view());
    const NoiseWhitening after = noise_whitening(fresh.view(), 1.0, "test");
    // White, with the file's mean coil variance.
    EXPECT_LT(after.std_ratio, 1.05);
    EXPECT_LT(after.max_correlation, 0.04);
    EXPECT_NEAR(after.variance / w.variance, 1.0, 0.05);
    // A dead channel is refused with a way out.
    Array<complex64> dead = pre.clone();
    for (index_t i = 0; i < 20000; ++i) dead[2 * 20000 + i] = complex64(0.0f);
    try {
        noise_whitening(dead.view(), 1.0, "scan.mrd: noise pre-scan");
        FAIL() << "a dead channel was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::bad_input);
        EXPECT_NE(std::string(e.what()).find("RunOptions.prewhiten"), std::string::npos);
    }
}

TEST(MriReal, NoisePrescanPrewhitensTheReconstruction) {
    // One coil 10x noisier than the rest and correlated noise: unwhitened, its noise dominates the
    // RSS image; whitened, each coil counts by its SNR.
    const index_t C = 4;
    const SimulatedScan s = sim(C, 1, 64, 64);
    const double rms = std::sqrt(norm2_squared(s.kspace.view()) / double(s.kspace.size()));
    const float q = float(0.03 * rms);
    // clang-format off
    std::vector<complex64> L = {complex64(10.0f * q),          0,                   0,                   0,
                                complex64(0.5f * q, 0.1f * q), complex64(0.8f * q), 0,                   0,
                                0,                             complex64(0.4f * q), complex64(0.9f * q), 0,
                                0,                             0,                   complex64(0.3f * q), complex64(q)};
    // clang-format on
    Array<complex64> k = s.kspace.clone();
    const Array<complex64> n = correlated_noise(L, C, 64 * 64, 11);
    for (index_t i = 0; i < k.size(); ++i) k[i] += n[i];
    const Array<complex64> pre = correlated_noise(L, C, 4096, 12);
    // The same scan without noise, with the same pre-scan: the pipeline's own noiseless result,
    // so that what differs is the noise that reaches the image (the SNR), not the shading.
    const std::string noisy = test::temp_path("noisy.mrd"), clean = test::temp_path("clean.mrd");
    IsmrmrdWriteOptions wo;
    wo.noise = pre.view();
    wo.recon_height = s.recon_height;
    wo.recon_width = s.recon_width;
    write_ismrmrd(noisy, k.view(), wo);
    write_ismrmrd(clean, s.kspace.view(), wo);

    const auto run = [&](const std::string& in, bool prewhiten, RunSummary* summary) {
        RunOptions o;
        o.input = in;
        o.recon.method = Method::zero_filled;
        o.prewhiten = prewhiten;
        o.output = test::temp_path("out.h5");
        const RunSummary r = run_recon(o);
        if (summary) *summary = r;
        return read_recon(o.output);
    };
    CheckCollector checks;
    RunSummary on, off;
    const Array<float> noisy_on = run(noisy, true, &on), clean_on = run(clean, true, nullptr);
    const Array<float> noisy_off = run(noisy, false, &off), clean_off = run(clean, false, nullptr);
    EXPECT_TRUE(on.whitened);
    EXPECT_FALSE(off.whitened);
    EXPECT_EQ(on.noise.samples, 4096);
    EXPECT_EQ(on.noise_source, "noise pre-scan");
    EXPECT_FALSE(checks.has_warning("mri.noise_prewhitening"));
    const double e_on = nrmse(clean_on.view(), noisy_on.view()), e_off = nrmse(clean_off.view(), noisy_off.view());
    // Measured: 0.0096 whitened, 0.061 not (6x less noise in the image).
    EXPECT_LT(e_on, 0.6 * e_off) << e_on << " vs " << e_off;
}

namespace {

// A simulated scan whose first phase encodes were not acquired (partial Fourier), written in
// fastMRI layout with (declared) or without (undeclared) the header's encoding limits saying so.
std::string partial_fourier_file(const SimulatedScan& s, index_t first, bool declared, const std::string& name) {
    const index_t H = s.kspace.dim(2), W = s.kspace.dim(3);
    Array<float> m(Shape{H, W});
    fill(m.view(), 1.0f);
    restrict_columns(m.view(), first, W);
    Array<complex64> k = s.kspace.clone();
    for (index_t sl = 0; sl < k.dim(0); ++sl)
        apply_mask(k.view().item(sl), m, k.view().item(sl));
    FastMriWriteOptions wo;
    wo.truth_image = s.image.view();
    wo.truth_sensitivities = s.sensitivities.view();
    wo.recon_height = s.recon_height;
    wo.recon_width = s.recon_width;
    wo.first_column = declared ? first : 0;
    const std::string p = test::temp_path(name);
    write_fastmri(p, k.view(), wo);
    return p;
}

}  // namespace

TEST(MriReal, PartialFourierIsDetected) {
    const index_t H = 64, W = 96;
    Array<float> m(Shape{H, W});
    fill(m.view(), 1.0f);
    // Symmetric: nothing to report.
    EXPECT_FALSE(detect_partial_fourier(m.view(), 0, H, 0, W).any());
    // 5/8 of the columns, the first ones left out: found from the data alone, and as declared.
    restrict_columns(m.view(), 36, W);
    PartialFourier pf = detect_partial_fourier(m.view(), 0, H, 0, W);
    EXPECT_TRUE(pf.cols.partial);
    EXPECT_FALSE(pf.cols.declared);
    EXPECT_FALSE(pf.rows.partial);
    EXPECT_NEAR(pf.cols.fraction(), 60.0 / 96.0, 1e-9);
    EXPECT_EQ(pf.cols.half_symmetric(), 12);
    pf = detect_partial_fourier(m.view(), 0, H, 36, W);
    EXPECT_TRUE(pf.cols.partial && pf.cols.declared);
    // An asymmetric echo along the readout (rows 0..7 never sampled).
    fill(m.view(), 1.0f);
    for (index_t i = 0; i < 8 * W; ++i) m[i] = 0.0f;
    pf = detect_partial_fourier(m.view(), 0, H, 0, W);
    EXPECT_TRUE(pf.rows.partial);
    EXPECT_FALSE(pf.cols.partial);
    // Random 4x masks miss a few outer columns on one side by chance: not partial Fourier.
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        const Array<float> r = make_mask(MaskSpec{MaskKind::random, 4.0, 0.08, 24, seed}, H, W);
        EXPECT_FALSE(detect_partial_fourier(r.view(), 0, H, 0, W).any()) << "seed " << seed;
    }
}

TEST(MriReal, PartialFourierIsFilledByPocs) {
    const SimulatedScan s = sim(4, 1, 96, 64, 0.01);
    for (const bool declared : {true, false}) {
        const std::string in = partial_fourier_file(s, 20, declared, declared ? "pf_declared.h5" : "pf_data.h5");
        RunOptions o;
        o.input = in;
        o.output = test::temp_path("pf_out.h5");
        o.recon.method = Method::zero_filled;
        CheckCollector checks;
        const RunSummary pocs = run_recon(o);
        ASSERT_TRUE(pocs.quality.measured());
        EXPECT_TRUE(pocs.partial_fourier.cols.partial);
        EXPECT_EQ(pocs.partial_fourier.cols.declared, declared);
        EXPECT_FALSE(checks.has_warning("mri.partial_fourier"));
        o.pocs = false;
        const RunSummary zero = run_recon(o);
        EXPECT_TRUE(checks.has_warning("mri.partial_fourier"));
        // Measured: NMSE 0.0020 with POCS, 0.037 zero-filled (declared and not alike).
        EXPECT_LT(pocs.quality.nmse, 0.2 * zero.quality.nmse) << pocs.quality.nmse << " vs " << zero.quality.nmse;
        EXPECT_LT(pocs.quality.nmse, 0.003);
    }
    // The iterative methods fill it with a phase-constrained model (x = e^{i phi} r, r real).
    RunOptions o;
    o.input = test::temp_path("pf_declared.h5");
    o.output = test::temp_path("pf_cg.h5");
    o.recon.method = Method::cg_sense;
    o.recon.iterations = 10;
    o.maps = MapsSource::truth;
    CheckCollector checks;
    const RunSummary constrained = run_recon(o);
    EXPECT_FALSE(checks.has_warning("mri.partial_fourier"));
    EXPECT_EQ(io::H5File::open(o.output).attr_string("/", "partial_fourier"), "phase-constrained");
    o.pocs = false;
    const RunSummary plain = run_recon(o);
    ASSERT_TRUE(checks.has_warning("mri.partial_fourier"));
    // Measured: NMSE 0.0038 phase-constrained, 0.040 fitting the acquired samples only.
    EXPECT_LT(constrained.quality.nmse, 0.2 * plain.quality.nmse)
        << constrained.quality.nmse << " vs " << plain.quality.nmse;
}

TEST(MriReal, KspaceCentreCheckFindsFftOrderedData) {
    // k-space stored uncentred (zero frequency at [0, 0], numpy's fft2 order): the peak sits in a
    // corner, not where the header puts the centre.
    const SimulatedScan s = sim(2, 1);
    const std::string good = test::temp_path("centred.h5"), bad = test::temp_path("fftorder.h5");
    FastMriWriteOptions wo;
    write_fastmri(good, s.kspace.view(), wo);
    Array<complex64> k = s.kspace.clone();
    ifftshift(k.view(), 2);
    write_fastmri(bad, k.view(), wo);
    {
        CheckCollector checks;
        const ScanAssessment a = assess_scan(ScanReader::open(good), {}, nullptr);
        EXPECT_FALSE(checks.has_warning("mri.kspace_centre"));
        EXPECT_EQ(a.peak_row, 32);
        EXPECT_EQ(a.peak_column, 24);
    }
    CheckCollector checks;
    assess_scan(ScanReader::open(bad), {}, nullptr);
    ASSERT_TRUE(checks.has_warning("mri.kspace_centre"));
    for (const auto& c : checks.warnings()) {
        if (c.id == "mri.kspace_centre") {
            EXPECT_NE(c.message.find("fftshift"), std::string::npos) << c.message;
        }
    }
}

TEST(MriReal, NoiseNormalisedResidualIsAboutOneForTheRightModel) {
    // Fully sampled, true maps, known noise: the residual is the noise the image cannot absorb,
    // (C - 1) / C of it per sample for C coils and one unknown per pixel.
    const SimulatedScan s = sim(4, 1, 64, 64, 0.05);
    const std::string in = test::temp_path("resid.h5");
    FastMriWriteOptions wo;
    wo.truth_image = s.image.view();
    wo.truth_sensitivities = s.sensitivities.view();
    wo.recon_height = s.recon_height;
    wo.recon_width = s.recon_width;
    write_fastmri(in, s.kspace.view(), wo);
    // The background estimate against the simulator's noise, (0.05 * RMS coil image)^2.
    const Array<complex64> clean = simulate([] {
                                       SimulationOptions o;
                                       o.height = o.width = 64;
                                       o.coils = 4;
                                       return o;
                                   }())
                                       .kspace;
    const double rms2 = norm2_squared(clean.view()) / double(clean.size());
    Array<float> full(Shape{64, 64});
    fill(full.view(), 1.0f);
    const double est = background_noise_variance(s.kspace.view().item(0), full.view());
    EXPECT_NEAR(est / (0.0025 * rms2), 1.0, 0.2);

    RunOptions o;
    o.input = in;
    o.output = test::temp_path("resid_out.h5");
    o.recon.method = Method::cg_sense;
    o.maps = MapsSource::truth;
    CheckCollector checks;
    const RunSummary r = run_recon(o);
    EXPECT_EQ(r.noise_source, "readout margin");
    EXPECT_GT(r.residual, 0.6);
    EXPECT_LT(r.residual, 1.3);
    EXPECT_FALSE(checks.has_warning("mri.data_fit"));
    EXPECT_GT(io::H5File::open(o.output).attr_double("/", "noise_normalised_residual"), 0.6);
}

TEST(MriReal, PocsFillsAnAsymmetricEcho) {
    // Along the readout: the first 24 of 96 samples of every line missing (an asymmetric echo).
    const SimulatedScan s = sim(2, 1, 96, 64, 0.0);
    Array<float> m(Shape{96, 64});
    fill(m.view(), 1.0f);
    for (index_t i = 0; i < 24 * 64; ++i) m[i] = 0.0f;
    const PartialFourier pf = detect_partial_fourier(m.view(), 0, 96, 0, 64);
    ASSERT_TRUE(pf.rows.partial);
    ASSERT_FALSE(pf.cols.partial);
    Array<complex64> k = Array<complex64>::copy_of(s.kspace.view().item(0), Device::cpu);
    apply_mask(k.view(), m.view(), k.view());
    Array<complex64> filled = k.clone();
    pocs_partial_fourier(filled.view(), m.view(), pf, 20);
    // Measured samples are untouched; the left-out ones come back close to the truth.
    const Array<complex64> truth = Array<complex64>::copy_of(s.kspace.view().item(0), Device::cpu);
    double miss_err = 0.0, zero_err = 0.0;
    for (index_t c = 0; c < 2; ++c)
        for (index_t i = 0; i < 96 * 64; ++i) {
            const index_t j = c * 96 * 64 + i;
            if (m[i] != 0.0f) {
                ASSERT_EQ(filled[j], k[j]);
            } else {
                miss_err += norm(filled[j] - truth[j]);
                zero_err += norm(truth[j]);  // what zero filling leaves
            }
        }
    // Measured: 2.2 % of the energy zero filling loses (amplitude error 0.15).
    EXPECT_LT(miss_err, 0.05 * zero_err) << std::sqrt(miss_err / zero_err);
}

TEST(MriReal, PhaseConstrainedModelIsRealAdjoint) {
    // r -> A(e^{i phi} r) on real r is real-linear; its adjoint in the real inner product
    // Re<., .> is Re(e^{-i phi} A^H y), and the unknowns stay real.
    const Array<complex64> maps = test::random_complex(Shape{3, 32, 24}, 1);
    Array<float> mask(Shape{32, 24});
    fill(mask.view(), 1.0f);
    restrict_columns(mask.view(), 8, 24);
    const auto A = std::make_shared<SenseOperator>(maps.view(), mask.view(), Device::cpu);
    const PartialFourier pf = detect_partial_fourier(mask.view(), 0, 32, 0, 24);
    ASSERT_TRUE(pf.cols.partial);
    const Array<complex64> estimate = test::random_complex(Shape{32, 24}, 2);
    const PhaseConstrained pc = phase_constrained(A, estimate.view(), pf);
    Array<complex64> r = test::random_complex(Shape{32, 24}, 3);
    for (auto& v : r) v.im = 0.0f;
    const Array<complex64> y = test::random_complex(Shape{3, 32, 24}, 4);
    Array<complex64> ar(Shape{3, 32, 24}), ahy(Shape{32, 24}), n1(Shape{32, 24}), n2(Shape{32, 24});
    pc.op->apply(r.view(), ar.view());
    pc.op->apply_adjoint(y.view(), ahy.view());
    const double lhs = dot(ar.view(), y.view()).re;
    const double rhs = dot(r.view(), ahy.view()).re;
    EXPECT_LT(std::abs(lhs - rhs) / std::abs(lhs), 1e-5);
    for (const auto& v : ahy) EXPECT_EQ(v.im, 0.0f);
    // The fused normal operator agrees with adjoint(apply).
    pc.op->apply_normal(r.view(), n1.view());
    pc.op->apply_adjoint(ar.view(), n2.view());
    EXPECT_LT(test::max_rel_diff(n1.view(), n2.view()), 1e-5);
}

namespace {

// Mean magnitude at the N/2 ghost position of the object (shifted by W/2 along the phase encode)
// in the air around it, over the mean of the other air in the object's rows (where the
// measurement's own phase-encode smear lies). About 1 without ghosts.
double n2_ghost_ratio(const Array<float>& img) {
    const index_t H = img.dim(img.rank() - 2), W = img.dim(img.rank() - 1);
    std::vector<float> sorted(img.begin(), img.end());
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(0.99 * double(sorted.size())), sorted.end());
    const float thr = 0.2f * sorted[std::size_t(0.99 * double(sorted.size()))];
    std::vector<char> obj(std::size_t(H * W)), near(std::size_t(H * W));
    for (index_t i = 0; i < H * W; ++i) obj[std::size_t(i)] = img[i] > thr;
    near = obj;
    for (int step = 0; step < 6; ++step) {  // dilate by 6 pixels (4-neighbourhood)
        std::vector<char> grown = near;
        for (index_t y = 0; y < H; ++y)
            for (index_t x = 0; x < W; ++x)
                if (near[std::size_t(y * W + x)]) {
                    if (y > 0) grown[std::size_t((y - 1) * W + x)] = 1;
                    if (y + 1 < H) grown[std::size_t((y + 1) * W + x)] = 1;
                    if (x > 0) grown[std::size_t(y * W + x - 1)] = 1;
                    if (x + 1 < W) grown[std::size_t(y * W + x + 1)] = 1;
                }
        near = grown;
    }
    double ghost = 0, ng = 0, other = 0, no = 0;
    for (index_t y = 0; y < H; ++y) {
        bool row_has_object = false;
        for (index_t x = 0; x < W; ++x) row_has_object = row_has_object || obj[std::size_t(y * W + x)];
        if (!row_has_object) continue;
        for (index_t x = 0; x < W; ++x) {
            if (near[std::size_t(y * W + x)]) continue;
            if (obj[std::size_t(y * W + (x + W / 2) % W)]) {
                ghost += img[y * W + x];
                ++ng;
            } else {
                other += img[y * W + x];
                ++no;
            }
        }
    }
    return ng > 0 && no > 0 ? (ghost / ng) / (other / no) : 0.0;
}

}  // namespace

TEST(MriReal, MeasuredSiemensGradientEcho) {
    // data/mri_pulseq_gre07.h5: a measured Siemens 3 T scan (Pulseq tutorial, CC0), converted from
    // twix by examples/mri_twix_to_ismrmrd.py --format fastmri (data/README.md).
    const std::string in = std::string(LUMEN_SOURCE_DIR) + "/data/mri_pulseq_gre07.h5";
    CheckCollector checks;
    const ScanReader reader = ScanReader::open(in);
    EXPECT_EQ(reader.header().coils, 1);
    EXPECT_EQ(reader.header().height, 256);
    const ScanAssessment a = assess_scan(reader, {}, nullptr);
    EXPECT_EQ(a.peak_row, 128);
    EXPECT_EQ(a.peak_column, 128);
    EXPECT_FALSE(a.partial_fourier.any());
    EXPECT_TRUE(checks.warnings().empty());

    RunOptions o;
    o.input = in;
    o.output = test::temp_path("gre07.h5");
    o.recon.method = Method::zero_filled;
    run_recon(o);
    const Array<float> img = read_recon(o.output);
    ASSERT_EQ(img.shape(), Shape({1, 256, 256}));
    // Measured: 1.05 (no N/2 ghost).
    const double clean = n2_ghost_ratio(img);
    EXPECT_LT(clean, 1.3) << clean;

    // The same scan with bipolar readouts: odd lines stored reversed and flagged. lumen flips
    // them back and gets the same image; with the lines mirrored and not flagged (what ignoring
    // the flag amounts to), the N/2 ghost appears.
    const Array<complex64> k = reader.read_slice(0);
    const View<const complex64> k4(k.data(), Shape{1, 1, 256, 256});
    IsmrmrdWriteOptions wo;
    wo.reverse_odd_lines = true;
    wo.recon_height = wo.recon_width = 256;
    const std::string rev = test::temp_path("gre07_reversed.mrd");
    write_ismrmrd(rev, k4, wo);
    o.input = rev;
    o.output = test::temp_path("gre07_reversed_out.h5");
    run_recon(o);
    EXPECT_LT(nrmse(img.view(), read_recon(o.output).view()), 1e-6);
    Array<complex64> mirrored = k.clone();
    for (index_t y = 0; y < 256; ++y)
        for (index_t x = 1; x < 256; x += 2) mirrored[y * 256 + x] = k[(255 - y) * 256 + x];
    FastMriWriteOptions fo;
    fo.recon_height = fo.recon_width = 256;
    const std::string bad = test::temp_path("gre07_mirrored.h5");
    write_fastmri(bad, mirrored.view().reshaped(Shape{1, 1, 256, 256}), fo);
    o.input = bad;
    o.output = test::temp_path("gre07_mirrored_out.h5");
    run_recon(o);
    // Measured: 4.9.
    EXPECT_GT(n2_ghost_ratio(read_recon(o.output)), 3.0);
}
