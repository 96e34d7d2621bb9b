"""The plan objects (ct.Reconstructor, ptycho.Reconstructor): set up once, reconstruct call after
call into the caller's arrays, and give what the one-call functions give."""

from __future__ import annotations

import numpy as np
import pytest

import lumen


def small_ct_scan():
    return lumen.ct.simulate(size=24, views=30, i0=1e4, seed=2)


def test_ct_plan_equals_one_call_and_writes_in_place():
    scan = small_ct_scan()
    t = lumen.ct.transmission(scan, "cpu")
    noise = lumen.ct.count_noise(scan)
    one = lumen.ct.reconstruct(scan.geometry, t, noise=noise, method="sirt", iterations=5)
    rec = lumen.ct.Reconstructor(scan.geometry, method="sirt", iterations=5)
    volume, info = rec.reconstruct(t, noise)
    np.testing.assert_array_equal(volume, one.volume)
    assert info.solver.iterations == one.solver.iterations
    # The caller's array is the output, and a second call on the same plan gives the same result.
    out = np.full(volume.shape, np.nan, dtype=np.float32)
    again, _ = rec.reconstruct(t, noise, out=out)
    assert again is out
    np.testing.assert_array_equal(out, one.volume)
    assert rec.options.method == "sirt"


def test_ct_plan_refuses_wrong_shapes():
    scan = small_ct_scan()
    t = lumen.ct.transmission(scan, "cpu")
    rec = lumen.ct.Reconstructor(scan.geometry, method="fdk")
    with pytest.raises(ValueError, match="transmission"):
        rec.reconstruct(np.ascontiguousarray(t[:-1]))
    with pytest.raises(ValueError, match="out"):
        rec.reconstruct(t, out=np.zeros((2, 2, 2), dtype=np.float32))


def small_ptycho_scan():
    return lumen.ptycho.simulate(frame=32, positions=36, photons=1e5, seed=4)


def test_ptycho_plan_equals_one_call_and_writes_in_place():
    scan = small_ptycho_scan()
    one = lumen.ptycho.reconstruct(scan, method="awf", iterations=8, check_orientation=False)
    rec = lumen.ptycho.Reconstructor(scan, method="awf", iterations=8, check_orientation=False)
    obj, probe, info = rec.reconstruct(scan.intensities, scan.mask, scan.probe)
    np.testing.assert_allclose(obj, one.object, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probe, one.probe, rtol=1e-5, atol=1e-6)
    assert info.solver.iterations == one.solver.iterations
    object_out = np.zeros(rec.object_shape, dtype=np.complex64)
    probe_out = np.zeros(rec.probe_shape, dtype=np.complex64)
    o2, p2, _ = rec.reconstruct(scan.intensities, scan.mask, scan.probe, object_out=object_out, probe_out=probe_out)
    assert o2 is object_out and p2 is probe_out
    np.testing.assert_allclose(object_out, one.object, rtol=1e-5, atol=1e-6)
    quality = rec.compare_with_truth(object_out, probe_out, info.refined_probe, scan.true_object, scan.true_probe)
    assert quality.nrmse == pytest.approx(one.quality.nrmse, rel=1e-4)


def test_ptycho_modes_and_positions_reach_python():
    scan = small_ptycho_scan()
    result = lumen.ptycho.reconstruct(scan, method="awf", iterations=4, modes=2, refine_positions=True,
                                      position_delay=1, check_orientation=False)
    assert result.probe_modes.shape == (2,) + tuple(result.probe.shape)
    assert len(result.mode_fractions) == 2 and sum(result.mode_fractions) == pytest.approx(1.0)
    assert result.refined_positions
    assert result.positions.shape == scan.positions.shape
    # The coarse search (on by default) can be turned off; the gradient steps still move positions.
    plain = lumen.ptycho.reconstruct(scan, method="awf", iterations=4, refine_positions=True, position_search=False,
                                     position_delay=1, check_orientation=False)
    assert plain.refined_positions and plain.positions.shape == scan.positions.shape
    with pytest.raises(lumen.LumenError, match="ReconOptions.modes"):
        lumen.ptycho.reconstruct(scan, method="epie", modes=2)


def test_plan_progress_exception_is_raised_from_reconstruct():
    scan = small_ct_scan()
    t = lumen.ct.transmission(scan, "cpu")
    seen = []

    def progress(info):
        seen.append(info.iteration.iteration)
        if len(seen) == 2:
            raise KeyError("stop here")

    rec = lumen.ct.Reconstructor(scan.geometry, method="sirt", iterations=6, stop="iterations", progress=progress)
    with pytest.raises(KeyError, match="stop here"):
        rec.reconstruct(t)
    assert seen == [1, 2]
    # The plan stays usable: the next call runs (and raises again at its second iteration).
    seen.clear()
    with pytest.raises(KeyError):
        rec.reconstruct(t)
    assert seen == [1, 2]
