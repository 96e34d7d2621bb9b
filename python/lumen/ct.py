"""Cone- and parallel-beam CT (lumen/ct): geometry, the projector pair, FDK, the in-memory
reconstructions (fdk, sirt, cgls, tv, nonlinear), simulation and DXchange files.

    scan = lumen.ct.read_scan("data/ct_sample.h5")
    result = lumen.ct.reconstruct(scan, method="sirt", iterations=50)
    volume = result.volume          # numpy float32 [nz, ny, nx], lumen's memory
"""

from __future__ import annotations

from typing import Callable, Optional, Union

from . import _options
from ._plan import Plan
from ._lumen import ct as _ct
from ._lumen.ct import (CountNoise, FdkOptions, Geometry, Projector, ReadOptions, ReconInfo, ReconOptions, ReconResult, Scan,
                        SimulationOptions, VolumeGrid, compare_with_truth, count_noise, default_cone_geometry,
                        equally_spaced_angles, line_integrals, simulation_geometry, transmission, write_reconstruction,
                        write_scan)

__all__ = [
    "CountNoise", "FdkOptions", "Geometry", "Projector", "ReadOptions", "ReconInfo", "ReconOptions", "ReconResult",
    "Reconstructor", "Scan",
    "SimulationOptions", "VolumeGrid", "compare_with_truth", "count_noise", "default_cone_geometry",
    "equally_spaced_angles", "fdk", "line_integrals", "options", "read_scan", "reconstruct", "simulate",
    "simulation_geometry", "transmission", "write_reconstruction", "write_scan",
]

Progress = Optional[Callable[["lumen.ProgressInfo"], Optional[bool]]]  # noqa: F821


def options(**kwargs) -> ReconOptions:
    """A :class:`ReconOptions` from keyword arguments (``method="sirt"``, ``fdk={"window": "hann"}``)."""
    return _options.build(ReconOptions, kwargs)


def reconstruct(source: Union[Scan, Geometry], transmission=None, *, noise: Optional[CountNoise] = None,
                progress: Progress = None, **kwargs) -> ReconResult:
    """Reconstructs a CT volume in memory.

    ``reconstruct(scan, **options)``: a :class:`Scan` (its raw data are normalised with its flat and
    dark fields, and its counts give the discrepancy rule). ``reconstruct(geometry, t, noise=None,
    **options)``: normalised intensities t [n_angles, nv, nu] (float32, any device, not copied);
    without ``noise`` (:func:`count_noise`) the iterative methods stop at their iteration cap.

    Options are the fields of :class:`ReconOptions` as keyword arguments: method ('fdk', 'sirt',
    'cgls', 'tv', 'nonlinear'), iterations, device ('cpu', 'cuda', 'auto'), stop, objective, fdk
    (a dict or FdkOptions), tv_weight, ... ``progress(info)`` is called after every iteration;
    returning False stops the run. The result's ``volume`` is a numpy array [nz, ny, nx].
    """
    opts = options(**kwargs)
    if isinstance(source, Scan):
        if transmission is not None or noise is not None:
            raise TypeError("reconstruct(scan, ...): the scan gives the transmission and the noise")
        return _ct._reconstruct_scan(source, opts, progress)
    if transmission is None:
        raise TypeError("reconstruct(geometry, transmission, ...): the normalised intensities are missing")
    return _ct._reconstruct(source, transmission, noise, opts, progress)


class Reconstructor(Plan):
    """Reconstructions of one geometry call after call: the projector pair (its view matrices on
    the options' device) and the device buffers are made once (lumen::ct::Reconstructor). Options
    as keyword arguments, as for :func:`reconstruct`.

        rec = lumen.ct.Reconstructor(geometry, method="sirt", device="cuda")
        volume, info = rec.reconstruct(t, noise=lumen.ct.count_noise(scan))
    """

    def __init__(self, geometry: Geometry, *, progress: Progress = None, **kwargs):
        self._impl = _ct._reconstructor(geometry, options(**kwargs), self._progress_callback(progress))

    @property
    def geometry(self) -> Geometry:
        return self._impl.geometry

    def reconstruct(self, transmission, noise: Optional[CountNoise] = None, *, out=None):
        """One scan: normalised intensities float32 [n_angles, nv, nu]; ``noise`` (count_noise)
        turns the discrepancy rule on. Returns ``(volume, info)``; ``out`` (float32 [nz, ny, nx])
        is written in place when given."""
        return self._call("reconstruct", transmission, noise, out)


def fdk(projector: Projector, line_integrals, out=None, **kwargs):
    """FDK of line integrals [n_angles, nv, nu] (on the projector's device) into a volume.

    Keyword arguments: window ('ram-lak', 'shepp-logan', 'cosine', 'hamming', 'hann'), cutoff,
    short_scan ('auto', 'parker', 'off'). ``out``: a float32 [nz, ny, nx] array to write into.
    """
    return _ct.fdk(projector, line_integrals, _options.build(FdkOptions, kwargs), out)


def simulate(device: str = "cpu", **kwargs) -> Scan:
    """A simulated scan with its truth (fields of :class:`SimulationOptions` as keyword arguments:
    size, views, i0, phantom ('shepp-logan', 'metal'), seed, ...)."""
    return _ct._simulate(_options.build(SimulationOptions, kwargs), device)


def read_scan(path: str, **kwargs) -> Scan:
    """Reads a DXchange scan (with lumen's /lumen/geometry, or the geometry given by the fields of
    :class:`ReadOptions` as keyword arguments: geometry={...}, theta_units, clockwise, flip_u, ...)."""
    return _ct._read_scan(str(path), _options.build(ReadOptions, kwargs))
