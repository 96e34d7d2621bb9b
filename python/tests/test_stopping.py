"""The stopping rules and the multi-slice object reach Python: a fixed count when asked for, the
discrepancy rule (and its noise level) by default, and the slices of a thick object."""

from __future__ import annotations

import numpy as np

import lumen


def mri_slice():
    sim = lumen.mri.simulate(height=48, width=40, coils=4, slices=1, noise=0.05, seed=3)
    kspace = np.ascontiguousarray(sim.kspace[0])
    mask = lumen.mri.make_mask(48, 40, kind="equispaced", acceleration=4, center_fraction=0.12, seed=1)
    maps = np.ascontiguousarray(sim.sensitivities[0]) if sim.sensitivities.ndim == 4 else sim.sensitivities
    return kspace * mask[None, :, :], mask, maps


def test_mri_stop_iterations_runs_exactly_the_count_and_the_default_stops_by_the_noise():
    kspace, mask, maps = mri_slice()
    fixed = lumen.mri.reconstruct_slice(kspace, mask, maps, method="cg-sense", iterations=7, stop="iterations")
    assert fixed.solver.iterations == 7
    assert fixed.solver.stop_reason == "max_iterations"
    default = lumen.mri.reconstruct_slice(kspace, mask, maps, method="cg-sense", iterations=60)
    assert default.noise_variance > 0  # estimated from the readout margin
    assert default.solver.discrepancy_tau > 0
    assert default.solver.iterations <= 60
    given = lumen.mri.reconstruct_slice(kspace, mask, maps, method="l1-wavelet", iterations=5,
                                        stop="iterations", cycle_spinning=False)
    assert given.solver.iterations == 5


def test_ptycho_stop_and_slices_reach_python():
    scan = lumen.ptycho.simulate(frame=16, positions=25, photons=1e4, seed=5)
    rec = lumen.ptycho.reconstruct(scan, method="awf", iterations=6, stop="iterations", check_orientation=False)
    assert rec.stopping == "iterations" and rec.solver.iterations == 6
    thick = lumen.ptycho.simulate(frame=16, positions=25, photons=1e6, seed=5, slices=2, slice_distance_m=8e-3)
    assert thick.true_slices.shape[0] == 2 and thick.slice_distance_m == 8e-3
    res = lumen.ptycho.reconstruct(thick, method="awf", iterations=4, slices=2, stop="iterations",
                                   refine_probe=False, check_orientation=False)
    assert res.slices.shape == (2,) + tuple(res.object.shape)
    assert res.slice_distance == 8e-3
    np.testing.assert_allclose(res.slices[0] * res.slices[1], res.object, rtol=1e-4, atol=1e-5)
