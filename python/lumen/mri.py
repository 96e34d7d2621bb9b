"""Cartesian multi-coil MRI (lumen/mri): the SENSE operator, masks, ESPIRiT, the in-memory
reconstructions (zero-filled, CG-SENSE, L1-wavelet, TV), simulation and fastMRI / ISMRMRD files.

    reader = lumen.mri.ScanReader.open("data/mri_sample.h5")
    kspace = reader.read_slice(0)                       # complex64 [coils, H, W]
    mask = lumen.mri.make_mask(kspace.shape[1], kspace.shape[2], acceleration=4)
    maps, _ = lumen.mri.espirit(kspace * mask, mask)
    result = lumen.mri.reconstruct_slice(kspace * mask, mask, maps, method="l1-wavelet")
"""

from __future__ import annotations

from typing import Callable, Optional

from . import _options
from ._plan import Plan
from ._lumen import mri as _mri
from ._lumen.mri import (EspiritOptions, MaskSpec, ReconOptions, ScanHeader, ScanReader, SenseOperator,
                         SimulatedScan, SimulationOptions, SliceRecon, center_crop, fastmri_quality, fft_centered,
                         ifft_centered, restrict_columns, rss, sampled_fraction, write_fastmri,
                         write_ismrmrd)

__all__ = [
    "EspiritOptions", "MaskSpec", "ReconOptions", "ScanHeader", "ScanReader", "SenseOperator", "SimulatedScan",
    "SimulationOptions", "SliceRecon", "SliceReconstructor", "center_crop", "espirit", "fastmri_quality",
    "fft_centered", "ifft_centered", "make_mask", "options", "reconstruct_slice", "restrict_columns", "rss",
    "sampled_fraction",
    "simulate", "write_fastmri", "write_ismrmrd",
]


def options(**kwargs) -> ReconOptions:
    """A :class:`ReconOptions` from keyword arguments (method, iterations, lam, device, ...)."""
    return _options.build(ReconOptions, kwargs)


def reconstruct_slice(kspace, mask, maps=None, *, progress: Optional[Callable] = None, **kwargs) -> SliceRecon:
    """Reconstructs one slice: kspace complex64 [coils, H, W], mask float32 [H, W] (0/1), maps
    complex64 [coils, H, W] (None for zero-filled). Options as keyword arguments: method ('zf',
    'cg-sense', 'l1-wavelet', 'tv'), iterations, lam (relative weight), tolerance, wavelet_levels,
    device. The result has ``magnitude`` [H, W] and ``image`` (the complex SENSE image)."""
    return _mri._reconstruct_slice(kspace, mask, maps, options(**kwargs), progress)


class SliceReconstructor(Plan):
    """Reconstructs slice after slice with one SENSE operator, FFT plans and device buffers kept
    from one slice to the next (lumen::mri::SliceReconstructor). Options as keyword arguments."""

    def __init__(self, *, progress: Optional[Callable] = None, **kwargs):
        self._impl = _mri._slice_reconstructor(options(**kwargs), self._progress_callback(progress))

    def reconstruct(self, kspace, mask, maps=None, part: int = 0, parts: int = 1) -> SliceRecon:
        """One slice (kspace complex64 [coils, H, W], mask [H, W], maps [coils, H, W] or None for
        zero-filled); part/parts: which slice of how many, for progress."""
        return self._call("reconstruct", kspace, mask, maps, part, parts)


def make_mask(height: int, width: int, **kwargs):
    """A sampling mask float32 [H, W] (fields of :class:`MaskSpec` as keyword arguments: kind
    ('random', 'equispaced', 'equispaced-fraction', 'poisson'), acceleration, center_fraction,
    calibration, seed)."""
    return _mri._make_mask(_options.build(MaskSpec, kwargs), height, width)


def espirit(kspace, mask=None, device: str = "cpu", **kwargs):
    """ESPIRiT coil maps: returns (maps complex64 [coils, H, W], eigenvalues float32 [H, W]).
    Keyword arguments: kernel, calibration, threshold, crop, iterations."""
    return _mri._espirit(kspace, mask, _options.build(EspiritOptions, kwargs), device)


def simulate(**kwargs) -> SimulatedScan:
    """A simulated fully sampled multi-coil scan (fields of :class:`SimulationOptions`: height,
    width, coils, slices, noise, seed, ...)."""
    return _mri._simulate(_options.build(SimulationOptions, kwargs))
