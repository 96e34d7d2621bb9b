"""Shared fixtures: the repository's sample scans and, for the comparisons with the command line,
the apps of a lumen build (LUMEN_BIN, else build/bin or build-cpu/bin of the repository)."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "data"


def app_path(name: str):
    candidates = []
    if os.environ.get("LUMEN_BIN"):
        candidates.append(pathlib.Path(os.environ["LUMEN_BIN"]))
    candidates += [REPO / "build" / "bin", REPO / "build-cpu" / "bin"]
    for d in candidates:
        p = d / name
        if p.exists():
            return p
    return None


@pytest.fixture
def app():
    """app("lumen-ct") -> path of the built app; the test is skipped when none is built (scripts/test
    always builds them, so CI runs these tests)."""

    def find(name):
        p = app_path(name)
        if p is None:
            pytest.skip(f"{name} is not built (set LUMEN_BIN)")
        return p

    return find


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_array(rng, shape, dtype):
    if np.dtype(dtype).kind == "c":
        return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dtype)
    return rng.uniform(-1, 1, shape).astype(dtype)


def small_ct_geometry(n=16, views=12):
    import lumen

    return lumen.ct.default_cone_geometry(n, 1.0, views)
