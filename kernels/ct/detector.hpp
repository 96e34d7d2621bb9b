// Where a detector sample lives in a projection stack [views][nv][nu] (C order); shared by every
// functor that runs one index per detector sample (projectors, phantom projection, FDK's weights
// and padding).
#pragma once

#include "kernels/common/kernel.hpp"

namespace lumen::kern::ct {

struct DetectorIndex {
    int view, iv, iu;
};
LUMEN_HD inline DetectorIndex detector_index(index_t i, int nu, int nv) {
    const index_t per_view = index_t(nu) * nv;
    const int view = int(i / per_view);
    const int rem = int(i - index_t(view) * per_view);
    const int iv = rem / nu;
    return {view, iv, rem - iv * nu};
}

}  // namespace lumen::kern::ct
