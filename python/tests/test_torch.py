"""The torch.autograd.Function wrappers: gradients against finite differences (gradcheck) on small
sizes, on the CPU, and on the GPU when one is present. Skipped when torch is not installed
(scripts/test installs it only with LUMEN_PY_TORCH=1; docs/python.md)."""

from __future__ import annotations

import numpy as np
import pytest

import lumen
from conftest import small_ct_geometry

torch = pytest.importorskip("torch")
import lumen.torch as lt  # noqa: E402

# float32 / complex64 (lumen's types): finite differences of a linear map are exact up to rounding,
# so a large eps and tolerances of float precision.
CHECK = dict(eps=1e-2, atol=2e-3, rtol=2e-2, nondet_tol=1e-5)

devices = ["cpu"] + (["cuda"] if lumen.cuda_available() and torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", devices)
def test_ct_projector_gradcheck(device):
    A = lumen.ct.Projector(small_ct_geometry(6, 5), device=device)
    x = torch.rand(A.domain_shape, dtype=torch.float32, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: lt.project(v, A), (x,), **CHECK)
    y = torch.rand(A.range_shape, dtype=torch.float32, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: lt.backproject(v, A), (y,), **CHECK)


@pytest.mark.parametrize("device", devices)
def test_sense_gradcheck(device):
    rng = np.random.default_rng(5)
    maps = (rng.normal(size=(2, 6, 4)) + 1j * rng.normal(size=(2, 6, 4))).astype(np.complex64)
    mask = (rng.uniform(size=(6, 4)) < 0.6).astype(np.float32)
    S = lumen.mri.SenseOperator(maps, mask, device=device)
    x = torch.randn(S.domain_shape, dtype=torch.complex64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: lt.sense(v, S), (x,), **CHECK)
    y = torch.randn(S.range_shape, dtype=torch.complex64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: lt.sense_adjoint(v, S), (y,), **CHECK)


@pytest.mark.parametrize("device", devices)
def test_ptycho_far_field_gradcheck(device):
    positions = np.array([[0, 0], [1.5, 2.25], [3, 1]], np.float32)
    model = lumen.ptycho.Model((8, 8), (4, 4), positions, device=device)
    obj = torch.randn((8, 8), dtype=torch.complex64, device=device, requires_grad=True)
    probe = torch.randn((4, 4), dtype=torch.complex64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda o, p: lt.far_field(o, p, model), (obj, probe), **CHECK)


def test_batched_and_learned_pipeline():
    """Leading batch axes, and a loss through the projector that trains a scalar."""
    A = lumen.ct.Projector(small_ct_geometry(8, 6))
    truth = torch.rand((2,) + tuple(A.domain_shape))
    b = lt.project(truth, A)
    assert b.shape == (2,) + tuple(A.range_shape)
    np.testing.assert_allclose(b[1].numpy(), A.apply(truth[1].numpy()), rtol=1e-6)
    scale = torch.tensor(0.5, requires_grad=True)
    opt = torch.optim.SGD([scale], lr=0.5 / float((b ** 2).sum()))
    for _ in range(20):
        opt.zero_grad()
        loss = ((lt.project(scale * truth, A) - b) ** 2).sum()
        loss.backward()
        opt.step()
    assert abs(float(scale) - 1.0) < 0.05


def test_tensor_from_lumen_is_zero_copy():
    A = lumen.ct.Projector(small_ct_geometry(8, 6))
    x = torch.rand(tuple(A.domain_shape))
    y = A.apply(x)  # a torch tensor in, a torch tensor out, owning lumen's memory
    assert isinstance(y, torch.Tensor)
    out = torch.empty(tuple(A.range_shape))
    assert A.apply(x, out=out) is out
    np.testing.assert_array_equal(out.numpy(), y.numpy())
    with pytest.raises(TypeError):
        A.apply(x.double())
