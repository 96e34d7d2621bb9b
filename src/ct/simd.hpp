// CPU SIMD specialisations of CT kernels (host only): the one documented exception to "the math
// once" (docs/design.md). They restate the shared formula of kernels/ct/*.hpp with intrinsics,
// several voxels per instruction, and call the shared helpers for everything else; callers fall
// back to the functor when the CPU lacks the instructions. tests/ct/test_fdk_forms.cpp holds them
// to the shared formula.
#pragma once

#include "kernels/ct/projector.hpp"

namespace lumen::ct::simd {

// True when this CPU runs the AVX2 + FMA paths (checked once).
bool have_avx2();

// FdkBackprojectSlabF::operator() with 8 slices per AVX2 instruction (gathers for the detector
// reads). Only call when have_avx2().
void fdk_slab_avx2(const kern::ct::FdkBackprojectSlabF& f, int iy, int z0, int z1, int view_begin, int view_end,
                   float* acc);

}  // namespace lumen::ct::simd
