// The ray-driven Joseph pair is written once (kern::ct::joseph_setup / joseph_walk and the two
// samples, kernels/ct/projector.hpp) and run in several forms: the GPU functors (one ray each,
// atomics for the scatter), the CPU back projector's schedule (set-up once per ray, walked plane
// chunk by plane chunk) and the AVX2 forms (src/ct/simd_joseph.cpp, the documented exception: 8
// neighbouring rays per instruction). Each form is held here, on the CPU, to the functors: the
// same samples in the same order, so the same bits.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <omp.h>

#include "kernels/ct/projector.hpp"
#include "lumen/core/array.hpp"
#include "lumen/ct/geometry.hpp"
#include "lumen/ct/projector.hpp"
#include "src/ct/simd.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
namespace kc = lumen::kern::ct;

namespace {

// A made-up scan in voxel index coordinates: odd sizes, anisotropic voxels, a detector wider and
// taller than the volume (some rays miss it, some graze its edges), and for the cone beam a
// source lifted high above the volume on every third view, so that rays of all three dominant
// axes occur. 37 columns: rows do not split into whole groups of 8.
struct Scan {
    int nu = 37, nv = 23, views = 18;
    bool cone;
    kc::VolumeDims dims{};
    std::vector<kc::RayView> rv;
    Array<float> vol, proj;

    explicit Scan(bool cone_) : cone(cone_), vol(Shape{17, 22, 29}), proj(Shape{views, nv, nu}) {
        dims.n[0] = 29;
        dims.n[1] = 22;
        dims.n[2] = 17;
        dims.vox[0] = 0.9f;
        dims.vox[1] = 1.1f;
        dims.vox[2] = 1.3f;
        dims.stride[0] = 1;
        dims.stride[1] = 29;
        dims.stride[2] = 29 * 22;
        const double cx = 14.2, cy = 10.4, cz = 8.1;
        for (int v = 0; v < views; ++v) {
            const double t = 2.0 * kPi * v / views + 0.3, c = std::cos(t), s = std::sin(t);
            const double lift = cone && v % 3 == 1 ? 45.0 : 2.0;
            kc::RayView r{};
            const double dir[3] = {-c, -s, cone ? 0.0 : 0.15 * std::sin(3.0 * t)};
            const double src[3] = {cx + 30.0 * c, cy + 30.0 * s, cz + lift};
            const double su[3] = {-s * 1.2, c * 1.2, 0.0}, sv[3] = {0.0, 0.0, 1.1};
            for (int j = 0; j < 3; ++j) {
                const double centre[3] = {cx - 25.0 * c, cy - 25.0 * s, cz};
                r.src[j] = float(cone ? src[j] : dir[j]);
                r.step_u[j] = float(su[j]);
                r.step_v[j] = float(sv[j]);
                r.det0[j] =
                    float(centre[j] - 0.5 * (nu - 1) * su[j] - 0.5 * (nv - 1) * sv[j] - (cone ? 0.0 : 30.0 * dir[j]));
            }
            rv.push_back(r);
        }
        vol = test::random_real(vol.shape(), cone ? 31 : 32);
        proj = test::random_real(proj.shape(), cone ? 33 : 34);
        for (index_t i = 0; i < proj.size(); i += 97) proj[i] = 0.0f;  // zero rays are skipped
    }
    kc::ForwardProjectF forward(float* out) const { return {rv.data(), vol.data(), out, dims, nu, nv, cone}; }
    index_t rays() const { return proj.size(); }
};

// The CPU back projector's schedule (src/ct/projector.cpp, apply_adjoint): per axis, rays in
// blocks; each ray of the axis with a non-zero value set up once per block and kept in ray order,
// the planes cut into chunks walked one after another.
template <class Walk>
Array<float> scatter_schedule(const Scan& s, index_t block, int chunks, Walk walk) {
    Array<float> out(s.vol.shape());
    std::vector<kc::JosephRay> rays(static_cast<std::size_t>(block));
    std::vector<float> values(static_cast<std::size_t>(block));
    for (int axis = 0; axis < 3; ++axis)
        for (index_t r0 = 0; r0 < s.rays(); r0 += block) {
            index_t kept = 0;
            for (index_t r = r0; r < std::min(s.rays(), r0 + block); ++r) {
                if (s.proj[r] == 0.0f) continue;
                const kc::DetectorIndex k = kc::detector_index(r, s.nu, s.nv);
                float p[3], d[3];
                kc::ray_of(s.rv[std::size_t(k.view)], s.cone, k.iu, k.iv, p, d);
                if (kc::dominant_axis(d) != axis || !kc::joseph_setup(p, d, s.dims, rays[std::size_t(kept)])) continue;
                values[std::size_t(kept++)] = s.proj[r];
            }
            const int na = s.dims.n[axis];
            for (int c = 0; c < chunks; ++c)
                walk(rays.data(), values.data(), kept, s.dims, out.data(), na * c / chunks, na * (c + 1) / chunks);
        }
    return out;
}

// Before the set-up was hoisted: per axis, BackProjectRayF over all rays (set-up and walk in one).
Array<float> functor_schedule(const Scan& s) {
    Array<float> out(s.vol.shape());
    for (int axis = 0; axis < 3; ++axis) {
        const kc::BackProjectRayF<false> f{s.rv.data(), s.proj.data(), out.data(), s.dims, s.nu,
                                           s.nv,        s.cone,        axis,       0,      1 << 30};
        for (index_t r = 0; r < s.rays(); ++r) f(r);
    }
    return out;
}

// Groups of 8 neighbouring rays of a row that the AVX2 forms run together, and all groups.
std::pair<int, int> lined_up_groups(const Scan& s) {
    int together = 0, groups = 0;
    for (index_t r0 = 0; r0 < s.rays(); r0 += s.nu)
        for (index_t g = r0; g + 8 <= r0 + s.nu; g += 8) {
            ++groups;
            kc::JosephRay ray[8];
            bool ok = true;
            int k0 = -(1 << 30), k1 = 1 << 30;
            for (int j = 0; j < 8 && ok; ++j) {
                const kc::DetectorIndex k = kc::detector_index(g + j, s.nu, s.nv);
                float p[3], d[3];
                kc::ray_of(s.rv[std::size_t(k.view)], s.cone, k.iu, k.iv, p, d);
                ok = kc::joseph_setup(p, d, s.dims, ray[j]) && ray[j].a == ray[0].a;
                if (ok) {
                    k0 = std::max(k0, ray[j].k_in0);
                    k1 = std::min(k1, ray[j].k_in1);
                }
            }
            together += ok && k0 < k1;
        }
    return {together, groups};
}

}  // namespace

TEST(JosephForms, ScanReachesAllAxesAndLinesUpGroups) {
    // The scan must exercise what the forms differ in: rays of each dominant axis, rays that miss,
    // and groups of 8 that the AVX2 forms take together as well as groups they leave to the
    // shared helpers.
    for (bool cone : {true, false}) {
        const Scan s(cone);
        int axes[3] = {0, 0, 0}, missing = 0;
        for (index_t r = 0; r < s.rays(); ++r) {
            const kc::DetectorIndex k = kc::detector_index(r, s.nu, s.nv);
            float p[3], d[3];
            kc::ray_of(s.rv[std::size_t(k.view)], s.cone, k.iu, k.iv, p, d);
            kc::JosephRay ray;
            if (kc::joseph_setup(p, d, s.dims, ray))
                ++axes[ray.a];
            else
                ++missing;
        }
        EXPECT_GT(axes[0], 0);
        EXPECT_GT(axes[1], 0);
        if (cone) {
            EXPECT_GT(axes[2], 0);
        }
        EXPECT_GT(missing, 0);
        const auto [together, groups] = lined_up_groups(s);
        // measured 1019 (cone) and 629 (parallel) of 1656
        EXPECT_GT(together, groups / 4) << (cone ? "cone" : "parallel");
        EXPECT_LT(together, groups);
        RecordProperty(cone ? "cone_groups_together" : "parallel_groups_together",
                       std::to_string(together) + " of " + std::to_string(groups));
    }
}

TEST(JosephForms, ChunkedScatterWithHoistedSetupIsTheFunctorToTheBit) {
    // A voxel receives its samples in ray order whichever chunks and blocks the planes and views
    // are cut into, and every sample is the shared helper's: the same bits as BackProjectRayF.
    for (bool cone : {true, false}) {
        const Scan s(cone);
        const Array<float> ref = functor_schedule(s);
        for (index_t block : {index_t(13), index_t(s.nu) * s.nv, s.rays()})
            for (int chunks : {1, 3, 8}) {
                const Array<float> got = scatter_schedule(s, block, chunks, kc::joseph_scatter_rays);
                EXPECT_TRUE(test::same_bits(got, ref))
                    << (cone ? "cone" : "parallel") << " block " << block << " chunks " << chunks;
            }
        // The GPU form adds every ray's samples atomically in one pass (another order per voxel).
        Array<float> gpu(s.vol.shape());
        const kc::BackProjectRayF<true> g{s.rv.data(), s.proj.data(), gpu.data(), s.dims, s.nu,
                                          s.nv,        s.cone,        -1,         0,      1 << 30};
        for (index_t r = 0; r < s.rays(); ++r) g(r);
        const double gpu_diff = test::max_rel_diff(gpu, ref);
        char text[32];
        std::snprintf(text, sizeof text, "%.2g", gpu_diff);
        RecordProperty(cone ? "cone_gpu_form_rel_diff" : "parallel_gpu_form_rel_diff", text);
        EXPECT_LT(gpu_diff, 1e-5) << (cone ? "cone" : "parallel");  // measured 3.5e-7 (cone), 2.1e-7 (parallel)
    }
}

TEST(JosephForms, Avx2ScatterIsTheSharedFormula) {
    if (!ct::simd::have_avx2()) GTEST_SKIP() << "this CPU has no AVX2";
    for (bool cone : {true, false}) {
        const Scan s(cone);
        ASSERT_TRUE(ct::simd::joseph_avx2_fits(s.dims));
        const Array<float> ref = functor_schedule(s);
        for (int chunks : {1, 5}) {
            // How many groups of 8 records the AVX2 form takes together (all set up, one axis, a
            // common interior plane in the chunk): the vector body must run.
            int together = 0, groups = 0;
            const auto counted = [&](const kc::JosephRay* rays, const float* values, index_t count,
                                     const kc::VolumeDims& dims, float* vol, int k0, int k1) {
                for (index_t i = 0; i + 8 <= count; i += 8) {
                    int lo = k0, hi = k1;
                    bool ok = true;
                    for (int j = 0; j < 8; ++j) {
                        const kc::JosephRay& r = rays[i + j];
                        ok = ok && r.kb < r.ke && r.a == rays[i].a;
                        lo = std::max(lo, r.k_in0);
                        hi = std::min(hi, r.k_in1);
                    }
                    ++groups;
                    together += ok && lo < hi;
                }
                ct::simd::joseph_scatter_rays_avx2(rays, values, count, dims, vol, k0, k1);
            };
            const Array<float> got = scatter_schedule(s, 8192, chunks, counted);
            // measured (cone, parallel): 1 chunk 1302 of 1464, 589 of 1069; 5 chunks 4757 of
            // 7320, 1828 of 5345
            EXPECT_GT(together, groups / 5) << (cone ? "cone" : "parallel") << " chunks " << chunks;
            RecordProperty(
                std::string(cone ? "cone" : "parallel") + "_scatter_groups_together_chunks_" + std::to_string(chunks),
                std::to_string(together) + " of " + std::to_string(groups));
            // Same arithmetic, same order: measured bitwise equal (x86-64, GCC 12); the tolerance
            // is for a compiler that fuses multiply-adds in one form and not the other.
            EXPECT_LT(test::max_rel_diff(got, ref), 1e-6) << (cone ? "cone" : "parallel") << " chunks " << chunks;
            RecordProperty(
                std::string(cone ? "cone" : "parallel") + "_scatter_same_bits_chunks_" + std::to_string(chunks),
                test::same_bits(got, ref) ? "yes" : "no");
        }
    }
}

TEST(JosephForms, Avx2ForwardIsTheSharedFormula) {
    if (!ct::simd::have_avx2()) GTEST_SKIP() << "this CPU has no AVX2";
    for (bool cone : {true, false}) {
        const Scan s(cone);
        Array<float> ref(s.proj.shape()), got(s.proj.shape());
        const kc::ForwardProjectF f = s.forward(ref.data());
        for (index_t r = 0; r < s.rays(); ++r) f(r);
        const kc::ForwardProjectF g = s.forward(got.data());
        for (index_t r0 = 0; r0 < s.rays(); r0 += s.nu) ct::simd::forward_rays_avx2(g, r0, r0 + s.nu);
        double reached = 0.0;
        for (float v : ref) reached += v != 0.0f;
        EXPECT_GT(reached / double(ref.size()), 0.3) << "most rays should cross the volume";
        // Measured bitwise equal (x86-64, GCC 12); tolerance as above.
        EXPECT_LT(test::max_rel_diff(got, ref), 1e-6) << (cone ? "cone" : "parallel");
        RecordProperty(std::string(cone ? "cone" : "parallel") + "_forward_same_bits",
                       test::same_bits(got, ref) ? "yes" : "no");
    }
}

TEST(JosephForms, ProjectorPairIsTheSameBitsWhateverTheThreads) {
    // The back projector's blocks are shared out by thread and its plane chunks scale with the
    // threads; a voxel still receives its samples in ray order, so 1, 2 and 3 threads give the
    // same bits (forward: each ray is its own sum). Large enough for the parallel path.
    const ct::Geometry g = ct::default_cone_geometry(40, 1.0, 23);
    const ct::Projector A(g, Device::cpu);
    const Array<float> x = test::random_real(g.volume_shape(), 41), y = test::random_real(g.projection_shape(), 42);
    const int saved = omp_get_max_threads();
    Array<float> ax1(g.projection_shape()), aty1(g.volume_shape());
    omp_set_num_threads(1);
    A.apply(x, ax1);
    A.apply_adjoint(y, aty1);
    for (int threads : {2, 3}) {
        omp_set_num_threads(threads);
        Array<float> ax(g.projection_shape()), aty(g.volume_shape());
        A.apply(x, ax);
        A.apply_adjoint(y, aty);
        EXPECT_TRUE(test::same_bits(ax, ax1)) << threads << " threads";
        EXPECT_TRUE(test::same_bits(aty, aty1)) << threads << " threads";
    }
    omp_set_num_threads(saved);
}
