"""Dot-product (adjoint) tests through Python: <A x, y> = <x, A^H y> computed with numpy on the
arrays lumen returns, for every operator the package binds."""

from __future__ import annotations

import numpy as np
import pytest

import lumen
from conftest import random_array, small_ct_geometry


def dot_test(op, rng):
    dtype = np.dtype(op.dtype)
    x = random_array(rng, op.domain_shape, dtype)
    y = random_array(rng, op.range_shape, dtype)
    ax = op.apply(x)
    ahy = op.apply_adjoint(y)
    assert ax.shape == tuple(op.range_shape) and ax.dtype == dtype
    assert ahy.shape == tuple(op.domain_shape) and ahy.dtype == dtype
    lhs = np.vdot(y.astype(np.complex128), ax.astype(np.complex128))
    rhs = np.vdot(ahy.astype(np.complex128), x.astype(np.complex128))
    return abs(lhs - rhs) / max(abs(lhs), abs(rhs))


def test_ct_projector(rng):
    A = lumen.ct.Projector(small_ct_geometry())
    assert dot_test(A, rng) < 1e-5
    assert A.adjoint_test() < 1e-5


def test_ct_parallel_projector(rng):
    g = small_ct_geometry()
    g.type = "parallel"
    A = lumen.ct.Projector(g)
    assert dot_test(A, rng) < 1e-5


def test_sense_operator(rng):
    coils, h, w = 4, 24, 20
    maps = random_array(rng, (coils, h, w), np.complex64)
    mask = (rng.uniform(size=(h, w)) < 0.5).astype(np.float32)
    A = lumen.mri.SenseOperator(maps, mask)
    assert A.coils == coils and A.domain_shape == (h, w) and A.range_shape == (coils, h, w)
    assert dot_test(A, rng) < 1e-5
    # The fused normal operator is A^H A.
    x = random_array(rng, (h, w), np.complex64)
    np.testing.assert_allclose(A.apply_normal(x), A.apply_adjoint(A.apply(x)), rtol=1e-4, atol=1e-5)


def test_ptycho_operators(rng):
    positions = np.array([[0, 0], [3.5, 2.25], [6, 7], [1, 8]], np.float32)
    model = lumen.ptycho.Model((24, 24), (16, 16), positions)
    model.set_probe(random_array(rng, (16, 16), np.complex64))
    obj_op = lumen.ptycho.object_operator(model)
    assert dot_test(obj_op, rng) < 1e-5
    obj = random_array(rng, (24, 24), np.complex64)
    probe_op = lumen.ptycho.probe_operator(model, obj)
    assert dot_test(probe_op, rng) < 1e-5
    # The model's own calls agree with the operators.
    np.testing.assert_allclose(model.far_field(obj), obj_op.apply(obj), rtol=1e-5, atol=1e-6)


def test_fft_plan_is_unitary(rng):
    plan = lumen.FftPlan((3, 8, 6), rank=2)
    x = random_array(rng, (3, 8, 6), np.complex64)
    y = x.copy()
    plan.forward(y)
    np.testing.assert_allclose(y, np.fft.fft2(x, norm="ortho"), rtol=1e-4, atol=1e-5)
    plan.inverse(y)
    np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-5)
    f = plan.matvec(x.ravel())
    np.testing.assert_allclose(f.reshape(x.shape), np.fft.fft2(x, norm="ortho"), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("complex_", [False, True])
def test_regularizer_operators(rng, complex_):
    D = lumen.finite_difference((2, 12, 10), dims=2, complex=complex_)
    assert dot_test(D, rng) < 1e-5
    W = lumen.wavelet2d((16, 16), levels=2, complex=complex_)
    assert dot_test(W, rng) < 1e-5


def test_scipy_linear_operator(rng):
    """scipy's lsqr on a lumen operator: aslinearoperator as it is (float32 vectors) and through
    lumen.aslinearoperator (scipy's float64 vectors converted where asked)."""
    sla = pytest.importorskip("scipy.sparse.linalg")
    A = lumen.ct.Projector(small_ct_geometry(8, 16))
    op = sla.aslinearoperator(A)
    assert op.shape == A.shape and op.dtype == np.float32
    x = rng.uniform(0, 1, A.domain_shape).astype(np.float32)
    np.testing.assert_allclose(op.matvec(x.ravel()), A.apply(x).ravel(), rtol=1e-6)
    b = A.apply(x).ravel()
    sol = sla.lsqr(lumen.aslinearoperator(A), b.astype(np.float64), iter_lim=200, atol=1e-10, btol=1e-10)[0]
    residual = np.linalg.norm(A.matvec(sol.astype(np.float32)) - b) / np.linalg.norm(b)
    assert residual < 1e-3
