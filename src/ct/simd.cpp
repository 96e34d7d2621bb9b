// AVX2 and AVX-512 forms of the FDK voxel back projector's CPU kernel (see src/ct/simd.hpp): the
// one documented exception to "the math once" (docs/design.md). They call the shared fdk_column
// for each column (and the AVX2 form fdk_column_sample for the slices left over); only the 8- or
// 16-slice bodies below restate fdk_column_sample (kernels/ct/projector.hpp) in intrinsics, in the
// same order (t(iv) and t(iv + 1) are its "top" and "bottom"), so results agree to rounding (the
// compiler may fuse multiply-adds in one and not the other). The test
// tests/ct/test_fdk_forms.cpp holds both to fdk_voxel.
#include "src/ct/simd.hpp"

#include <algorithm>

namespace lumen::ct::simd {

#if LUMEN_CT_X86

bool have_avx2() {
    static const bool ok = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return ok;
}

bool have_avx512() {
    static const bool ok = [] {
        __builtin_cpu_init();
        return have_avx2() && __builtin_cpu_supports("avx512f");
    }();
    return ok;
}

int fdk_column_pitch(int nv) { return ((nv + 33) + 15) / 16 * 16; }

void fdk_transpose_view(const kern::ct::FdkBackprojectSlabF& f, int view, float* out) {
    const int stride = f.nu + 2, rows = f.nv + 2, pitch = fdk_column_pitch(f.nv);
    const float* in = f.proj + (long long)view * stride * rows;
    // Blocks of 16 x 16 so that both sides stay in L1.
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < stride; c0 += 16)
            for (int c = c0; c < std::min(stride, c0 + 16); ++c)
                for (int r = r0; r < std::min(rows, r0 + 16); ++r) out[(long long)c * pitch + r] = in[(long long)r * stride + c];
}

__attribute__((target("avx2,fma"))) void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, const float* columns,
                                                       int iy, int z0, int z1, int view_begin, int view_end,
                                                       float* acc) {
    const long long view_size = (long long)(f.nu + 2) * (f.nv + 2);
    const int pitch = fdk_column_pitch(f.nv);
    const long long column_view_size = (long long)(f.nu + 2) * pitch;
    const int stride = f.nu + 2;
    const int nzb = z1 - z0;
    const float y = float(iy);
    const __m256 lane = _mm256_setr_ps(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    const __m256 v_hi = _mm256_set1_ps(float(f.nv + 1));
    const __m256i v_stride = _mm256_set1_epi32(stride);
    const __m256i seven = _mm256_set1_epi32(7), one_i = _mm256_set1_epi32(1);
    // Column by column, all the block's views for each: the column's nzb accumulators stay in L1
    // (views are still added in order, as in the other forms).
    for (int ix = 0; ix < f.nx; ++ix) {
        float* a = acc + (long long)ix * nzb - z0;
        for (int v = view_begin; v < view_end; ++v) {
            const float* m = f.mats + 12 * v;
            const kern::ct::FdkColumn c = kern::ct::fdk_column(m, f.nu, f.cone, float(ix), y);
            if (!c.inside) continue;
            const float* img = f.proj + v * view_size;
            const __m256 m6 = _mm256_set1_ps(m[6]);
            const float* col = img + c.iu;
            const float* c0 = columns + (v - view_begin) * column_view_size + (long long)c.iu * pitch;  // column iu
            const float* c1 = c0 + pitch;                                                             // and iu + 1
            const __m256 v_vb = _mm256_set1_ps(c.vb), v_iw = _mm256_set1_ps(c.iw), v_fu = _mm256_set1_ps(c.fu),
                         v_wt = _mm256_set1_ps(c.wt);
            int iz = z0;
            for (; iz + 8 <= z1; iz += 8) {
                const __m256 z = _mm256_add_ps(_mm256_set1_ps(float(iz)), lane);
                const __m256 pv = _mm256_add_ps(_mm256_mul_ps(_mm256_add_ps(v_vb, _mm256_mul_ps(m6, z)), v_iw), one);
                const __m256 inside =
                    _mm256_and_ps(_mm256_cmp_ps(pv, zero, _CMP_GT_OQ), _mm256_cmp_ps(pv, v_hi, _CMP_LT_OQ));
                const int mask = _mm256_movemask_ps(inside);
                if (mask == 0) continue;
                {
                    // Lanes off the detector read a clamped row (a valid one, and the clamp keeps the
                    // rows monotonic in the lane) and are zeroed afterwards; pv is unchanged inside.
                    const __m256 pv_c = _mm256_min_ps(_mm256_max_ps(pv, zero), v_hi);
                    const __m256i iv = _mm256_cvttps_epi32(pv_c);
                    const __m256 fv = _mm256_sub_ps(pv_c, _mm256_cvtepi32_ps(iv));
                    // The rows read are iv and iv + 1: the run starts at the smaller of lanes 0 and 7.
                    const int r0 = _mm256_cvtsi256_si32(iv);
                    const int r7 = _mm256_extract_epi32(iv, 7);
                    const int lo = std::min(r0, r7);
                    if (std::max(r0, r7) - lo <= 14) {
                        // t(r) = p(r, iu) + fu (p(r, iu + 1) - p(r, iu)) for rows lo .. lo + 15: the
                        // "top" and "bottom" of fdk_column_sample are t(iv) and t(iv + 1).
                        const __m256 a0 = _mm256_loadu_ps(c0 + lo), a1 = _mm256_loadu_ps(c0 + lo + 8);
                        const __m256 b0 = _mm256_loadu_ps(c1 + lo), b1 = _mm256_loadu_ps(c1 + lo + 8);
                        const __m256 t0 = _mm256_add_ps(a0, _mm256_mul_ps(v_fu, _mm256_sub_ps(b0, a0)));
                        const __m256 t1 = _mm256_add_ps(a1, _mm256_mul_ps(v_fu, _mm256_sub_ps(b1, a1)));
                        const __m256i k = _mm256_sub_epi32(iv, _mm256_set1_epi32(lo)), k1 = _mm256_add_epi32(k, one_i);
                        // Index k in 0..15: permutes use its low 3 bits, k > 7 takes the upper half.
                        const __m256 top = _mm256_blendv_ps(_mm256_permutevar8x32_ps(t0, k), _mm256_permutevar8x32_ps(t1, k),
                                                            _mm256_castsi256_ps(_mm256_cmpgt_epi32(k, seven)));
                        const __m256 bottom =
                            _mm256_blendv_ps(_mm256_permutevar8x32_ps(t0, k1), _mm256_permutevar8x32_ps(t1, k1),
                                             _mm256_castsi256_ps(_mm256_cmpgt_epi32(k1, seven)));
                        __m256 val = _mm256_add_ps(top, _mm256_mul_ps(fv, _mm256_sub_ps(bottom, top)));
                        if (mask != 0xFF) val = _mm256_and_ps(val, inside);
                        _mm256_storeu_ps(a + iz, _mm256_add_ps(_mm256_loadu_ps(a + iz), _mm256_mul_ps(v_wt, val)));
                        continue;
                    }
                }
                // Gathers (edges of the detector, or a row step too large for one run). Lanes
                // outside read row 1 (always valid) and are zeroed afterwards.
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

// GCC 12's AVX-512 headers pass _mm512_undefined_* to the masked builtins and then warn that it
// may be uninitialised (GCC bug 105593): silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx2,fma"))) void fdk_slab_avx512(const kern::ct::FdkBackprojectSlabF& f,
                                                                 const float* columns, int iy, int z0, int z1,
                                                                 int view_begin, int view_end, float* acc) {
    const long long view_size = (long long)(f.nu + 2) * (f.nv + 2);
    const int pitch = fdk_column_pitch(f.nv);
    const long long column_view_size = (long long)(f.nu + 2) * pitch;
    const int stride = f.nu + 2;
    const int nzb = z1 - z0;
    const float y = float(iy);
    const __m512 lane = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512 v_hi = _mm512_set1_ps(float(f.nv + 1));
    const __m512i v_stride = _mm512_set1_epi32(stride), one_i = _mm512_set1_epi32(1);
    // The same structure as fdk_slab_avx2 with 16 slices a vector: runs of up to 32 rows (two
    // vectors per detector column, one two-source permute per read), masked loads and stores for
    // the last slices instead of the scalar helper.
    for (int ix = 0; ix < f.nx; ++ix) {
        float* a = acc + (long long)ix * nzb - z0;
        for (int v = view_begin; v < view_end; ++v) {
            const float* m = f.mats + 12 * v;
            const kern::ct::FdkColumn c = kern::ct::fdk_column(m, f.nu, f.cone, float(ix), y);
            if (!c.inside) continue;
            const __m512 m6 = _mm512_set1_ps(m[6]);
            const float* col = f.proj + v * view_size + c.iu;
            const float* c0 = columns + (v - view_begin) * column_view_size + (long long)c.iu * pitch;  // column iu
            const float* c1 = c0 + pitch;                                                             // and iu + 1
            const __m512 v_vb = _mm512_set1_ps(c.vb), v_iw = _mm512_set1_ps(c.iw), v_fu = _mm512_set1_ps(c.fu),
                         v_wt = _mm512_set1_ps(c.wt);
            for (int iz = z0; iz < z1; iz += 16) {
                const __mmask16 live = z1 - iz >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (z1 - iz)) - 1u);
                const __m512 z = _mm512_add_ps(_mm512_set1_ps(float(iz)), lane);
                const __m512 pv = _mm512_add_ps(_mm512_mul_ps(_mm512_add_ps(v_vb, _mm512_mul_ps(m6, z)), v_iw), one);
                const __mmask16 inside = _mm512_cmp_ps_mask(pv, zero, _CMP_GT_OQ) &
                                         _mm512_cmp_ps_mask(pv, v_hi, _CMP_LT_OQ) & live;
                if (inside == 0) continue;
                // Rows clamped to the detector (monotonic in the lane, unchanged inside).
                const __m512 pv_c = _mm512_min_ps(_mm512_max_ps(pv, zero), v_hi);
                const __m512i iv = _mm512_cvttps_epi32(pv_c);
                const __m512 fv = _mm512_sub_ps(pv_c, _mm512_cvtepi32_ps(iv));
                const int r0 = _mm_cvtsi128_si32(_mm512_castsi512_si128(iv));
                const int r15 = _mm_extract_epi32(_mm512_extracti32x4_epi32(iv, 3), 3);
                const int lo = std::min(r0, r15);
                __m512 top, bottom;
                if (std::max(r0, r15) - lo <= 30) {
                    // t(r) = p(r, iu) + fu (p(r, iu + 1) - p(r, iu)), rows lo .. lo + 31.
                    const __m512 a0 = _mm512_loadu_ps(c0 + lo), a1 = _mm512_loadu_ps(c0 + lo + 16);
                    const __m512 b0 = _mm512_loadu_ps(c1 + lo), b1 = _mm512_loadu_ps(c1 + lo + 16);
                    const __m512 t0 = _mm512_add_ps(a0, _mm512_mul_ps(v_fu, _mm512_sub_ps(b0, a0)));
                    const __m512 t1 = _mm512_add_ps(a1, _mm512_mul_ps(v_fu, _mm512_sub_ps(b1, a1)));
                    const __m512i k = _mm512_sub_epi32(iv, _mm512_set1_epi32(lo));
                    top = _mm512_permutex2var_ps(t0, k, t1);
                    bottom = _mm512_permutex2var_ps(t0, _mm512_add_epi32(k, one_i), t1);
                } else {
                    const __m512i off = _mm512_mullo_epi32(iv, v_stride);
                    const __m512 p00 = _mm512_mask_i32gather_ps(zero, inside, off, col, 4);
                    const __m512 p01 = _mm512_mask_i32gather_ps(zero, inside, off, col + 1, 4);
                    const __m512 p10 = _mm512_mask_i32gather_ps(zero, inside, off, col + stride, 4);
                    const __m512 p11 = _mm512_mask_i32gather_ps(zero, inside, off, col + stride + 1, 4);
                    top = _mm512_add_ps(p00, _mm512_mul_ps(v_fu, _mm512_sub_ps(p01, p00)));
                    bottom = _mm512_add_ps(p10, _mm512_mul_ps(v_fu, _mm512_sub_ps(p11, p10)));
                }
                const __m512 val = _mm512_maskz_mov_ps(inside, _mm512_add_ps(top, _mm512_mul_ps(fv, _mm512_sub_ps(bottom, top))));
                const __m512 old = _mm512_maskz_loadu_ps(live, a + iz);
                _mm512_mask_storeu_ps(a + iz, live, _mm512_add_ps(old, _mm512_mul_ps(v_wt, val)));
            }
        }
    }
    f.add_to_volume(iy, z0, z1, acc);
}


#pragma GCC diagnostic pop

#else

bool have_avx2() { return false; }
bool have_avx512() { return false; }
int fdk_column_pitch(int nv) { return nv + 33; }
void fdk_transpose_view(const kern::ct::FdkBackprojectSlabF&, int, float*) {}
void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, const float*, int iy, int z0, int z1, int view_begin,
                   int view_end, float* acc) {
    f(iy, z0, z1, view_begin, view_end, acc);
}
void fdk_slab_avx512(const kern::ct::FdkBackprojectSlabF& f, const float*, int iy, int z0, int z1, int view_begin,
                     int view_end, float* acc) {
    f(iy, z0, z1, view_begin, view_end, acc);
}

#endif

}  // namespace lumen::ct::simd
