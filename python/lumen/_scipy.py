"""lumen operators as scipy.sparse.linalg.LinearOperator.

A lumen operator already has what scipy looks for (``shape``, ``dtype``, ``matvec``, ``rmatvec``),
so ``scipy.sparse.linalg.aslinearoperator(op)`` works as it is, on arrays of the operator's dtype.
scipy's solvers often work in float64 or complex128, which lumen refuses rather than copy
silently; :func:`aslinearoperator` is the explicit way: it converts each vector to the operator's
dtype and the result back to the caller's.
"""

from __future__ import annotations


def aslinearoperator(op, convert: bool = True):
    """A ``scipy.sparse.linalg.LinearOperator`` for a lumen operator (or FftPlan).

    convert=True casts each input vector to the operator's dtype (a copy, asked for here) and
    each result to the input's dtype; convert=False passes vectors through unchanged (TypeError
    on any other dtype).
    """
    import numpy as np
    from scipy.sparse.linalg import LinearOperator

    dtype = np.dtype(op.dtype)

    def wrap(fn):
        if not convert:
            return fn

        def call(v):
            v = np.asarray(v)
            out = fn(np.ascontiguousarray(v, dtype=dtype))
            return out.astype(np.result_type(v.dtype, dtype), copy=False)

        return call

    return LinearOperator(shape=op.shape, dtype=dtype, matvec=wrap(op.matvec), rmatvec=wrap(op.rmatvec))
