// CPU SIMD specialisations of CT kernels (host only): the one documented exception to "the math
// once" (docs/design.md). They restate the shared formula of kernels/ct/*.hpp with intrinsics,
// several voxels per instruction, and call the shared helpers for everything else; callers fall
// back to the functor when the CPU lacks the instructions. tests/ct/test_fdk_forms.cpp (FDK,
// src/ct/simd.cpp) and tests/ct/test_joseph_forms.cpp (the projector pair, src/ct/simd_joseph.cpp)
// hold them to the shared formula.
#pragma once

#include "kernels/ct/projector.hpp"

// The SIMD forms are built where the compiler can target x86-64's vector extensions per function
// (GCC, Clang); elsewhere have_avx2() / have_avx512() are false and the functors run.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LUMEN_CT_X86 1
#else
#define LUMEN_CT_X86 0
#endif

namespace lumen::ct::simd {

// True when this CPU runs the AVX2 + FMA paths (checked once).
bool have_avx2();
// True when it also runs the AVX-512 path (AVX-512F; checked once).
bool have_avx512();

// The AVX2 kernel also reads the filtered projections column-major: per view [nu + 2][pitch], each
// padded detector column's nv + 2 rows contiguous and zeros after them (pitch >= nv + 33, so that
// 32 floats from any row up to nv + 1 stay inside the column). fdk_column_pitch() is that pitch;
// fdk_transpose_view() writes view `view` of f.proj into `out` (rows beyond nv + 1 are not
// written: the caller zeroes `out` once).
int fdk_column_pitch(int nv);
void fdk_transpose_view(const kern::ct::FdkBackprojectSlabF& f, int view, float* out);

// FdkBackprojectSlabF::operator() with 8 slices per AVX2 instruction. `columns` holds views
// [view_begin, view_end) column-major (above), view_begin first. Down a z column the detector
// column and depth are fixed and the row is linear in z, so 8 slices read a short run of one
// detector column: when the rows the 8 read (clamped to the detector) fit in 16 (a row step below
// ~2 per slice, which a reconstruction at the detector's resolution has), the run is loaded
// with 4 vector loads and the samples picked with permutes (slices off the detector read a clamped
// row and are zeroed); otherwise (coarse voxels) they are gathered from f.proj. The slices left
// over go through the shared scalar helper. Only call when have_avx2().
void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, const float* columns, int iy, int z0, int z1,
                   int view_begin, int view_end, float* acc);
// The same with 16 slices per AVX-512 instruction: runs of up to 32 rows, one two-vector permute
// per read, masked lanes for the last slices. Only call when have_avx512().
void fdk_slab_avx512(const kern::ct::FdkBackprojectSlabF& f, const float* columns, int iy, int z0, int z1,
                     int view_begin, int view_end, float* acc);

// The ray-driven Joseph pair (src/ct/simd_joseph.cpp): 8 neighbouring rays per AVX2 instruction
// on the planes where all 8 are in their interior (joseph_sample_interior restated), the shared
// helpers elsewhere; each ray's samples are taken in the same order with the same arithmetic, so
// results equal the functors' to the bit. Both need joseph_avx2_fits (32-bit gather offsets).
bool joseph_avx2_fits(const kern::ct::VolumeDims& dims);

// ForwardProjectF over rays [r0, r1) (neighbours: one detector row). Only call when have_avx2().
void forward_rays_avx2(const kern::ct::ForwardProjectF& f, index_t r0, index_t r1);

// kern::ct::joseph_scatter_rays, 8 consecutive rays at a time. Only call when have_avx2().
void joseph_scatter_rays_avx2(const kern::ct::JosephRay* rays, const float* values, index_t count,
                              const kern::ct::VolumeDims& dims, float* vol, int k_begin, int k_end);

}  // namespace lumen::ct::simd
