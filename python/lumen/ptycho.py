"""Ptychography (lumen/ptycho): the forward model with its adjoints, the in-memory
reconstructions (AWF, WF, ePIE, rPIE), simulation and CXI files.

    scan = lumen.ptycho.read_cxi("data/ptycho_sample.cxi")
    result = lumen.ptycho.reconstruct(scan, method="awf", iterations=100)
    obj = result.object                 # numpy complex64 [H, W]
"""

from __future__ import annotations

from typing import Callable, Optional

from . import _options
from ._plan import Plan
from ._lumen import ptycho as _ptycho
from ._lumen.ptycho import (Geometry, Model, ModelOptions, ReconInfo, ReconOptions, ReconResult, Residual, Scan,
                            SimulationOptions, StepSizes, illuminated_region, object_nrmse, object_operator,
                            object_shape_for, probe_from_data, probe_operator, read_cxi, write_cxi, write_result)

__all__ = [
    "Geometry", "Model", "ModelOptions", "ReconInfo", "ReconOptions", "ReconResult", "Reconstructor", "Residual", "Scan",
    "SimulationOptions",
    "StepSizes", "illuminated_region", "model", "object_nrmse", "object_operator", "object_shape_for", "options",
    "probe_from_data", "probe_operator", "read_cxi", "reconstruct", "simulate", "write_cxi", "write_result",
]


def options(**kwargs) -> ReconOptions:
    """A :class:`ReconOptions` from keyword arguments (method, loss, iterations, device, ...)."""
    return _options.build(ReconOptions, kwargs)


def reconstruct(scan: Scan, *, progress: Optional[Callable] = None, **kwargs) -> ReconResult:
    """Reconstructs object and probe from a scan. Options as keyword arguments: method ('awf',
    'wf', 'epie', 'rpie'), loss ('amplitude', 'intensity', 'poisson'), iterations, refine_probe,
    device, ... ``progress(info)`` after every iteration; False stops."""
    return _ptycho._reconstruct(scan, options(**kwargs), progress)


class Reconstructor(Plan):
    """Reconstructions of one scan layout (positions, frame, object grid, geometry) call after
    call: the model, its FFT plans and device buffers are made once (lumen::ptycho::Reconstructor).
    Built from a scan whose positions and layout later scans share; options as keyword arguments.

        rec = lumen.ptycho.Reconstructor(scan, method="awf", iterations=50)
        obj, probe, info = rec.reconstruct(scan.intensities)
    """

    def __init__(self, scan: Scan, *, progress: Optional[Callable] = None, **kwargs):
        self._impl = _ptycho._reconstructor(scan, options(**kwargs), self._progress_callback(progress))

    @property
    def object_shape(self):
        return self._impl.object_shape

    @property
    def probe_shape(self):
        return self._impl.probe_shape

    @property
    def positions(self):
        return self._impl.positions

    def reconstruct(self, intensities, mask=None, probe=None, *, object_out=None, probe_out=None):
        """One scan on this layout: intensities float32 [J, ny, nx], mask float32 [ny, nx] (None:
        all measured), probe complex64 [ny, nx] (None: estimated from the data). Returns
        ``(object, probe, info)``; ``object_out``/``probe_out`` (complex64, on the options'
        device) are written in place when given."""
        return self._call("reconstruct", intensities, mask, probe, object_out, probe_out)

    def compare_with_truth(self, obj, probe, refined_probe: bool, true_object, true_probe=None):
        """NRMSE of object (and probe) against a truth on this layout's grid (lumen::Quality)."""
        return self._impl.compare_with_truth(obj, probe, refined_probe, true_object, true_probe)


def simulate(device: str = "cpu", **kwargs) -> Scan:
    """A simulated scan with its truth (fields of :class:`SimulationOptions`: frame, positions,
    overlap, photons, seed, ...)."""
    return _ptycho._simulate(_options.build(SimulationOptions, kwargs), device)


def model(scan: Scan, device: str = "cpu", **kwargs) -> Model:
    """The forward model of a scan (its object grid, frame shape and positions), with the scan's
    probe set when it has one. Keyword arguments: the fields of :class:`ModelOptions` (the
    scan's own propagation by default)."""
    opts = _options.build(ModelOptions, kwargs, scan.model_options())
    m = Model(scan.object_shape, scan.intensities.shape[1:], scan.positions, device, opts)
    if scan.probe is not None:
        m.set_probe(scan.probe)
    return m
