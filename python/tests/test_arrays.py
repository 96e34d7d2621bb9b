"""Zero-copy in both directions, and refusals instead of silent copies."""

from __future__ import annotations

import numpy as np
import pytest

import lumen
from conftest import random_array, small_ct_geometry


def test_input_is_viewed_not_copied(rng):
    # The FFT runs in place on the caller's buffer: a copy would leave x unchanged.
    x = random_array(rng, (4, 8), np.complex64)
    before = x.copy()
    lumen.FftPlan((4, 8), rank=2).forward(x)
    assert not np.allclose(x, before)
    np.testing.assert_allclose(x, np.fft.fft2(before, norm="ortho"), rtol=1e-4, atol=1e-5)


def test_out_is_written_in_place(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    x = rng.uniform(0, 1, A.domain_shape).astype(np.float32)
    out = np.zeros(A.range_shape, np.float32)
    r = A.apply(x, out=out)
    assert r is out
    assert np.abs(out).max() > 0
    np.testing.assert_array_equal(out, A.apply(x))


def test_solver_updates_x_in_place(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    truth = rng.uniform(0, 1, A.domain_shape).astype(np.float32)
    b = A.apply(truth)
    x = np.zeros(A.domain_shape, np.float32)
    address = x.ctypes.data
    result = lumen.solvers.cgls(A, b, x, max_iterations=5)
    assert result.iterations == 5 and x.ctypes.data == address and np.abs(x).max() > 0


def test_result_owns_lumen_memory(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    y = A.apply(rng.uniform(0, 1, A.domain_shape).astype(np.float32))
    # A fresh numpy array whose base is the capsule holding lumen's Array, not a numpy copy.
    assert isinstance(y, np.ndarray) and not y.flags.owndata
    assert not isinstance(y.base, np.ndarray)
    assert y.flags.c_contiguous and y.flags.writeable
    y[...] = 1.0  # it is the caller's now
    del A
    assert float(y.sum()) == y.size


def test_struct_fields_share_the_struct_memory():
    scan = lumen.ct.simulate(size=16, views=8, noise=False)
    a, b = scan.data, scan.data
    assert np.shares_memory(a, b) and a.ctypes.data == b.ctypes.data
    result = lumen.ct.reconstruct(scan, method="fdk")
    v1, v2 = result.volume, result.volume
    assert v1.ctypes.data == v2.ctypes.data
    del result
    assert np.isfinite(v1).all()  # the array keeps the result alive


def test_wrong_dtype_is_a_type_error(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    with pytest.raises(TypeError, match="float32"):
        A.apply(np.zeros(A.domain_shape, np.float64))
    with pytest.raises(TypeError):
        A.apply([1.0, 2.0])
    S = lumen.mri.SenseOperator(np.ones((2, 4, 4), np.complex64), np.ones((4, 4), np.float32))
    with pytest.raises(TypeError, match="complex64"):
        S.apply(np.zeros((4, 4), np.complex128))


def test_wrong_layout_or_shape_is_a_value_error(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    nz, ny, nx = A.domain_shape
    big = np.zeros((nz, ny, 2 * nx), np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        A.apply(big[:, :, ::2])
    with pytest.raises(ValueError, match="C-contiguous"):
        A.apply(np.asfortranarray(np.zeros(A.domain_shape, np.float32)))
    with pytest.raises(ValueError, match="shape"):
        A.apply(np.zeros((nz, ny, nx + 1), np.float32))


def test_read_only_output_is_refused(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    out = np.zeros(A.range_shape, np.float32)
    out.flags.writeable = False
    with pytest.raises((TypeError, ValueError)):
        A.apply(np.zeros(A.domain_shape, np.float32), out=out)


@pytest.mark.skipif(lumen.cuda_available(), reason="checks the refusal where no GPU can be used")
def test_cuda_without_cuda_is_no_gpu_error():
    with pytest.raises(lumen.NoGpuError):
        lumen.ct.Projector(small_ct_geometry(), device="cuda")
