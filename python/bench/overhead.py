"""The Python overhead of lumen (docs/benchmarks.md, "Python"):

1. per call: an operator applied to a small array from Python (argument checks, views, GIL release,
   the result) against the same applications timed inside C++ (RealOperator._time_apply);
2. per reconstruction: the same in-memory reconstruction of the sample CT scan called from Python
   (wall time around lumen.ct.reconstruct) against the time lumen measures inside the C++ call
   (ReconResult.elapsed_s) and against the command line (lumen-ct recon --json: time_s, which
   also reads the file and writes the result).

    python python/bench/overhead.py [--lumen-ct build/bin/lumen-ct] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import tempfile
import time

import numpy as np

import lumen

root = pathlib.Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--lumen-ct", default=root / "build" / "bin" / "lumen-ct")
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--calls", type=int, default=20000)
args = parser.parse_args()


def per_call(op, x, calls):
    out = np.empty(op.range_shape, np.dtype(op.dtype))
    op.apply(x, out=out)  # warm-up
    best_py, best_cpp = float("inf"), float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(calls):
            op.apply(x, out=out)
        best_py = min(best_py, (time.perf_counter() - start) / calls)
        best_cpp = min(best_cpp, op._time_apply(x, out, calls) / calls)
    start = time.perf_counter()
    for _ in range(calls // 4):
        op.apply(x)  # a new result array per call
    fresh = (time.perf_counter() - start) / (calls // 4)
    return best_py, best_cpp, fresh


rows = []
ct_small = lumen.ct.Projector(lumen.ct.default_cone_geometry(4, 1.0, 2))
rows.append(("ct.Projector 4^3 -> 2x4x4", *per_call(ct_small, np.ones(ct_small.domain_shape, np.float32), args.calls)))
rng = np.random.default_rng(0)
maps = (rng.normal(size=(2, 8, 8)) + 1j * rng.normal(size=(2, 8, 8))).astype(np.complex64)
sense = lumen.mri.SenseOperator(maps, np.ones((8, 8), np.float32))
rows.append(("mri.SenseOperator 2 coils 8x8", *per_call(sense, np.ones((8, 8), np.complex64), args.calls)))

print("| operator, small array | from Python, out= given | inside C++ | overhead per call | from Python, new result |")
print("|---|---|---|---|---|")
for name, py, cpp, fresh in rows:
    print(f"| {name} | {py * 1e6:.2f} us | {cpp * 1e6:.2f} us | {(py - cpp) * 1e6:.2f} us | {fresh * 1e6:.2f} us |")

scan = lumen.ct.read_scan(root / "data" / "ct_sample.h5")
print()
print("| CT sample, 64^3 from 120 x 64^2 | Python wall | C++ elapsed_s (same call) | Python / C++ | lumen-ct recon time_s |")
print("|---|---|---|---|---|")
for method, extra, flags in (("fdk", {}, []), ("sirt", {"iterations": 20, "stop": "iterations"},
                                                ["--iters", "20", "--stop", "iterations"])):
    walls, inner = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        r = lumen.ct.reconstruct(scan, method=method, **extra)
        walls.append(time.perf_counter() - start)
        inner.append(r.elapsed_s)
    cli = "n/a"
    if pathlib.Path(args.lumen_ct).exists():
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeats):
                done = subprocess.run([str(args.lumen_ct), "recon", str(root / "data" / "ct_sample.h5"), "-o",
                                       f"{tmp}/v.h5", "--method", method, "--no-png", "--json", *flags],
                                      capture_output=True, text=True, check=True)
                times.append(json.loads(done.stdout)["time_s"])
        cli = f"{statistics.median(times):.3f} s"
    w, c = statistics.median(walls), statistics.median(inner)
    print(f"| {method} {extra.get('iterations', '')} | {w:.3f} s | {c:.3f} s | {w / c:.3f} | {cli} |")
