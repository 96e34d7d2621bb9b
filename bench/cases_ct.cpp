// CT benchmarks: the projector pair and FDK, side by side with RTK's (all three) and plastimatch's
// CPU FDK (Debian's `plastimatch` 1.9.4, when on the PATH) on the same projections.
//
//   ct/forward-projection   ray-driven forward projector A (Joseph, trilinear)
//   ct/back-projection      its exact adjoint A^T (race-free CPU scatter / GPU atomics)
//   ct/fdk                  FDK (weights, ramp filter by FFT, voxel-driven back projection) vs
//                           `plastimatch fdk` (its default CPU flavour, ramp filter), including its
//                           file reading and writing; plastimatch's own back-projection time is
//                           reported as a figure too
//
// RTK (itk-rtk 2.7 from PyPI, CPU) is the second peer of all three cases: bench/peers/rtk_ct.py,
// run under bench::peer_python(), reads the bench's projections and truth (raw float32 in a
// temporary directory), builds the same circular geometry and times, in-process and without file
// I/O, its FDKConeBeamReconstructionFilter (ramp, no Hann) and the Joseph forward and back
// projection filters with ITK's thread count set to lumen's OpenMP one. Each case records the RTK
// row with its CPU seconds per run, the ratios lumen / RTK of wall and CPU time, the agreement of
// the outputs (forward: nrmse of RTK's projections against lumen's; back: correlation of the
// volumes), and for FDK the PSNR of RTK's volume against the same truth and its
// correlation with lumen's (the check that the two geometries agree). Missing RTK: a row
// "RTK: not installed".
//
// Sizes: --size small: n^3 voxels from `views` projections of n^2 pixels with n = 128, views = 180
// (override with --param n=256 --param views=360 for the CPU size); --size large: 512^3
// from 512 views of 512^2 (GPU). "Gvox/s" counts voxel updates: n^3 x views per second, the usual
// unit of back-projection benchmarks (RabbitCT).
//
// plastimatch reads a directory of projections: PFM images (little-endian float32 with a small
// text header) next to projection-matrix text files. `plastimatch drr -G` writes those matrix
// files for a circular geometry with lumen's distances and detector size; the benchmark writes
// the line integrals as PFM beside them. The two programs' angle conventions differ (the volume
// comes out rotated), which does not change the work done.
#include <omp.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <memory>
#include <string>

#include "bench/harness.hpp"
#include "lumen/ct/fdk.hpp"
#include "lumen/ct/phantom.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/linalg.hpp"
#include "lumen/metrics.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {

struct Setup {
    index_t n = 0, views = 0;
    Geometry geometry;
    std::unique_ptr<Projector> projector;
    Array<float> truth, projections, volume;
    double updates = 0;  // n^3 x views
};

index_t param(const bench::Bench& b, const char* key, index_t fallback) {
    const auto it = b.options().params.find(key);
    return it == b.options().params.end() ? fallback : index_t(std::stoll(it->second));
}

Setup& setup(const bench::Bench& b) {
    static std::map<std::string, std::unique_ptr<Setup>> cache;
    const index_t n = param(b, "n", b.large() ? 512 : 128), views = param(b, "views", b.large() ? 512 : 180);
    const Device dev = b.device();
    const std::string key = std::to_string(n) + "/" + std::to_string(views) + "/" + device_name(dev);
    auto& slot = cache[key];
    if (!slot) {
        auto s = std::make_unique<Setup>();
        s->n = n;
        s->views = views;
        s->geometry = default_cone_geometry(n, 1.0, views);
        s->projector = std::make_unique<Projector>(s->geometry, dev);
        const auto phantom = scale_phantom(shepp_logan_table(true), 0.5 * double(n) * 0.95, 0.02);
        s->truth = voxelize(phantom, s->geometry.volume, 1, dev);
        s->projections = project_analytic(phantom, s->geometry, 1, false, dev);
        s->volume = Array<float>(s->geometry.volume_shape(), dev);
        s->updates = double(n) * double(n) * double(n) * double(views);
        slot = std::move(s);
    }
    return *slot;
}

// CPU seconds (all threads) used so far by this process, or by its finished children.
double cpu_seconds(int who) {
    rusage u{};
    getrusage(who, &u);
    return double(u.ru_utime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec) + double(u.ru_stime.tv_sec) +
           1e-6 * double(u.ru_stime.tv_usec);
}

// Least work of the projectors (docs/gpu-performance.md): the volume and the projections each
// cross the memory bus once; per voxel update (n^3 x views) the ray-driven pair does about 12 FP32
// operations (2 coordinates, 4 bilinear weights, 4 multiply-adds, the step) and the voxel-driven
// FDK back projection about 18 (a projective map: 3 multiply-adds and a reciprocal, 2 products,
// a bilinear read of 3 interpolations, the 1/w^2 weight and the sum).
bench::Work projector_work(const Setup& s, double flops_per_update) {
    const Geometry& g = s.geometry;
    const double bytes = sizeof(float) * (double(g.volume_shape().size()) + double(g.n_angles() * g.nu * g.nv));
    return {bytes, flops_per_update * s.updates};
}

// CPU time per run of the runs bench.time / time_command just made (all runs, warm-up included,
// divided by their number): unlike wall time, it does not depend on what else the machine runs.
// Returns it.
double cpu_figure(bench::Bench& b, const std::string& label, double cpu_before, int who) {
    const int runs = b.options().warmup + std::max(1, b.options().repeats);
    const double per_run = (cpu_seconds(who) - cpu_before) / double(runs);
    b.figure(label, "cpu s per run", per_run);
    return per_run;
}

bool plastimatch_available() { return std::system("command -v plastimatch > /dev/null 2>&1") == 0; }

// Writes plastimatch's input directory for this setup; returns the directory.
std::string write_plastimatch_input(const Setup& s) {
    namespace fs = std::filesystem;
    const Geometry& g = s.geometry;
    const std::string dir =
        (fs::temp_directory_path() / ("lumen-bench-ct-" + std::to_string(s.n) + "-" + std::to_string(s.views))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    char cmd[1024];
    std::snprintf(cmd, sizeof cmd,
                  "plastimatch drr -G -a %lld -N %.10g -r \"%lld %lld\" -z \"%.10g %.10g\" --sad %.10g --sid %.10g "
                  "-O %s/img -t pfm > /dev/null 2>&1",
                  (long long)g.n_angles(), 360.0 / double(g.n_angles()), (long long)g.nv, (long long)g.nu,
                  double(g.nv) * g.dv, double(g.nu) * g.du, g.dso, g.dsd, dir.c_str());
    if (std::system(cmd) != 0) throw std::runtime_error(std::string("plastimatch drr -G failed: ") + cmd);
    const Array<float> p = s.projections.to(Device::cpu);
    const index_t per = g.nu * g.nv;
    for (index_t v = 0; v < g.n_angles(); ++v) {
        char name[64];
        std::snprintf(name, sizeof name, "/img%04lld.pfm", (long long)v);
        std::ofstream f(dir + name, std::ios::binary);
        f << "Pf\n" << g.nu << " " << g.nv << "\n-1\n";
        f.write(reinterpret_cast<const char*>(p.data() + v * per), std::streamsize(per * index_t(sizeof(float))));
    }
    return dir;
}

// ---- RTK (bench/peers/rtk_ct.py) ----

std::string rtk_script() { return bench::peer_script("rtk_ct.py"); }

bool rtk_available() {
    // itk loads RTK lazily (`import itk.RTK` fails even when installed): the script checks itself.
    static const bool ok =
        std::filesystem::exists(rtk_script()) && bench::peer_python_has({"itk", "numpy"}) &&
        std::system(("'" + bench::peer_python() + "' '" + rtk_script() + "' --check > /dev/null 2>&1").c_str()) == 0;
    return ok;
}

void write_f32(const std::string& path, const Array<float>& a) {
    const Array<float> h = a.to(Device::cpu);
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(h.data()), std::streamsize(h.size() * index_t(sizeof(float))));
    if (!f) throw std::runtime_error("cannot write " + path);
}

Array<float> read_f32(const std::string& path, const Shape& shape) {
    Array<float> a(shape);
    std::ifstream f(path, std::ios::binary);
    f.read(reinterpret_cast<char*>(a.data()), std::streamsize(a.size() * index_t(sizeof(float))));
    if (!f) throw std::runtime_error("cannot read " + path);
    return a;
}

// Pearson correlation of two volumes (1: the same up to scale and offset; the check that RTK's
// geometry and orientation match lumen's).
double correlation(const Array<float>& a, const Array<float>& b) {
    double ma = 0, mb = 0;
    for (index_t i = 0; i < a.size(); ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= double(a.size());
    mb /= double(b.size());
    double ab = 0, aa = 0, bb = 0;
    for (index_t i = 0; i < a.size(); ++i) {
        const double x = a[i] - ma, y = b[i] - mb;
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    return ab / std::sqrt(std::max(aa * bb, 1e-300));
}

// Runs rtk_ct.py for `op` (fdk, forward or back) on the setup's data with the bench's warm-up and
// repeats and lumen's thread count; records the RTK row ("RTK <what> <tag>", with its CPU
// seconds per run) and the ratios lumen / RTK of wall time (lumen row `lumen_label`) and, when
// lumen_cpu (lumen's CPU seconds per run) is given, of CPU time. Returns the directory holding
// RTK's output.
std::string run_rtk(bench::Bench& b, const Setup& s, const std::string& op, const std::string& what,
                    const std::string& lumen_label, double mine_cpu = 0.0) {
    namespace fs = std::filesystem;
    const Geometry& g = s.geometry;
    const std::string tag = "n=" + std::to_string(s.n) + " views=" + std::to_string(s.views);
    const std::string dir =
        (fs::temp_directory_path() / ("lumen-bench-rtk-" + std::to_string(s.n) + "-" + std::to_string(s.views))).string();
    fs::create_directories(dir);
    write_f32(dir + "/projections.f32", s.projections);
    write_f32(dir + "/truth.f32", s.truth);
    std::ostringstream cmd;
    cmd.precision(17);
    cmd << "'" << bench::peer_python() << "' '" << rtk_script() << "' '" << dir << "' --ops " << op << " --n " << s.n
        << " --views " << s.views << " --nu " << g.nu << " --nv " << g.nv << " --du " << g.du << " --dv " << g.dv
        << " --dso " << g.dso << " --dsd " << g.dsd << " --offset-u " << g.offset_u << " --offset-v " << g.offset_v
        << " --voxel " << g.volume.voxel_x << " --threads " << omp_get_max_threads() << " --warmup "
        << b.options().warmup << " --repeats " << std::max(1, b.options().repeats) << " --angles-deg ";
    for (std::size_t i = 0; i < g.angles.size(); ++i) cmd << (i ? "," : "") << g.angles[i] * 180.0 / kPi;
    cmd << " 2>&1";
    FILE* pipe = popen(cmd.str().c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + rtk_script());
    std::string output;
    double median = 0.0, cpu_s = 0.0;
    char line[1024];
    while (std::fgets(line, sizeof line, pipe)) {
        output += line;
        char name[64];
        double med = 0, lo = 0, hi = 0, cpu = 0;
        int runs = 0;
        if (std::sscanf(line, "RTK %63s median_s=%lf min_s=%lf max_s=%lf runs=%d cpu_s=%lf", name, &med, &lo, &hi,
                        &runs, &cpu) == 6 &&
            name == op) {
            median = med;
            cpu_s = cpu;
        }
    }
    const int rc = pclose(pipe);
    if (rc != 0 || median <= 0.0) throw std::runtime_error("rtk_ct.py failed (" + std::to_string(rc) + "):\n" + output);
    b.record("RTK " + what + " " + tag, median, {{"Gvox/s", s.updates * 1e-9}});
    b.figure("RTK " + what + " " + tag, "cpu s per run", cpu_s);
    const double mine = b.median_of(lumen_label);
    if (mine > 0.0) b.figure("lumen / RTK " + what + " " + tag, "time ratio", mine / median);
    if (mine_cpu > 0.0 && cpu_s > 0.0) b.figure("lumen / RTK " + what + " " + tag, "cpu time ratio", mine_cpu / cpu_s);
    return dir;
}

}  // namespace

LUMEN_BENCH_CASE("ct/forward-projection", "ray-driven forward projection, n^3 into views x n^2 (Gvox/s: n^3 x views), lumen vs RTK Joseph") {
    Setup& s = setup(bench);
    const std::string label = "lumen n=" + std::to_string(s.n) + " views=" + std::to_string(s.views);
    Array<float> out(s.geometry.projection_shape(), s.projections.device());
    const double cpu0 = cpu_seconds(RUSAGE_SELF);
    bench.time(label, [&] { s.projector->apply(s.truth, out); }, {{"Gvox/s", s.updates * 1e-9}},
               projector_work(s, 12.0));
    const double cpu = bench.device() == Device::cpu ? cpu_figure(bench, label, cpu0, RUSAGE_SELF) : 0.0;
    if (!rtk_available()) {
        bench.figure("RTK: not installed", "skipped", 0);
        return;
    }
    const std::string dir = run_rtk(bench, s, "forward", "Joseph forward", label, cpu);
    // Same projections (the geometries agree): relative RMS difference of the two projectors.
    const Array<float> rtk = read_f32(dir + "/rtk_forward.f32", s.geometry.projection_shape());
    bench.figure("RTK Joseph forward vs lumen", "nrmse", nrmse(out.to(Device::cpu), rtk));
}

LUMEN_BENCH_CASE("ct/back-projection", "exact adjoint (ray-driven) back projection, views x n^2 into n^3, lumen vs RTK Joseph") {
    Setup& s = setup(bench);
    const std::string label = "lumen n=" + std::to_string(s.n) + " views=" + std::to_string(s.views);
    const double cpu0 = cpu_seconds(RUSAGE_SELF);
    bench.time(label, [&] { s.projector->apply_adjoint(s.projections, s.volume); }, {{"Gvox/s", s.updates * 1e-9}},
               projector_work(s, 12.0));
    const double cpu = bench.device() == Device::cpu ? cpu_figure(bench, label, cpu0, RUSAGE_SELF) : 0.0;
    if (!rtk_available()) {
        bench.figure("RTK: not installed", "skipped", 0);
        return;
    }
    const std::string dir = run_rtk(bench, s, "back", "Joseph back", label, cpu);
    const Array<float> rtk = read_f32(dir + "/rtk_back.f32", s.geometry.volume_shape());
    bench.figure("RTK Joseph back vs lumen", "correlation", correlation(rtk, s.volume.to(Device::cpu)));
}

LUMEN_BENCH_CASE("ct/fdk", "FDK of n^3 from views x n^2 (Ram-Lak), lumen vs RTK and plastimatch fdk (CPU)") {
    Setup& s = setup(bench);
    const std::string tag = "n=" + std::to_string(s.n) + " views=" + std::to_string(s.views);
    FdkOptions o;
    const double cpu0 = cpu_seconds(RUSAGE_SELF);
    bench.time("lumen " + tag, [&] { fdk(*s.projector, s.projections, s.volume, o); }, {{"Gvox/s", s.updates * 1e-9}},
               projector_work(s, 18.0));
    const double cpu = bench.device() == Device::cpu ? cpu_figure(bench, "lumen " + tag, cpu0, RUSAGE_SELF) : 0.0;
    const Quality q = compare_with_truth(s.truth, s.volume);
    bench.figure("lumen " + tag, "PSNR dB", q.psnr_db);
    const Array<float> lumen_volume = s.volume.to(Device::cpu);
    bench.time("lumen voxel back projection " + tag, [&] {
        fill(s.volume.view(), 0.0f);
        s.projector->backproject_voxel(s.projections, s.volume);
    }, {{"Gvox/s", s.updates * 1e-9}}, projector_work(s, 18.0));
    if (!rtk_available()) {
        bench.figure("RTK: not installed", "skipped", 0);
    } else {
        const std::string dir = run_rtk(bench, s, "fdk", "fdk", "lumen " + tag, cpu);
        const Array<float> rtk = read_f32(dir + "/rtk_fdk.f32", s.geometry.volume_shape());
        bench.figure("RTK fdk " + tag, "PSNR dB", compare_with_truth(s.truth.to(Device::cpu), rtk).psnr_db);
        bench.figure("RTK fdk " + tag, "correlation with lumen", correlation(rtk, lumen_volume));
    }
    if (!plastimatch_available()) {
        bench.figure("plastimatch: not installed", "skipped", 0);
        return;
    }
    const std::string dir = write_plastimatch_input(s);
    char cmd[1024];
    std::snprintf(cmd, sizeof cmd, "plastimatch fdk -A cpu -f ramp -I %s -O %s/out.mha -r \"%lld %lld %lld\" -z \"%lld %lld %lld\"",
                  dir.c_str(), dir.c_str(), (long long)s.n, (long long)s.n, (long long)s.n, (long long)s.n,
                  (long long)s.n, (long long)s.n);
    const double child0 = cpu_seconds(RUSAGE_CHILDREN);
    bench.time_command("plastimatch fdk " + tag, cmd, {{"Gvox/s", s.updates * 1e-9}});
    cpu_figure(bench, "plastimatch fdk " + tag, child0, RUSAGE_CHILDREN);
    // plastimatch's own count of its back-projection time (one more run, output parsed).
    FILE* pipe = popen((std::string(cmd) + " 2>&1").c_str(), "r");
    if (pipe) {
        char line[512];
        while (std::fgets(line, sizeof line, pipe)) {
            double t = 0;
            if (std::sscanf(line, "Backprojection time = %lf", &t) == 1 && t > 0) {
                bench.figure("plastimatch fdk " + tag, "backprojection s", t);
                bench.figure("plastimatch fdk " + tag, "backprojection Gvox/s", s.updates * 1e-9 / t);
            }
        }
        pclose(pipe);
    }
}
