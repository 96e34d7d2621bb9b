// CPU SIMD specialisations of CT kernels (host only). They compute the same math as the
// functors in kernels/ct/*.hpp, several voxels per instruction; callers fall back to the functor
// when the CPU lacks the instructions.
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
