// The FDK voxel back projection is written once (kern::ct::fdk_voxel and its two halves,
// kernels/ct/projector.hpp) and run in three forms: the GPU functor (one voxel, all views), the
// CPU slab functor (a column of voxels, the z-independent half hoisted) and the AVX2 kernel
// (src/ct/simd.cpp, the one documented exception: 8 slices per instruction). Each form is held to
// the shared formula here, on the CPU, so that a GPU-less CI sees the math the GPU runs.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/ct/projector.hpp"
#include "lumen/core/array.hpp"
#include "src/ct/simd.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
namespace kc = lumen::kern::ct;

namespace {

// A made-up circular scan in voxel index coordinates: per view a 3x4 matrix with the shape of
// lumen's (no detector tilt: m[2] = m[10] = 0), cone or parallel, looking at a volume a little
// larger than the detector covers so that some voxels fall off it.
struct Scan {
    int nx = 13, ny = 7, nz = 37, nu = 21, nv = 29, views = 40;
    std::vector<float> mats;
    Array<float> padded;  // [views][nv + 2][nu + 2], zero border

    // row_scale multiplies the rows' z slope (m[6], rows per slice: 1.6 cone, 1 parallel).
    explicit Scan(bool cone, double row_scale = 1.0) : mats(std::size_t(12 * views)), padded(Shape{views, nv + 2, nu + 2}) {
        const double dso = 40.0, cu = 0.5 * (nu - 1) + 0.37, cv = 0.5 * (nv - 1) - 0.21, mag = cone ? 1.6 : 1.0;
        for (int v = 0; v < views; ++v) {
            const double t = 2.0 * kPi * v / views + 0.1, s = std::sin(t), c = std::cos(t);
            // Voxel (x, y, z) relative to the volume centre; depth along the beam (-s, c, 0).
            const double xc = 0.5 * (nx - 1), yc = 0.5 * (ny - 1), zc = 0.5 * (nz - 1);
            const double aw[3] = {cone ? -s / dso : 0.0, cone ? c / dso : 0.0, 0.0};
            const double bw = cone ? 1.0 + (s * xc - c * yc) / dso : 1.0;
            const double au[3] = {mag * c + cu * aw[0], mag * s + cu * aw[1], 0.0};
            const double av[3] = {cv * aw[0], cv * aw[1], mag * row_scale};
            float* m = mats.data() + 12 * v;
            const double rows[3][4] = {{au[0], au[1], au[2], -mag * (c * xc + s * yc) + cu * bw},
                                       {av[0], av[1], av[2], -mag * zc + cv * bw},
                                       {aw[0], aw[1], aw[2], bw}};
            for (int r = 0; r < 3; ++r)
                for (int k = 0; k < 4; ++k) m[4 * r + k] = float(rows[r][k]);
        }
        const Array<float> inner = test::random_real(Shape{views, nv, nu}, cone ? 11 : 12);
        for (float& p : padded) p = 0.0f;
        for (int v = 0; v < views; ++v)
            for (int r = 0; r < nv; ++r)
                for (int k = 0; k < nu; ++k)
                    padded[(index_t(v) * (nv + 2) + r + 1) * (nu + 2) + k + 1] = inner[(index_t(v) * nv + r) * nu + k];
    }
    Shape volume_shape() const { return Shape{nz, ny, nx}; }
};

// The shared formula itself, summed over views in double: the reference every form is held to.
Array<double> by_formula(const Scan& s, bool cone) {
    Array<double> ref(s.volume_shape());
    const index_t view_size = index_t(s.nu + 2) * (s.nv + 2);
    for (int z = 0; z < s.nz; ++z)
        for (int y = 0; y < s.ny; ++y)
            for (int x = 0; x < s.nx; ++x) {
                double acc = 0.0;
                for (int v = 0; v < s.views; ++v)
                    acc += kc::fdk_voxel(s.mats.data() + 12 * v, s.padded.data() + v * view_size, s.nu, s.nv, cone,
                                         float(x), float(y), float(z));
                ref[(index_t(z) * s.ny + y) * s.nx + x] = acc;
            }
    return ref;
}

Array<float> gpu_form(const Scan& s, bool cone) {
    Array<float> vol(s.volume_shape());
    const kc::FdkBackprojectF f{s.mats.data(), s.padded.data(), vol.data(), s.nx, s.ny, s.nu, s.nv, s.views, cone};
    for (index_t i = 0; i < vol.size(); ++i) f(i);
    return vol;
}

// The CPU executor's schedule (src/ct/projector.cpp): blocks of slices (16 here; the executor
// takes 64 for the SIMD forms, which work on any block), views in blocks.
template <class Run>
Array<float> slab_schedule(const Scan& s, bool cone, int view_block, Run run) {
    Array<float> vol(s.volume_shape());
    const kc::FdkBackprojectSlabF f{s.mats.data(), s.padded.data(), vol.data(), s.nx, s.ny, s.nu, s.nv, cone};
    std::vector<float> acc(std::size_t(s.nx) * 16);
    for (int v0 = 0; v0 < s.views; v0 += view_block)
        for (int z0 = 0; z0 < s.nz; z0 += 16)
            for (int iy = 0; iy < s.ny; ++iy) {
                std::fill(acc.begin(), acc.end(), 0.0f);
                run(f, iy, z0, std::min(s.nz, z0 + 16), v0, std::min(s.views, v0 + view_block), acc.data());
            }
    return vol;
}

Array<float> slab_form(const Scan& s, bool cone, int view_block) {
    return slab_schedule(s, cone, view_block,
                         [](const kc::FdkBackprojectSlabF& f, int iy, int z0, int z1, int v0, int v1, float* acc) {
                             f(iy, z0, z1, v0, v1, acc);
                         });
}

// A SIMD kernel (simd::fdk_slab_avx2 or _avx512) with the executor's schedule, reading the views
// column-major as the executor hands them over (simd::fdk_transpose_view).
using SimdKernel = void (*)(const kc::FdkBackprojectSlabF&, const float*, int, int, int, int, int, float*);
Array<float> simd_form(const Scan& s, bool cone, int view_block, SimdKernel kernel) {
    const kc::FdkBackprojectSlabF f{s.mats.data(), s.padded.data(), nullptr, s.nx, s.ny, s.nu, s.nv, cone};
    const std::size_t column_view = std::size_t(s.nu + 2) * std::size_t(ct::simd::fdk_column_pitch(s.nv));
    std::vector<float> columns(column_view * std::size_t(s.views), 0.0f);
    for (int v = 0; v < s.views; ++v) ct::simd::fdk_transpose_view(f, v, columns.data() + v * column_view);
    return slab_schedule(s, cone, view_block,
                         [&](const kc::FdkBackprojectSlabF& g, int iy, int z0, int z1, int v0, int v1, float* acc) {
                             kernel(g, columns.data() + std::size_t(v0) * column_view, iy, z0, z1, v0, v1, acc);
                         });
}

// max |a - ref| / max |ref|, and how many voxels are non-zero (the scan must reach most of them).
double rel_error(const Array<float>& a, const Array<double>& ref, double* nonzero = nullptr) {
    double worst = 0.0, peak = 0.0, count = 0.0;
    for (index_t i = 0; i < ref.size(); ++i) {
        worst = std::max(worst, std::abs(double(a[i]) - ref[i]));
        peak = std::max(peak, std::abs(ref[i]));
        count += a[i] != 0.0f;
    }
    if (nonzero) *nonzero = count / double(ref.size());
    return peak > 0.0 ? worst / peak : worst;
}

}  // namespace

TEST(FdkForms, VoxelFormulaReadsThePixelUnderTheVoxelWithTheDistanceWeight) {
    // A voxel that projects exactly onto pixel (u, v) = (3, 4) reads that pixel; at depth w = 2 the
    // cone weight is 1 / w^2; off the detector it reads 0.
    const int nu = 6, nv = 7;
    std::vector<float> img(std::size_t((nu + 2) * (nv + 2)), 0.0f);
    img[std::size_t((4 + 1) * (nu + 2) + 3 + 1)] = 5.0f;
    const float par[12] = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};  // (u, v) = (x, z)
    EXPECT_EQ(kc::fdk_voxel(par, img.data(), nu, nv, false, 3.0f, 9.0f, 4.0f), 5.0f);
    EXPECT_FLOAT_EQ(kc::fdk_voxel(par, img.data(), nu, nv, false, 3.5f, 0.0f, 4.0f), 2.5f);
    EXPECT_EQ(kc::fdk_voxel(par, img.data(), nu, nv, false, 3.0f, 0.0f, 8.5f), 0.0f);
    EXPECT_EQ(kc::fdk_voxel(par, img.data(), nu, nv, false, -2.0f, 0.0f, 4.0f), 0.0f);
    const float cone[12] = {2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2};  // w = 2, (u, v) = (x, z)
    EXPECT_FLOAT_EQ(kc::fdk_voxel(cone, img.data(), nu, nv, true, 3.0f, 1.0f, 4.0f), 5.0f / 4.0f);
}

TEST(FdkForms, GpuFormAndSlabFormAreTheSharedFormula) {
    // The two functors call the same helper with the views summed in the same order, so with all
    // views in one block they agree to the bit on x86-64 (a compiler that fuses multiply-adds in one
    // and not the other may differ by rounding: hence the tolerance); the executor's blocks of 32
    // views only add the partial sums in another order.
    for (bool cone : {true, false}) {
        const Scan s(cone);
        const Array<double> ref = by_formula(s, cone);
        const Array<float> gpu = gpu_form(s, cone);
        const Array<float> slab = slab_form(s, cone, s.views);
        double reached = 0.0;
        EXPECT_LT(rel_error(gpu, ref, &reached), 1e-5) << (cone ? "cone" : "parallel");
        EXPECT_GT(reached, 0.5) << (cone ? "cone" : "parallel");
        EXPECT_LT(reached, 1.0) << "some voxels should fall off the detector";
        EXPECT_LT(test::max_rel_diff(gpu, slab), 1e-6) << (cone ? "cone" : "parallel");  // measured 0
        EXPECT_LT(rel_error(slab_form(s, cone, 32), ref), 1e-5) << (cone ? "cone" : "parallel");
    }
}

// Both reads of a SIMD kernel against the shared formula and the slab functor.
void expect_simd_form_is_the_formula(SimdKernel kernel) {
    for (double row_scale : {1.0, 4.0})
        for (bool cone : {true, false}) {
            const Scan s(cone, row_scale);
            const Array<double> ref = by_formula(s, cone);
            const Array<float> simd = simd_form(s, cone, 32, kernel);
            double reached = 0.0;
            const std::string what = std::string(cone ? "cone" : "parallel") + " x" + std::to_string(row_scale);
            EXPECT_LT(rel_error(simd, ref, &reached), 1e-5) << what;
            EXPECT_GT(reached, row_scale == 1.0 ? 0.5 : 0.1) << what;
            EXPECT_LT(test::max_rel_diff(simd, slab_form(s, cone, 32)), 1e-5) << what;
        }
}

TEST(FdkForms, Avx2FormIsTheSharedFormula) {
    // The one documented exception: src/ct/simd.cpp restates fdk_column_sample with intrinsics
    // (8 slices at a time; the rest through the shared helpers). Its two reads are both held
    // here: at 1.6 (cone) and 1 (parallel) rows per slice, 8 slices inside the detector span at
    // most 13 rows and take the load-and-permute path (the blocks at the detector's top and
    // bottom edges with clamped rows); at 4x those slopes (6.4 and 4 rows per slice) every block
    // gathers.
    if (!ct::simd::have_avx2()) GTEST_SKIP() << "this CPU has no AVX2";
    expect_simd_form_is_the_formula(ct::simd::fdk_slab_avx2);
}

TEST(FdkForms, Avx512FormIsTheSharedFormula) {
    // The same exception with 16 slices a vector: at 1.6 and 1 rows per slice 16 slices span at
    // most 25 rows (load and permute), at 6.4 and 4 up to 96 (gathers); the Scan's 37 slices in
    // blocks of 16 end with a masked block of 5.
    if (!ct::simd::have_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
    expect_simd_form_is_the_formula(ct::simd::fdk_slab_avx512);
}
