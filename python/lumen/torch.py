"""PyTorch autograd wrappers: lumen's operators inside a learned reconstruction.

Each wrapper is a ``torch.autograd.Function`` whose backward is the operator's exact adjoint, on
CPU tensors or CUDA tensors (an operator made with ``device="cuda"``; lumen built with CUDA). The
tensors are passed to lumen through DLPack without a copy; a tensor that is not contiguous is
made contiguous first (``.contiguous()``), and dtypes are never converted: float32 for CT,
complex64 for MRI and ptychography. Leading batch axes are looped over::

    A = lumen.ct.Projector(geometry, device="cuda")
    y = lumen.torch.project(x, A)              # x [..., nz, ny, nx] -> y [..., n_angles, nv, nu]
    loss = ((y - b) ** 2).sum(); loss.backward()   # x.grad = A^T (2 (y - b))

Functions: :func:`project` / :func:`backproject` (CT, A and A^T), :func:`sense` /
:func:`sense_adjoint` (MRI), :func:`apply` / :func:`apply_adjoint` (any lumen operator),
:func:`far_field` (ptychography: Psi = F(P_j . S_j O), differentiable in the object and the probe).
"""

from __future__ import annotations

import torch as _torch

__all__ = ["LinearOperatorFunction", "FarFieldFunction", "OperatorModule", "apply", "apply_adjoint",
           "backproject", "far_field", "project", "sense", "sense_adjoint"]


def _batched(fn, x: "_torch.Tensor", in_shape, out_shape) -> "_torch.Tensor":
    """fn(x_item, out_item) over the leading batch axes of x ([..., *in_shape])."""
    in_shape, out_shape = tuple(in_shape), tuple(out_shape)
    if tuple(x.shape[x.dim() - len(in_shape):]) != in_shape:
        raise ValueError(f"expected a tensor [..., {', '.join(map(str, in_shape))}], got {tuple(x.shape)}")
    batch = tuple(x.shape[:x.dim() - len(in_shape)])
    x = x.detach()
    if not x.is_contiguous():
        x = x.contiguous()
    out = _torch.empty(batch + out_shape, dtype=x.dtype, device=x.device)
    flat_in = x.reshape((-1,) + in_shape)
    flat_out = out.view((-1,) + out_shape)
    for i in range(flat_in.shape[0]):
        fn(flat_in[i], flat_out[i])
    return out


class LinearOperatorFunction(_torch.autograd.Function):
    """y = A x with backward x_grad = A^H y_grad, for any lumen operator A (``adjoint=True``:
    y = A^H x with backward A)."""

    @staticmethod
    def forward(ctx, x, op, adjoint=False):
        ctx.op, ctx.adjoint = op, adjoint
        if adjoint:
            return _batched(op.apply_adjoint, x, op.range_shape, op.domain_shape)
        return _batched(op.apply, x, op.domain_shape, op.range_shape)

    @staticmethod
    def backward(ctx, grad):
        op = ctx.op
        if ctx.adjoint:
            return _batched(op.apply, grad, op.domain_shape, op.range_shape), None, None
        return _batched(op.apply_adjoint, grad, op.range_shape, op.domain_shape), None, None


def apply(x, op):
    """A x for any lumen operator (differentiable; backward A^H)."""
    return LinearOperatorFunction.apply(x, op, False)


def apply_adjoint(y, op):
    """A^H y for any lumen operator (differentiable; backward A)."""
    return LinearOperatorFunction.apply(y, op, True)


def project(volume, projector):
    """CT forward projection (lumen.ct.Projector): volume [..., nz, ny, nx] float32 -> projections."""
    return apply(volume, projector)


def backproject(projections, projector):
    """CT back projection A^T, the exact adjoint of :func:`project`."""
    return apply_adjoint(projections, projector)


def sense(image, op):
    """MRI SENSE forward (lumen.mri.SenseOperator): image [..., H, W] complex64 -> k-space [..., coils, H, W]."""
    return apply(image, op)


def sense_adjoint(kspace, op):
    """MRI SENSE adjoint: coil k-space -> coil-combined image."""
    return apply_adjoint(kspace, op)


class FarFieldFunction(_torch.autograd.Function):
    """Ptychography's far field Psi = F(P_j . S_j O) [J, my, mx] (FFT order) of an object [H, W] and
    a probe [my, mx] (complex64); backward: the model's adjoints in the object (A_P^H g) and in the
    probe (B_O^H g). The model's probe is set to ``probe`` on every call."""

    @staticmethod
    def forward(ctx, obj, probe, model):
        obj_d, probe_d = obj.detach().contiguous(), probe.detach().contiguous()
        model.set_probe(probe_d)
        out = _torch.empty(tuple(model.data_shape), dtype=obj.dtype, device=obj.device)
        model.far_field(obj_d, out)
        ctx.save_for_backward(obj_d, probe_d)
        ctx.model = model
        return out

    @staticmethod
    def backward(ctx, grad):
        obj, probe = ctx.saved_tensors
        model = ctx.model
        grad = grad.detach().contiguous()
        grad_obj = grad_probe = None
        if ctx.needs_input_grad[0]:
            model.set_probe(probe)
            grad_obj = _torch.empty_like(obj)
            model.adjoint_object(grad, grad_obj)
        if ctx.needs_input_grad[1]:
            grad_probe = _torch.empty_like(probe)
            model.adjoint_probe(grad, obj, grad_probe)
        return grad_obj, grad_probe, None


def far_field(obj, probe, model):
    """Ptychography's far field (lumen.ptycho.Model), differentiable in the object and the probe."""
    return FarFieldFunction.apply(obj, probe, model)


class OperatorModule(_torch.nn.Module):
    """A lumen operator as a ``torch.nn.Module`` (forward: A x, or A^H x with adjoint=True)."""

    def __init__(self, op, adjoint: bool = False):
        super().__init__()
        self.op, self.adjoint = op, adjoint

    def forward(self, x):
        return apply_adjoint(x, self.op) if self.adjoint else apply(x, self.op)
