// CPU SIMD specialisations of CT kernels (host only): the one documented exception to "the math
// once" (docs/design.md). They restate the shared formula of kernels/ct/*.hpp with intrinsics,
// several voxels per instruction, and call the shared helpers for everything else; callers fall
// back to the functor when the CPU lacks the instructions. tests/ct/test_fdk_forms.cpp (FDK,
// src/ct/simd.cpp) and tests/ct/test_joseph_forms.cpp (the projector pair, src/ct/simd_joseph.cpp)
// hold them to the shared formula.
#pragma once

#include "kernels/ct/projector.hpp"

namespace lumen::ct::simd {

// True when this CPU runs the AVX2 + FMA paths (checked once).
bool have_avx2();

// FdkBackprojectSlabF::operator() with 8 slices per AVX2 instruction (gathers for the detector
// reads). Only call when have_avx2().
void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, int iy, int z0, int z1, int view_begin, int view_end,
                   float* acc);

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
