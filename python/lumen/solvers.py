"""The shared solvers (lumen/solvers) on lumen operators (RealOperator / ComplexOperator:
ct.Projector, mri.SenseOperator, ptycho.object_operator, finite_difference, wavelet2d).

Each updates ``x`` in place (its start on entry; a numpy array, torch tensor or CuPy array on the
operator's device, viewed without a copy) and returns a :class:`lumen.SolverResult`.
``callback(info)`` is called after every iteration; returning False stops.
"""

from __future__ import annotations

from ._lumen import admm_tv, cg, cg_normal, cgls, fista_l1, sirt

__all__ = ["admm_tv", "cg", "cg_normal", "cgls", "fista_l1", "sirt"]
