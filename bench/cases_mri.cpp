// MRI benchmarks side by side with BART (`bart` on the PATH, e.g. Debian's 0.8.00) on the same
// data: one simulated 15-coil 640x368 slice (fastMRI knee size), fastMRI random 4x mask.
//
//   mri/fft        centred unitary 2-D FFT of the 15 coil images: lumen vs `bart fft -u`
//   mri/espirit    ESPIRiT maps: lumen vs `bart ecalib -m1`
//   mri/sense-normal  one SENSE normal operator A^H A: lumen's fused operator vs BART's cost of one
//                  CG iteration of `pics -l2` ((time of -i 21) - (time of -i 1)) / 20
//   mri/cg-sense, mri/l1-wavelet   time to a given quality: both tools run with increasing
//                  iteration counts; the target NRMSE (magnitude, centre 320x320, after a
//                  least-squares scale fit, against the noiseless truth) is 1.1x the worse of the
//                  two best errors, so both reach it; the run with the fewest iterations that
//                  reaches it is timed (BART including its file I/O, which is small here).
//   mri/pipeline-cg-sense, mri/pipeline-l1-wavelet (15 coils 640x368), mri/pipeline-8coil-* (8
//                  coils 512x256, 256^2 box): what `lumen-mri recon` does by default (readout crop,
//                  coil compression, ESPIRiT, the method's defaults) against bart ecalib + pics, and
//                  against BART given the same preprocessing; interleaved, medians (below).
//                  --param mri_bart_iters=N,... / mri_bart_prep_iters=N,...: BART's sweeps;
//                  --param mri_trace=1: lumen's default run only, every iterate's PSNR, misfit,
//                  change and changes over 2-16 iterations printed, nothing timed, no BART.
//
// lumen's rows run on --device (the data are made on the CPU, outside the timing, and copied
// there; the ESPIRiT maps the other cases use are computed once on the CPU, so that every device
// reconstructs with the same maps); BART's rows run on the CPU.
//
// BART reads the same k-space and mask (missing samples exactly zero) through .cfl/.hdr files:
// dims [1, W, H, coils] in BART's column-major order are exactly lumen's C-order [coils][H][W].
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/harness.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/noise.hpp"
#include "lumen/mri/preprocess.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

constexpr index_t kC = 15, kH = 640, kW = 368, kR = 320;

struct Data {
    index_t C = kC, H = kH, W = kW, R = kR;
    std::string dir;
    SimulatedScan scan;
    Array<float> mask;
    Array<complex64> y;  // masked k-space [C][H][W]
    bool bart = false;
};

bool bart_available() { return std::system("command -v bart > /dev/null 2>&1") == 0; }

void write_cfl(const std::string& stem, const std::vector<index_t>& dims, const complex64* data, index_t n) {
    std::ofstream hdr(stem + ".hdr");
    hdr << "# Dimensions\n";
    for (std::size_t i = 0; i < 16; ++i) hdr << (i < dims.size() ? dims[i] : 1) << (i + 1 < 16 ? " " : "\n");
    std::ofstream cfl(stem + ".cfl", std::ios::binary);
    cfl.write(reinterpret_cast<const char*>(data), std::streamsize(n * index_t(sizeof(complex64))));
}

Array<complex64> read_cfl(const std::string& stem, index_t n) {
    Array<complex64> a(Shape{n});
    std::ifstream cfl(stem + ".cfl", std::ios::binary);
    cfl.read(reinterpret_cast<char*>(a.data()), std::streamsize(n * index_t(sizeof(complex64))));
    require(bool(cfl), "benchmark: cannot read " + stem + ".cfl");
    return a;
}

// One simulated slice (noise 0.01, seed 1) with a fastMRI random 4x mask (seed 1), C coils,
// H x W k-space (the readout H 2x oversampled), an R x R recon box.
Data make_data(index_t C, index_t H, index_t W, index_t R, const std::string& name) {
    Data x;
    x.C = C;
    x.H = H;
    x.W = W;
    x.R = R;
    x.dir = (std::filesystem::temp_directory_path() / name).string();
    std::filesystem::create_directories(x.dir);
    SimulationOptions o;
    o.height = H;
    o.width = W;
    o.coils = C;
    o.recon_height = R;
    o.recon_width = R;
    o.noise = 0.01;
    o.seed = 1;
    x.scan = simulate(o);
    MaskSpec spec;
    spec.kind = MaskKind::random;
    spec.acceleration = 4.0;
    spec.seed = 1;
    x.mask = make_mask(spec, H, W);
    x.y = Array<complex64>(Shape{C, H, W});
    apply_mask(View<const complex64>(x.scan.kspace.data(), Shape{C, H, W}), x.mask.view(), x.y.view());
    x.bart = bart_available();
    if (x.bart) {
        write_cfl(x.dir + "/ksp", {1, W, H, C}, x.y.data(), x.y.size());
        write_cfl(x.dir + "/coils", {1, W, H, C}, x.scan.kspace.data(), C * H * W);
    }
    return x;
}

const Data& data() {
    static Data d = make_data(kC, kH, kW, kR, "lumen-bench-mri");
    return d;
}

// NRMSE of a magnitude image [H][W] (centre kR x kR) against the truth, after the best scale.
double quality(const Array<float>& magnitude) {
    const Array<float> c = center_crop(magnitude.view(), kR, kR);
    const Array<float>& t = data().scan.target;
    double tc = 0, cc = 0, tt = 0;
    for (index_t i = 0; i < c.size(); ++i) {
        tc += double(t[i]) * c[i];
        cc += double(c[i]) * c[i];
        tt += double(t[i]) * t[i];
    }
    const double a = cc > 0 ? tc / cc : 0.0;
    double e = 0;
    for (index_t i = 0; i < c.size(); ++i) e += std::pow(double(t[i]) - a * c[i], 2);
    return std::sqrt(e / tt);
}

Array<float> magnitude_of(const Array<complex64>& x) {
    Array<float> m(Shape{kH, kW});
    for (index_t i = 0; i < m.size(); ++i) m[i] = abs(x[i]);
    return m;
}

int run_shell(const std::string& cmd) { return std::system((cmd + " > /dev/null 2>&1").c_str()); }

const Array<complex64>& lumen_maps() {
    static Array<complex64> maps = espirit(data().y.view(), data().mask.view(), EspiritOptions{}, Device::cpu).maps;
    return maps;
}

bool ensure_bart_maps() {
    static bool ok = data().bart && run_shell("cd " + data().dir + " && bart ecalib -m1 ksp maps") == 0;
    return ok;
}

struct Sweep {
    std::vector<int> iters;
    std::vector<double> lumen_err, bart_err;
};

// Smallest iteration count whose error reaches the target (or the last one).
int first_reaching(const std::vector<int>& iters, const std::vector<double>& err, double target) {
    for (std::size_t i = 0; i < iters.size(); ++i)
        if (err[i] <= target) return iters[i];
    return iters.back();
}

void time_to_quality(bench::Bench& bench, Method method, const std::string& bart_flags, const std::vector<int>& iters) {
    const Data& d = data();
    const Array<complex64>& maps = lumen_maps();
    auto lumen_run = [&](int n) {
        ReconOptions o;
        o.method = method;
        o.iterations = n;
        o.stop = Stop::iterations;  // timings at fixed counts, as BART runs them
        o.device = bench.device();
        return reconstruct_slice(d.y.view(), d.mask.view(), maps.view(), o);
    };
    auto bart_cmd = [&](int n) {
        return "cd " + d.dir + " && bart pics -S " + bart_flags + " -i " + std::to_string(n) + " ksp maps out";
    };
    Sweep s;
    s.iters = iters;
    for (int n : iters) s.lumen_err.push_back(quality(lumen_run(n).magnitude));
    const bool bart = ensure_bart_maps();
    if (bart)
        for (int n : iters) {
            run_shell(bart_cmd(n));
            s.bart_err.push_back(quality(magnitude_of(read_cfl(d.dir + "/out", kH * kW))));
        }
    double best_l = 1e9, best_b = 1e9;
    for (double e : s.lumen_err) best_l = std::min(best_l, e);
    for (double e : s.bart_err) best_b = std::min(best_b, e);
    const double target = 1.1 * (bart ? std::max(best_l, best_b) : best_l);
    for (std::size_t i = 0; i < iters.size(); ++i) {
        bench.figure("lumen NRMSE @" + std::to_string(iters[i]) + " it", "nrmse", s.lumen_err[i]);
        if (bart) bench.figure("bart NRMSE @" + std::to_string(iters[i]) + " it", "nrmse", s.bart_err[i]);
    }
    bench.figure("target", "nrmse", target);
    const int nl = first_reaching(iters, s.lumen_err, target);
    bench.figure("lumen iterations to target", "iterations", nl);
    bench.time("lumen " + std::string(method_name(method)) + " to target", [&] { (void)lumen_run(nl); });
    if (bart) {
        const int nb = first_reaching(iters, s.bart_err, target);
        bench.figure("bart iterations to target", "iterations", nb);
        bench.time_command("bart pics " + bart_flags + " to target", bart_cmd(nb));
        const double tl = bench.median_of("lumen " + std::string(method_name(method)) + " to target");
        const double tb = bench.median_of("bart pics " + bart_flags + " to target");
        if (tl > 0 && tb > 0) bench.figure("bart time / lumen time", "ratio", tb / tl);
    }
}

}  // namespace

LUMEN_BENCH_CASE("mri/fft", "centred unitary 2-D FFT of 15 x 640x368 coil images: lumen vs bart fft -u") {
    const Data& d = data();
    const Device dev = bench.device();
    Array<complex64> one = Array<complex64>::copy_of(View<const complex64>(d.scan.kspace.data(), Shape{kC, kH, kW}), dev);
    const FftPlan plan = FftPlan::for_shape(one.shape(), 2, dev);
    const double n = double(kC * kH * kW);
    bench.time("lumen fft2c", [&] { plan.forward_centered(one.view()); }, {{"transforms/s", double(kC)}},
               {2.0 * n * sizeof(complex64), 5.0 * n * std::log2(double(kH * kW))});
    if (d.bart) {
        bench.time_command("bart fft -u 6", "cd " + d.dir + " && bart fft -u 6 coils fftout");
        const double tl = bench.median_of("lumen fft2c"), tb = bench.median_of("bart fft -u 6");
        if (tl > 0 && tb > 0) bench.figure("bart time / lumen time", "ratio", tb / tl);
    }
}

LUMEN_BENCH_CASE("mri/espirit", "ESPIRiT maps (kernel 6, calibration 24) of a 15-coil 640x368 slice: lumen vs bart ecalib") {
    const Data& d = data();
    bench.time("lumen espirit", [&] { (void)espirit(d.y.view(), d.mask.view(), EspiritOptions{}, bench.device()); });
    if (d.bart) {
        bench.time_command("bart ecalib -m1", "cd " + d.dir + " && bart ecalib -m1 ksp maps");
        const double tl = bench.median_of("lumen espirit"), tb = bench.median_of("bart ecalib -m1");
        if (tl > 0 && tb > 0) bench.figure("bart time / lumen time", "ratio", tb / tl);
    }
}

LUMEN_BENCH_CASE("mri/sense-normal", "SENSE normal operator A^H A, 15 coils 640x368: lumen vs BART's per-CG-iteration cost") {
    const Data& d = data();
    const Device dev = bench.device();
    const SenseOperator A(lumen_maps().view(), d.mask.view(), dev);
    const Array<complex64> y = d.y.to(dev);
    Array<complex64> x(Shape{kH, kW}, dev), out(Shape{kH, kW}, dev);
    A.apply_adjoint(y.view(), x.view());
    // Least work (docs/gpu-performance.md): 8 passes over the coil stack (maps read and coil images
    // written by the expansion, each FFT reading and writing it once, the masking folded into the
    // second FFT's input, coil images and maps read by the combination); two batched FFTs and
    // about 20 operations per coil pixel around them.
    const double coil = double(kC * kH * kW);
    bench.time("lumen A^H A", [&] { A.apply_normal(x.view(), out.view()); }, {{"normal ops/s", 1.0}},
               {8.0 * coil * sizeof(complex64), coil * (2.0 * 5.0 * std::log2(double(kH * kW)) + 20.0)});
    if (ensure_bart_maps()) {
        bench.time_command("bart pics -l2 -i 1", "cd " + d.dir + " && bart pics -l2 -r 0.001 -i 1 ksp maps out");
        bench.time_command("bart pics -l2 -i 21", "cd " + d.dir + " && bart pics -l2 -r 0.001 -i 21 ksp maps out");
        const double per = (bench.median_of("bart pics -l2 -i 21") - bench.median_of("bart pics -l2 -i 1")) / 20.0;
        bench.figure("bart seconds per CG iteration", "s", per);
        const double tl = bench.median_of("lumen A^H A");
        if (tl > 0 && per > 0) bench.figure("bart CG iteration / lumen A^H A", "ratio", per / tl);
    }
}

LUMEN_BENCH_CASE("mri/cg-sense", "CG-SENSE time to a given quality, 15 coils 640x368 random 4x: lumen vs bart pics -l2") {
    time_to_quality(bench, Method::cg_sense, "-l2 -r 0.001", {5, 10, 15, 20, 30});
}

LUMEN_BENCH_CASE("mri/l1-wavelet", "L1-wavelet time to a given quality, 15 coils 640x368 random 4x: lumen vs bart pics -l1") {
    time_to_quality(bench, Method::l1_wavelet, "-l1 -r 0.01", {10, 20, 30, 50, 80});
}

// The file pipeline's inner loop without the file: 4 slices (the same 15-coil 640x368 slice four
// times, random 4x, the same maps) reconstructed one after the other with CG-SENSE, 10 iterations
// each (and zero-filled), the maps on the host as run_recon has them: a reconstruct_slice per slice
// (everything made anew per slice) against one SliceReconstructor for all four (as run_recon does:
// one operator and FFT plan, each slice's maps and mask swapped in). What it measures is the
// per-slice set-up next to the solver's work.
LUMEN_BENCH_CASE("mri/recon-slices", "CG-SENSE of 4 slices in a row (15 coils 640x368, 10 iterations each), maps on the host") {
    const Data& d = data();
    const Array<complex64>& maps = lumen_maps();
    constexpr int kSlices = 4;
    bench.time("lumen cg-sense 4 slices", [&] {
        ReconOptions o;
        o.method = Method::cg_sense;
        o.iterations = 10;
        o.stop = Stop::iterations;  // timings at fixed counts, as BART runs them
        o.device = bench.device();
        for (int s = 0; s < kSlices; ++s) (void)reconstruct_slice(d.y.view(), d.mask.view(), maps.view(), o);
    }, {{"slices/s", double(kSlices)}});
    bench.time("lumen cg-sense 4 slices, one reconstructor", [&] {
        ReconOptions o;
        o.method = Method::cg_sense;
        o.iterations = 10;
        o.stop = Stop::iterations;  // timings at fixed counts, as BART runs them
        o.device = bench.device();
        SliceReconstructor r(o);
        for (int s = 0; s < kSlices; ++s) (void)r.reconstruct(d.y.view(), d.mask.view(), maps.view(), s, kSlices);
    }, {{"slices/s", double(kSlices)}});
    bench.time("lumen zf 4 slices", [&] {
        ReconOptions o;
        o.method = Method::zero_filled;
        o.device = bench.device();
        for (int s = 0; s < kSlices; ++s) (void)reconstruct_slice(d.y.view(), d.mask.view(), maps.view(), o);
    }, {{"slices/s", double(kSlices)}});
    bench.time("lumen zf 4 slices, one reconstructor", [&] {
        ReconOptions o;
        o.method = Method::zero_filled;
        o.device = bench.device();
        SliceReconstructor r(o);
        for (int s = 0; s < kSlices; ++s) (void)r.reconstruct(d.y.view(), d.mask.view(), maps.view(), s, kSlices);
    }, {{"slices/s", double(kSlices)}});
}

// ---------------------------------------------------------------------------------------------
// The whole pipeline of `lumen-mri recon` by default (src/mri/run.cpp) on one slice, against BART
// doing the same job, timed interleaved (lumen, BART, BART with lumen's preprocessing; repeated
// --repeats times, medians):
//   lumen   readout-noise estimate, prepare_slice with the default PreprocessOptions (readout
//           crop to the recon box, coil compression to the default energy fraction), ESPIRiT,
//           the method with its defaults (discrepancy stop)
//   BART    bart ecalib -m1 && bart pics on the full grid, all coils
//   BART, lumen's preprocessing   bart fft -i -u 4 | resize -c 2 R | fft -u 4 (the readout crop),
//           bart cc -A -S -p V (V = lumen's virtual coils, SVD over all data), then ecalib && pics
// BART's iteration counts: the fewest of a sweep whose PSNR reaches lumen's (else the fewest within
// 0.1 dB of its best); where BART's best is below lumen's, lumen is also timed with the fewest
// iterations whose PSNR reaches BART's (`--iters N --stop iterations`, lumen's lever 3).
// --param mri_bart_iters=N1,N2,... and --param mri_bart_prep_iters=...: that sweep instead of the
// case's (plain BART, BART preprocessed); one count skips the sweep's cost, for repeated runs
// (docs/benchmarks.md, the pipeline under load). Run one case per invocation then.
// Quality: NRMSE and PSNR of the centre R x R magnitude against the noiseless truth after a
// least-squares scale (BART's image scale is its own). BART times include process starts and
// file I/O (small next to ESPIRiT here).
namespace {

const Data& data8() {
    static Data d = make_data(8, 512, 256, 256, "lumen-bench-mri8");
    return d;
}

struct Score {
    double nrmse = 0.0, psnr_db = 0.0;
};

Score score(const Data& d, const Array<float>& magnitude) {
    const Array<float> c = center_crop(magnitude.view(), d.R, d.R);
    const Array<float>& t = d.scan.target;
    double tc = 0, cc = 0, tt = 0, peak = 0;
    for (index_t i = 0; i < c.size(); ++i) {
        tc += double(t[i]) * c[i];
        cc += double(c[i]) * c[i];
        tt += double(t[i]) * t[i];
        peak = std::max(peak, double(t[i]));
    }
    const double a = cc > 0 ? tc / cc : 0.0;
    double e = 0;
    for (index_t i = 0; i < c.size(); ++i) e += std::pow(double(t[i]) - a * c[i], 2);
    Score s;
    s.nrmse = std::sqrt(e / tt);
    s.psnr_db = 10.0 * std::log10(peak * peak * double(c.size()) / e);
    return s;
}

struct LumenPipeline {
    Array<float> magnitude;
    index_t virtual_coils = 0;
    int iterations = 0;
    std::vector<double> psnr;  // every iterate's, when asked for (untimed runs)
};

// iterations > 0: exactly that many (--iters N --stop iterations); score: every iterate's PSNR;
// trace: also print every iterate's PSNR, misfit and change measures (--param mri_trace=1).
LumenPipeline lumen_pipeline(const Data& d, Method method, Device dev, int iterations = 0, bool score_iterates = false,
                             bool trace = false) {
    LumenPipeline out;
    const double variance = readout_noise_variance(d.y.view(), d.mask.view());
    const PreparedSlice p = prepare_slice(d.y.clone(), d.mask.view(), {}, d.R, PreprocessOptions{});
    const Array<complex64> maps = espirit(p.kspace.view(), p.mask.view(), EspiritOptions{}, dev).maps;
    ReconOptions o;
    o.method = method;
    o.device = dev;
    if (iterations > 0) {
        o.iterations = iterations;
        o.stop = Stop::iterations;
    }
    std::vector<Array<complex64>> recent;  // trace: the last 16 iterates (host)
    if (score_iterates)
        o.inspect = [&](const IterationInfo& it, View<const complex64> x) {
            Array<float> m(x.shape(), x.device());
            sense_magnitude(x, maps.view(), m.view());
            out.psnr.push_back(score(d, m.to(Device::cpu)).psnr_db);
            if (trace) {
                Array<complex64> h = Array<complex64>::copy_of(x, Device::cpu);
                std::printf("trace it %d psnr %.3f misfit %.4f change %.3e", it.iteration, out.psnr.back(), it.misfit,
                            it.residual);
                for (std::size_t lag : {2u, 4u, 8u, 16u}) {
                    if (recent.size() < lag) break;
                    const Array<complex64>& p = recent[recent.size() - lag];
                    double dd = 0.0, xx = 0.0;
                    for (index_t i = 0; i < h.size(); ++i) {
                        dd += double(norm(h[i] - p[i]));
                        xx += double(norm(h[i]));
                    }
                    std::printf(" lag%zu %.3e", lag, std::sqrt(dd / xx) / double(lag));
                }
                std::printf("\n");
                recent.push_back(std::move(h));
                if (recent.size() > 16) recent.erase(recent.begin());
            }
            return true;
        };
    SliceReconstructor r(o);
    if (p.readout_cropped) {
        r.set_noise_variance(variance);
        r.set_readout_crop(d.H);
    }
    SliceRecon rec = r.reconstruct(p.kspace.view(), p.mask.view(), maps.view());
    out.magnitude = std::move(rec.magnitude);
    out.virtual_coils = p.virtual_coils;
    out.iterations = rec.solver.iterations;
    return out;
}

double seconds_of(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// BART's iteration count: the fewest of the sweep whose PSNR reaches `target` (lumen's); where
// none does, the fewest within 0.1 dB of BART's best (more iterations buy BART nothing then).
int bart_iterations(const Data& d, const std::string& pics, const std::string& out, index_t height,
                    const std::vector<int>& iters, double target, Score& chosen, bench::Bench& bench,
                    const std::string& tag) {
    std::vector<Score> scores;
    double best = -1e9;
    for (int n : iters) {
        run_shell("cd " + d.dir + " && " + pics + " -i " + std::to_string(n) + " " + out);
        Array<complex64> x = read_cfl(d.dir + "/" + out.substr(out.rfind(' ') + 1), height * d.W);
        Array<float> m(Shape{height, d.W});
        for (index_t i = 0; i < m.size(); ++i) m[i] = abs(x[i]);
        scores.push_back(score(d, m));
        bench.figure(tag + " PSNR @" + std::to_string(n) + " it", "dB", scores.back().psnr_db);
        best = std::max(best, scores.back().psnr_db);
    }
    const double bar = best >= target ? target : best - 0.1;
    for (std::size_t i = 0; i < iters.size(); ++i)
        if (scores[i].psnr_db >= bar) {
            chosen = scores[i];
            return iters[i];
        }
    chosen = scores.back();
    return iters.back();
}

// --param KEY=N1,N2,...: that list instead of the case's sweep (absent: `fallback`).
std::vector<int> iteration_list(const bench::Bench& bench, const char* key, const std::vector<int>& fallback) {
    const auto it = bench.options().params.find(key);
    if (it == bench.options().params.end()) return fallback;
    std::vector<int> out;
    std::size_t pos = 0;
    const std::string& s = it->second;
    while (pos < s.size()) {
        const std::size_t end = std::min(s.find(',', pos), s.size());
        const int n = std::stoi(s.substr(pos, end - pos));
        if (n < 1) throw std::invalid_argument(std::string("--param ") + key + ": iteration counts must be >= 1");
        out.push_back(n);
        pos = end + 1;
    }
    if (out.empty()) throw std::invalid_argument(std::string("--param ") + key + ": empty list");
    return out;
}

void pipeline(bench::Bench& bench, const Data& d, Method method, const std::string& flags,
              const std::vector<int>& sweep) {
    const Device dev = bench.device();
    const std::vector<int> iters = iteration_list(bench, "mri_bart_iters", sweep);
    const std::vector<int> prep_iters = iteration_list(bench, "mri_bart_prep_iters", sweep);
    if (bench.options().params.count("mri_trace")) {
        // Every iterate of lumen's default run, nothing timed, no BART (docs/mri.md, "Stopping
        // and defaults"): the measurements behind the stopping rule.
        const LumenPipeline t = lumen_pipeline(d, method, dev, 0, true, true);
        bench.figure("lumen iterations (discrepancy stop)", "iterations", t.iterations);
        return;
    }
    const LumenPipeline l = lumen_pipeline(d, method, dev, 0, true);
    const Score ls = score(d, l.magnitude);
    bench.figure("lumen PSNR", "dB", ls.psnr_db);
    bench.figure("lumen NRMSE", "nrmse", ls.nrmse);
    bench.figure("lumen iterations (discrepancy stop)", "iterations", l.iterations);
    bench.figure("lumen virtual coils", "coils", double(l.virtual_coils));
    std::vector<double> tl, tb, tp, tq;
    std::string bart_full, bart_prep;
    int nq = 0;  // lumen's iterations to BART's PSNR (0: not reached before its default stop)
    if (d.bart) {
        const std::string R = std::to_string(d.R), V = std::to_string(l.virtual_coils);
        const bool cc = l.virtual_coils < d.C;
        // Maps for the iteration sweeps, made once; the timed commands make their own.
        run_shell("cd " + d.dir + " && bart ecalib -m1 ksp maps");
        const std::string crop = "bart fft -i -u 4 ksp hy && bart resize -c 2 " + R + " hy hyc && bart fft -u 4 hyc kc" +
                                 (cc ? " && bart cc -A -S -p " + V + " kc kcc" : " && bart copy kc kcc");
        run_shell("cd " + d.dir + " && " + crop + " && bart ecalib -m1 kcc mapsc");
        Score bs, ps;
        const int nb = bart_iterations(d, "bart pics -S " + flags, "ksp maps out", d.H, iters, ls.psnr_db, bs, bench,
                                       "bart");
        const int np = bart_iterations(d, "bart pics -S " + flags, "kcc mapsc outc", d.R, prep_iters, ls.psnr_db, ps, bench,
                                       "bart, lumen's preprocessing,");
        bench.figure("bart iterations", "iterations", nb);
        bench.figure("bart PSNR", "dB", bs.psnr_db);
        bench.figure("bart, lumen's preprocessing, iterations", "iterations", np);
        bench.figure("bart, lumen's preprocessing, PSNR", "dB", ps.psnr_db);
        bart_full = "cd " + d.dir + " && bart ecalib -m1 ksp maps && bart pics -S " + flags + " -i " + std::to_string(nb) +
                    " ksp maps out > /dev/null 2>&1";
        bart_prep = "cd " + d.dir + " && " + crop + " && bart ecalib -m1 kcc mapsc && bart pics -S " + flags + " -i " +
                    std::to_string(np) + " kcc mapsc outc > /dev/null 2>&1";
        // Fewer iterations to the same quality: lumen's first iterate at BART's PSNR (--iters N
        // --stop iterations), when BART's is below lumen's default result.
        for (std::size_t i = 0; i < l.psnr.size() && bs.psnr_db < ls.psnr_db; ++i)
            if (l.psnr[i] >= bs.psnr_db) {
                nq = int(i) + 1;
                break;
            }
        if (nq > 0) bench.figure("lumen iterations to bart's PSNR", "iterations", nq);
    }
    for (int r = 0; r < std::max(1, bench.options().repeats); ++r) {
        tl.push_back(seconds_of([&] { (void)lumen_pipeline(d, method, dev); }));
        if (d.bart) {
            tb.push_back(seconds_of([&] { (void)std::system(bart_full.c_str()); }));
            tp.push_back(seconds_of([&] { (void)std::system(bart_prep.c_str()); }));
            if (nq > 0) tq.push_back(seconds_of([&] { (void)lumen_pipeline(d, method, dev, nq); }));
        }
    }
    bench.record("lumen recon (default pipeline)", median(tl));
    if (d.bart) {
        bench.record("bart ecalib + pics", median(tb));
        bench.record("bart with lumen's preprocessing", median(tp));
        bench.figure("lumen time / bart time", "ratio", median(tl) / median(tb));
        bench.figure("lumen time / bart-with-preprocessing time", "ratio", median(tl) / median(tp));
        if (nq > 0) {
            bench.record("lumen recon --iters N --stop iterations (bart's PSNR)", median(tq));
            bench.figure("lumen at bart's PSNR time / bart time", "ratio", median(tq) / median(tb));
            bench.figure("lumen at bart's PSNR time / bart-with-preprocessing time", "ratio", median(tq) / median(tp));
        }
    }
}

}  // namespace

LUMEN_BENCH_CASE("mri/pipeline-cg-sense", "lumen-mri recon's default pipeline (crop, coil compression, ESPIRiT, CG-SENSE), 15 coils 640x368, vs BART") {
    pipeline(bench, data(), Method::cg_sense, "-l2 -r 0.001", {5, 10, 15, 20, 30, 40});
}

LUMEN_BENCH_CASE("mri/pipeline-l1-wavelet", "lumen-mri recon's default pipeline (crop, coil compression, ESPIRiT, L1-wavelet), 15 coils 640x368, vs BART") {
    pipeline(bench, data(), Method::l1_wavelet, "-l1 -r 0.01", {10, 20, 30, 50, 80, 120});
}

LUMEN_BENCH_CASE("mri/pipeline-8coil-cg-sense", "lumen-mri recon's default pipeline, CG-SENSE, 8 coils 512x256 (256^2 box), vs BART") {
    pipeline(bench, data8(), Method::cg_sense, "-l2 -r 0.001", {5, 10, 15, 20, 30, 40});
}

LUMEN_BENCH_CASE("mri/pipeline-8coil-l1-wavelet", "lumen-mri recon's default pipeline, L1-wavelet, 8 coils 512x256 (256^2 box), vs BART") {
    pipeline(bench, data8(), Method::l1_wavelet, "-l1 -r 0.01", {10, 20, 30, 50, 80, 120});
}
