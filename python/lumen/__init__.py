"""lumen: GPU-accelerated imaging reconstruction for CT, MRI and ptychography.

Submodules: :mod:`lumen.ct`, :mod:`lumen.mri`, :mod:`lumen.ptycho` (geometry and scans,
operators, in-memory reconstructions, simulators, file readers and writers),
:mod:`lumen.solvers` (the shared solvers on lumen operators) and :mod:`lumen.torch`
(``torch.autograd.Function`` wrappers; imports torch).

Arrays: float32 and complex64, C-contiguous, passed without a copy (numpy, or CuPy / PyTorch
through DLPack on the GPU); a wrong dtype, layout or device is a TypeError or ValueError, never a
silent copy. Results are numpy arrays that own lumen's memory. See docs/python.md.
"""

from __future__ import annotations

from . import _lumen
from ._errors import (BadInputError, InternalError, InvalidOptionError, LumenError, LumenMemoryError,
                      NoGpuError, ReconstructionError, UsageError)
from ._lumen import (ComplexOperator, FftPlan, IterationInfo, ProgressInfo, Quality, RealOperator,
                     SolverResult, cuda_available, cuda_device_description, cuda_enabled, finite_difference,
                     nmse, nrmse, nrmse_complex, psnr, ssim, ssim_stack, wavelet2d)
from . import ct, mri, ptycho, solvers
from ._scipy import aslinearoperator

__version__ = _lumen.__version__

__all__ = [
    "BadInputError", "ComplexOperator", "FftPlan", "InternalError", "InvalidOptionError", "IterationInfo",
    "LumenError", "LumenMemoryError", "NoGpuError", "ProgressInfo", "Quality", "RealOperator",
    "ReconstructionError", "SolverResult", "UsageError", "aslinearoperator", "ct", "cuda_available",
    "cuda_device_description", "cuda_enabled", "finite_difference", "mri", "nmse", "nrmse",
    "nrmse_complex", "psnr", "ptycho", "solvers", "ssim", "ssim_stack", "wavelet2d",
]
