// Mixed-state (incoherent multi-mode) probes (docs/ptychography.md, "Mixed-state probes"): the
// starting modes made from one probe, and the orthogonalisation that fixes the modes' gauge.
#pragma once

#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"

namespace lumen::ptycho {

// K starting modes [K][my][mx] (host) from one probe [my][mx] (any device): mode 0 is the probe,
// mode k >= 1 is the probe times the k-th low-order Cartesian polynomial x^a y^b (a + b = 1, 2,
// ...; x, y about the probe's intensity centroid in units of its rms width), made orthogonal to the
// modes before it (Gram-Schmidt) and given `fraction` of the total power. The total power is the
// probe's, so the data's scale is kept. K = 1 returns the probe.
Array<complex64> initial_probe_modes(View<const complex64> probe, index_t modes, double fraction = 0.05);

// Makes the modes [K][my][mx] (any device; in place) orthogonal: the eigen-decomposition of their
// K x K Gram matrix G_kl = <P_k, P_l> gives the unitary mixing that diagonalises it (the SVD of
// the modes as columns); the new modes are sorted by power. A unitary mixing of the modes leaves
// sum_k |F(P_k O)|^2, so every intensity and loss, unchanged. Returns the powers ||P_k||^2,
// descending.
std::vector<double> orthogonalize_modes(View<complex64> modes);

}  // namespace lumen::ptycho
