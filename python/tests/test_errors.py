"""lumen::Error as Python exceptions with lumen's message and field; options by keyword; progress
callbacks that stop a run or raise."""

from __future__ import annotations

import numpy as np
import pytest

import lumen
from conftest import DATA


@pytest.fixture(scope="module")
def scan():
    return lumen.ct.simulate(size=16, views=16, seed=3)


def test_invalid_option_names_the_field(scan):
    with pytest.raises(lumen.InvalidOptionError) as info:
        lumen.ct.reconstruct(scan, method="sirt", iterations=-1)
    assert isinstance(info.value, ValueError) and isinstance(info.value, lumen.LumenError)
    assert info.value.field == "ReconOptions.iterations"
    assert info.value.code == "invalid_option"
    assert "ReconOptions.iterations" in str(info.value)


def test_unknown_method_name(scan):
    with pytest.raises(lumen.InvalidOptionError) as info:
        lumen.ct.reconstruct(scan, method="magic")
    assert info.value.field == "ReconOptions.method"
    with pytest.raises(lumen.InvalidOptionError) as info:
        lumen.ptycho.options(method="nope")
    assert info.value.field == "ReconOptions.method"


def test_unknown_keyword_is_a_type_error(scan):
    with pytest.raises(TypeError, match="iterationz"):
        lumen.ct.reconstruct(scan, iterationz=3)


def test_nested_options_by_dict(scan):
    opts = lumen.ct.options(method="fdk", fdk={"window": "hann", "cutoff": 0.8})
    assert opts.fdk.window == "hann" and opts.fdk.cutoff == pytest.approx(0.8)
    with pytest.raises(lumen.InvalidOptionError) as info:
        lumen.ct.reconstruct(scan, method="fdk", fdk={"cutoff": 2.0})
    assert info.value.field == "FdkOptions.cutoff"


def test_bad_file_is_bad_input(tmp_path):
    with pytest.raises(lumen.BadInputError) as info:
        lumen.ct.read_scan(tmp_path / "missing.h5")
    assert "missing.h5" in str(info.value) and info.value.field is None
    bad = tmp_path / "not.cxi"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(lumen.BadInputError):
        lumen.ptycho.read_cxi(str(bad))


def test_progress_callback_sees_every_iteration_and_can_stop(scan):
    seen = []

    def progress(info):
        seen.append(info.iteration.iteration)
        return info.iteration.iteration < 3

    r = lumen.ct.reconstruct(scan, method="sirt", iterations=10, stop="iterations", progress=progress)
    assert seen == [1, 2, 3]
    assert r.solver.stop_reason == "callback" and r.solver.iterations == 3


def test_progress_exception_is_raised_again(scan):
    class Boom(RuntimeError):
        pass

    def progress(info):
        raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        lumen.ct.reconstruct(scan, method="cgls", iterations=5, stop="iterations", progress=progress)


def test_solver_callback_and_history(rng):
    A = lumen.ct.Projector(lumen.ct.default_cone_geometry(8, 1.0, 8))
    b = A.apply(rng.uniform(0, 1, A.domain_shape).astype(np.float32))
    x = np.zeros(A.domain_shape, np.float32)
    calls = []
    r = lumen.solvers.sirt(A, b, x, max_iterations=4, callback=lambda i: calls.append(i.iteration))
    assert calls == [1, 2, 3, 4] and len(r.history) == 4 and r.stop_reason == "max_iterations"


def test_mri_slice_reconstructor_reraises():
    sim = lumen.mri.simulate(height=32, width=32, coils=2, slices=1)
    k = np.ascontiguousarray(sim.kspace[0])
    mask = np.ones((32, 32), np.float32)

    def progress(info):
        if info.iteration.iteration == 2:
            raise KeyError("stop here")

    rec = lumen.mri.SliceReconstructor(method="cg-sense", iterations=5, progress=progress)
    with pytest.raises(KeyError):
        rec.reconstruct(k, mask, np.ascontiguousarray(sim.sensitivities))
    # The reconstructor stays usable.
    rec2 = lumen.mri.SliceReconstructor(method="cg-sense", iterations=3)
    assert rec2.reconstruct(k, mask, np.ascontiguousarray(sim.sensitivities)).solver.iterations == 3
