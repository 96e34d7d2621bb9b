// AVX2 form of the FDK voxel back projector's CPU kernel (see src/ct/simd.hpp): the one
// documented exception to "the math once" (docs/design.md). It calls the shared fdk_column for
// each column and fdk_column_sample for the slices left over; only the 8-slice body below restates
// fdk_column_sample (kernels/ct/projector.hpp) in intrinsics, in the same order, so results agree
// to rounding (the compiler may fuse multiply-adds in one and not the other). The test
// tests/ct/test_fdk_forms.cpp holds it to fdk_voxel.
#include "src/ct/simd.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LUMEN_CT_X86 1
#else
#define LUMEN_CT_X86 0
#endif

namespace lumen::ct::simd {

#if LUMEN_CT_X86

bool have_avx2() {
    static const bool ok = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return ok;
}

__attribute__((target("avx2,fma"))) void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, int iy, int z0,
                                                       int z1, int view_begin, int view_end, float* acc) {
    const long long view_size = (long long)(f.nu + 2) * (f.nv + 2);
    const int stride = f.nu + 2;
    const int nzb = z1 - z0;
    const float y = float(iy);
    const __m256 lane = _mm256_setr_ps(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    const __m256 v_hi = _mm256_set1_ps(float(f.nv + 1));
    const __m256i v_stride = _mm256_set1_epi32(stride);
    for (int v = view_begin; v < view_end; ++v) {
        const float* m = f.mats + 12 * v;
        const float* img = f.proj + v * view_size;
        const __m256 m6 = _mm256_set1_ps(m[6]);
        for (int ix = 0; ix < f.nx; ++ix) {
            const kern::ct::FdkColumn c = kern::ct::fdk_column(m, f.nu, f.cone, float(ix), y);
            if (!c.inside) continue;
            const float* col = img + c.iu;
            float* a = acc + (long long)ix * nzb - z0;
            const __m256 v_vb = _mm256_set1_ps(c.vb), v_iw = _mm256_set1_ps(c.iw), v_fu = _mm256_set1_ps(c.fu),
                         v_wt = _mm256_set1_ps(c.wt);
            int iz = z0;
            for (; iz + 8 <= z1; iz += 8) {
                const __m256 z = _mm256_add_ps(_mm256_set1_ps(float(iz)), lane);
                const __m256 pv = _mm256_add_ps(_mm256_mul_ps(_mm256_add_ps(v_vb, _mm256_mul_ps(m6, z)), v_iw), one);
                const __m256 inside =
                    _mm256_and_ps(_mm256_cmp_ps(pv, zero, _CMP_GT_OQ), _mm256_cmp_ps(pv, v_hi, _CMP_LT_OQ));
                if (_mm256_movemask_ps(inside) == 0) continue;
                // Lanes outside read row 1 (always valid) and are zeroed afterwards.
                const __m256 pv_safe = _mm256_blendv_ps(one, pv, inside);
                const __m256i iv = _mm256_cvttps_epi32(pv_safe);
                const __m256 fv = _mm256_sub_ps(pv_safe, _mm256_cvtepi32_ps(iv));
                const __m256i off = _mm256_mullo_epi32(iv, v_stride);
                const __m256 p00 = _mm256_i32gather_ps(col, off, 4);
                const __m256 p01 = _mm256_i32gather_ps(col + 1, off, 4);
                const __m256 p10 = _mm256_i32gather_ps(col + stride, off, 4);
                const __m256 p11 = _mm256_i32gather_ps(col + stride + 1, off, 4);
                const __m256 top = _mm256_add_ps(p00, _mm256_mul_ps(v_fu, _mm256_sub_ps(p01, p00)));
                const __m256 bottom = _mm256_add_ps(p10, _mm256_mul_ps(v_fu, _mm256_sub_ps(p11, p10)));
                const __m256 val = _mm256_and_ps(_mm256_add_ps(top, _mm256_mul_ps(fv, _mm256_sub_ps(bottom, top))), inside);
                _mm256_storeu_ps(a + iz, _mm256_add_ps(_mm256_loadu_ps(a + iz), _mm256_mul_ps(v_wt, val)));
            }
            for (; iz < z1; ++iz) a[iz] += kern::ct::fdk_column_sample(c, img, f.nu, f.nv, m[6], float(iz));
        }
    }
    f.add_to_volume(iy, z0, z1, acc);
}

#else

bool have_avx2() { return false; }
void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, int iy, int z0, int z1, int view_begin, int view_end,
                   float* acc) {
    f(iy, z0, z1, view_begin, view_end, acc);
}

#endif

}  // namespace lumen::ct::simd
