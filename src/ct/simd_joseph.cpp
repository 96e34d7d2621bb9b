// AVX2 forms of the ray-driven Joseph pair's CPU kernels (see src/ct/simd.hpp): the documented
// exception to "the math once" (docs/design.md). Eight neighbouring rays share an instruction on
// the planes where all eight are in their interior; there the body restates
// kern::ct::joseph_sample_interior (kernels/ct/projector.hpp) with intrinsics, in the same order
// and without fused multiply-adds (the functions are compiled for AVX2 alone, as the shared
// helpers are compiled without FMA), so every sample is the same float arithmetic. Everything
// else (each ray's set-up, its edge planes, groups of rays that do not line up) goes through the
// shared helpers. A ray's samples are still taken in plane order and a voxel still receives its
// samples in ray order, so results equal the functors' to the bit; tests/ct/test_joseph_forms.cpp
// holds them to that.
#include "src/ct/simd.hpp"

#include <algorithm>

namespace lumen::ct::simd {

namespace kc = lumen::kern::ct;

bool joseph_avx2_fits(const kc::VolumeDims& dims) {
    // Gathers take 32-bit offsets: every voxel index (plus one neighbour step) must fit.
    const long long size = (long long)dims.n[0] * dims.n[1] * dims.n[2];
    return size < (1LL << 31) - 1;
}

#if LUMEN_CT_X86

namespace {

// The common interior [k0, k1) of 8 set-up rays with one dominant axis, clipped to [lo, hi);
// false when they do not line up (a ray skipped, another axis, no common interior plane).
bool common_interior(const kc::JosephRay* r, int lo, int hi, int& k0, int& k1) {
    k0 = lo;
    k1 = hi;
    for (int j = 0; j < 8; ++j) {
        if (r[j].kb >= r[j].ke || r[j].a != r[0].a) return false;
        k0 = std::max(k0, r[j].k_in0);
        k1 = std::min(k1, r[j].k_in1);
    }
    return k0 < k1;
}

// The 8 lanes' start points and slopes.
struct Lanes {
    __m256 pa, pb, pc, sb, sc;
};
__attribute__((target("avx2"))) Lanes lanes_of(const kc::JosephRay* r) {
    alignas(32) float pa[8], pb[8], pc[8], sb[8], sc[8];
    for (int j = 0; j < 8; ++j) {
        pa[j] = r[j].pa;
        pb[j] = r[j].pb;
        pc[j] = r[j].pc;
        sb[j] = r[j].sb;
        sc[j] = r[j].sc;
    }
    return {_mm256_load_ps(pa), _mm256_load_ps(pb), _mm256_load_ps(pc), _mm256_load_ps(sb), _mm256_load_ps(sc)};
}

// joseph_sample_interior for 8 lanes on plane k: the offset of neighbour (b0, c0) and the four
// bilinear weights, in the shared helper's order of operations.
struct Sample {
    __m256i off;
    __m256 w00, w10, w01, w11;
};
__attribute__((target("avx2"))) inline Sample sample_of(const Lanes& l, int k, long long sa, __m256i vsb, __m256i vsc) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = _mm256_sub_ps(_mm256_set1_ps(float(k)), l.pa);
    const __m256 fb = _mm256_add_ps(l.pb, _mm256_mul_ps(t, l.sb));
    const __m256 fc = _mm256_add_ps(l.pc, _mm256_mul_ps(t, l.sc));
    const __m256i b0 = _mm256_cvttps_epi32(fb), c0 = _mm256_cvttps_epi32(fc);
    const __m256 wb1 = _mm256_sub_ps(fb, _mm256_cvtepi32_ps(b0)), wc1 = _mm256_sub_ps(fc, _mm256_cvtepi32_ps(c0));
    const __m256 wb0 = _mm256_sub_ps(one, wb1), wc0 = _mm256_sub_ps(one, wc1);
    Sample s;
    s.off = _mm256_add_epi32(_mm256_set1_epi32(int(k * sa)),
                             _mm256_add_epi32(_mm256_mullo_epi32(b0, vsb), _mm256_mullo_epi32(c0, vsc)));
    s.w00 = _mm256_mul_ps(wb0, wc0);
    s.w10 = _mm256_mul_ps(wb1, wc0);
    s.w01 = _mm256_mul_ps(wb0, wc1);
    s.w11 = _mm256_mul_ps(wb1, wc1);
    return s;
}

}  // namespace

__attribute__((target("avx2"))) void forward_rays_avx2(const kc::ForwardProjectF& f, index_t r0, index_t r1) {
    const kc::VolumeDims& dims = f.dims;
    index_t r = r0;
    for (; r + 8 <= r1; r += 8) {
        kc::JosephRay ray[8];
        bool set = true;
        for (int j = 0; j < 8 && set; ++j) {
            const kc::DetectorIndex k = kc::detector_index(r + j, f.nu, f.nv);
            float p[3], d[3];
            kc::ray_of(f.views[k.view], f.cone, k.iu, k.iv, p, d);
            set = kc::joseph_setup(p, d, dims, ray[j]);
        }
        int k0 = 0, k1 = 0;
        if (!set || !common_interior(ray, -(1 << 30), 1 << 30, k0, k1)) {
            for (int j = 0; j < 8; ++j) f(r + j);
            continue;
        }
        // Planes before the common interior, one ray at a time (shared helpers).
        alignas(32) float acc[8];
        for (int j = 0; j < 8; ++j) {
            kc::GatherPolicy g{f.vol};
            g.begin(ray[j].len);
            kc::joseph_walk(ray[j], dims, ray[j].kb, k0, g);
            acc[j] = g.acc;
        }
        // The common interior, 8 rays per instruction.
        const int a = ray[0].a, b = ray[0].b, c = ray[0].c;
        const long long sa = dims.stride[a], sb = dims.stride[b], sc = dims.stride[c];
        const __m256i vsb = _mm256_set1_epi32(int(sb)), vsc = _mm256_set1_epi32(int(sc));
        const float *v00 = f.vol, *v10 = f.vol + sb, *v01 = f.vol + sc, *v11 = f.vol + sb + sc;
        const Lanes l = lanes_of(ray);
        __m256 sum = _mm256_load_ps(acc);
        for (int k = k0; k < k1; ++k) {
            const Sample s = sample_of(l, k, sa, vsb, vsc);
            sum = _mm256_add_ps(sum, _mm256_mul_ps(s.w00, _mm256_i32gather_ps(v00, s.off, 4)));
            sum = _mm256_add_ps(sum, _mm256_mul_ps(s.w10, _mm256_i32gather_ps(v10, s.off, 4)));
            sum = _mm256_add_ps(sum, _mm256_mul_ps(s.w01, _mm256_i32gather_ps(v01, s.off, 4)));
            sum = _mm256_add_ps(sum, _mm256_mul_ps(s.w11, _mm256_i32gather_ps(v11, s.off, 4)));
        }
        _mm256_store_ps(acc, sum);
        // Planes after it, one ray at a time.
        for (int j = 0; j < 8; ++j) {
            kc::GatherPolicy g{f.vol};
            g.begin(ray[j].len);
            g.acc = acc[j];
            kc::joseph_walk(ray[j], dims, k1, ray[j].ke, g);
            f.proj[r + j] = g.result();
        }
    }
    for (; r < r1; ++r) f(r);
}

__attribute__((target("avx2"))) void joseph_scatter_rays_avx2(const kc::JosephRay* rays, const float* values,
                                                              index_t count, const kc::VolumeDims& dims, float* vol,
                                                              int k_begin, int k_end) {
    index_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const kc::JosephRay* ray = rays + i;
        int k0 = 0, k1 = 0;
        if (!common_interior(ray, k_begin, k_end, k0, k1)) {
            kc::joseph_scatter_rays(ray, values + i, 8, dims, vol, k_begin, k_end);
            continue;
        }
        // Every plane is written in one of three phases, rays in order within each: a voxel
        // (one plane) receives its samples in ray order, as in joseph_scatter_rays.
        kc::joseph_scatter_rays(ray, values + i, 8, dims, vol, k_begin, k0);
        const int a = ray[0].a, b = ray[0].b, c = ray[0].c;
        const long long sa = dims.stride[a], sb = dims.stride[b], sc = dims.stride[c];
        const __m256i vsb = _mm256_set1_epi32(int(sb)), vsc = _mm256_set1_epi32(int(sc));
        const Lanes l = lanes_of(ray);
        alignas(32) float scaled_[8];
        for (int j = 0; j < 8; ++j) scaled_[j] = values[i + j] * ray[j].len;  // ScatterPolicy::begin
        const __m256 scaled = _mm256_load_ps(scaled_);
        alignas(32) int off[8];
        alignas(32) float w00[8], w10[8], w01[8], w11[8];
        for (int k = k0; k < k1; ++k) {
            const Sample s = sample_of(l, k, sa, vsb, vsc);
            _mm256_store_si256(reinterpret_cast<__m256i*>(off), s.off);
            _mm256_store_ps(w00, _mm256_mul_ps(scaled, s.w00));
            _mm256_store_ps(w10, _mm256_mul_ps(scaled, s.w10));
            _mm256_store_ps(w01, _mm256_mul_ps(scaled, s.w01));
            _mm256_store_ps(w11, _mm256_mul_ps(scaled, s.w11));
            for (int j = 0; j < 8; ++j) {
                float* v = vol + off[j];
                v[0] += w00[j];
                v[sb] += w10[j];
                v[sc] += w01[j];
                v[sb + sc] += w11[j];
            }
        }
        kc::joseph_scatter_rays(ray, values + i, 8, dims, vol, k1, k_end);
    }
    kc::joseph_scatter_rays(rays + i, values + i, count - i, dims, vol, k_begin, k_end);
}

#else

void forward_rays_avx2(const kc::ForwardProjectF& f, index_t r0, index_t r1) {
    for (index_t r = r0; r < r1; ++r) f(r);
}
void joseph_scatter_rays_avx2(const kc::JosephRay* rays, const float* values, index_t count, const kc::VolumeDims& dims,
                              float* vol, int k_begin, int k_end) {
    kc::joseph_scatter_rays(rays, values, count, dims, vol, k_begin, k_end);
}

#endif

}  // namespace lumen::ct::simd
