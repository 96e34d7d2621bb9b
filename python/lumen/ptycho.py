"""Ptychography (lumen/ptycho): the forward model with its adjoints, the in-memory
reconstructions (AWF, WF, ePIE, rPIE), simulation and CXI files.

    scan = lumen.ptycho.read_cxi("data/ptycho_sample.cxi")
    result = lumen.ptycho.reconstruct(scan, method="awf", iterations=100)
    obj = result.object                 # numpy complex64 [H, W]
"""

from __future__ import annotations

from typing import Callable, Optional

from . import _options
from ._lumen import ptycho as _ptycho
from ._lumen.ptycho import (Geometry, Model, ModelOptions, ReconOptions, ReconResult, Residual, Scan,
                            SimulationOptions, StepSizes, illuminated_region, object_nrmse, object_operator,
                            object_shape_for, probe_from_data, probe_operator, read_cxi, write_cxi, write_result)

__all__ = [
    "Geometry", "Model", "ModelOptions", "ReconOptions", "ReconResult", "Residual", "Scan", "SimulationOptions",
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
