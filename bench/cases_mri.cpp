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
//
// lumen's rows run on --device (the data are made on the CPU, outside the timing, and copied
// there; the ESPIRiT maps the other cases use are computed once on the CPU, so that every device
// reconstructs with the same maps); BART's rows run on the CPU.
//
// BART reads the same k-space and mask (missing samples exactly zero) through .cfl/.hdr files:
// dims [1, W, H, coils] in BART's column-major order are exactly lumen's C-order [coils][H][W].
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/harness.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

constexpr index_t kC = 15, kH = 640, kW = 368, kR = 320;

struct Data {
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

const Data& data() {
    static Data d = [] {
        Data x;
        x.dir = (std::filesystem::temp_directory_path() / "lumen-bench-mri").string();
        std::filesystem::create_directories(x.dir);
        SimulationOptions o;
        o.height = kH;
        o.width = kW;
        o.coils = kC;
        o.recon_height = kR;
        o.recon_width = kR;
        o.noise = 0.01;
        o.seed = 1;
        x.scan = simulate(o);
        MaskSpec spec;
        spec.kind = MaskKind::random;
        spec.acceleration = 4.0;
        spec.seed = 1;
        x.mask = make_mask(spec, kH, kW);
        x.y = Array<complex64>(Shape{kC, kH, kW});
        apply_mask(View<const complex64>(x.scan.kspace.data(), Shape{kC, kH, kW}), x.mask.view(), x.y.view());
        x.bart = bart_available();
        if (x.bart) {
            write_cfl(x.dir + "/ksp", {1, kW, kH, kC}, x.y.data(), x.y.size());
            write_cfl(x.dir + "/coils", {1, kW, kH, kC}, x.scan.kspace.data(), kC * kH * kW);
        }
        return x;
    }();
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
