#!/usr/bin/env python3
"""RTK (itk-rtk, CPU) as lumen-bench's CT peer: FDK and the Joseph projector pair, timed in-process.

Called by bench/cases_ct.cpp on the bench's own data:

    rtk_ct.py --check       (exit status 0 when itk-rtk and numpy import)
    rtk_ct.py DIR --n N --views V --nu NU --nv NV --du MM --dv MM --dso MM --dsd MM
              --offset-u MM --offset-v MM --voxel MM --angles-deg LIST --threads T
              --warmup W --repeats R [--ops fdk,forward,back]

DIR holds projections.f32 (float32, lumen's [views][nv][nu]) and truth.f32 (float32, lumen's
[nz][ny][nx]). Timings exclude file I/O and array conversion: each operation is built once, run
`warmup` times untimed and `repeats` times timed; one line per operation is printed,

    RTK <op> median_s=<s> min_s=<s> max_s=<s> runs=<R> cpu_s=<s>

(cpu_s: the median CPU time of the process, all threads, per timed run: a figure that, unlike
wall time, does not depend on what else the machine runs)

and FDK's volume is written to DIR/rtk_fdk.f32 in lumen's layout [z][y][x], so that the bench
compares it with the same truth as lumen's (PSNR) and with lumen's own volume (correlation).

Geometry. lumen (include/lumen/ct/geometry.hpp): at angle t the source is at
dso (sin t, -cos t, 0), the beam along (-sin t, cos t, 0), detector columns along (cos t, sin t, 0)
and rows along z. RTK (ThreeDCircularProjectionGeometry, gantry angle t, no tilts or offsets): the
source is at sid (sin t, 0, cos t), columns along (cos t, 0, -sin t), rows along Y. The rotation
(X, Y, Z) = (x, z, -y) takes one to the other for the same t, so RTK gets lumen's angles
unchanged, the detector's first pixel as the projections' origin, and its volume, array order
[Z][Y][X] = [-y][z][x], is turned back to lumen's [z][y][x] after the timing.
"""
import argparse
import os
import sys
import time

import numpy as np


def main():
    if sys.argv[1:] == ["--check"]:  # exit status 0 when itk-rtk is importable (the bench's test)
        from itk import RTK as rtk
        rtk.FDKConeBeamReconstructionFilter
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    for k in ("n", "views", "nu", "nv", "threads"):
        ap.add_argument("--" + k, type=int, required=True)
    for k in ("du", "dv", "dso", "dsd", "voxel"):
        ap.add_argument("--" + k, type=float, required=True)
    ap.add_argument("--offset-u", type=float, default=0.0)
    ap.add_argument("--offset-v", type=float, default=0.0)
    ap.add_argument("--angles-deg", required=True, help="comma-separated, one per view")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ops", default="fdk,forward,back")
    a = ap.parse_args()

    import itk
    from itk import RTK as rtk

    # ITK's threads: as many as lumen's OpenMP threads. The filters keep ITK's own split of the
    # work into units (32 by default, more units than threads balance the load).
    itk.MultiThreaderBase.SetGlobalMaximumNumberOfThreads(a.threads)
    itk.MultiThreaderBase.SetGlobalDefaultNumberOfThreads(a.threads)

    n, views, nu, nv = a.n, a.views, a.nu, a.nv
    angles = [float(t) for t in a.angles_deg.split(",")]
    if len(angles) != views:
        sys.exit(f"rtk_ct.py: {len(angles)} angles for {views} views")
    proj_np = np.fromfile(os.path.join(a.dir, "projections.f32"), dtype=np.float32).reshape(views, nv, nu)
    truth_np = np.fromfile(os.path.join(a.dir, "truth.f32"), dtype=np.float32).reshape(n, n, n)

    image = itk.Image[itk.F, 3]
    geometry = rtk.ThreeDCircularProjectionGeometry.New()
    for t in angles:
        geometry.AddProjection(a.dso, a.dsd, t)

    def projections_image(arr):
        img = itk.image_from_array(np.ascontiguousarray(arr, dtype=np.float32))
        img.SetSpacing([a.du, a.dv, 1.0])
        img.SetOrigin([a.offset_u - 0.5 * (nu - 1) * a.du, a.offset_v - 0.5 * (nv - 1) * a.dv, 0.0])
        return img

    def volume_image(lumen_zyx):
        # lumen [z][y][x] -> RTK [Z][Y][X] = [-y][z][x]
        arr = np.ascontiguousarray(np.transpose(lumen_zyx, (1, 0, 2))[::-1], dtype=np.float32)
        img = itk.image_from_array(arr)
        img.SetSpacing([a.voxel] * 3)
        img.SetOrigin([-0.5 * (n - 1) * a.voxel] * 3)
        return img

    def to_lumen(img):
        arr = itk.array_from_image(img)  # [Z][Y][X] = [-y][z][x]
        return np.ascontiguousarray(np.transpose(arr[::-1], (1, 0, 2)))

    proj = projections_image(proj_np)
    truth = volume_image(truth_np)
    # The filters write into their input 0 in place: a fresh zero image for every run.
    zero_proj = lambda: projections_image(np.zeros_like(proj_np))
    zero_vol = lambda: volume_image(np.zeros_like(truth_np))

    def timed(name, make):
        times, cpu = [], []
        out = None
        for r in range(a.warmup + max(1, a.repeats)):
            f = make()  # a fresh filter (and output buffer) per run, built before the clock starts
            t0, c0 = time.perf_counter(), time.process_time()
            f.Update()
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            out = f.GetOutput()
            if r >= a.warmup:
                times.append(dt)
                cpu.append(dc)
        print(f"RTK {name} median_s={np.median(times):.6g} min_s={min(times):.6g} max_s={max(times):.6g} "
              f"runs={len(times)} cpu_s={np.median(cpu):.6g}", flush=True)
        return out

    ops = a.ops.split(",")
    if "fdk" in ops:
        def make_fdk():
            f = rtk.FDKConeBeamReconstructionFilter[image].New()
            f.SetInput(0, zero_vol())
            f.SetInput(1, proj)
            f.SetGeometry(geometry)
            f.GetRampFilter().SetHannCutFrequency(0.0)  # plain ramp, as lumen's ram-lak
            f.GetRampFilter().SetTruncationCorrection(0.0)
            return f
        out = timed("fdk", make_fdk)
        to_lumen(out).astype(np.float32).tofile(os.path.join(a.dir, "rtk_fdk.f32"))
    if "forward" in ops:
        def make_fwd():
            f = rtk.JosephForwardProjectionImageFilter[image, image].New()
            f.SetInput(0, zero_proj())
            f.SetInput(1, truth)
            f.SetGeometry(geometry)
            return f
        out = timed("forward", make_fwd)
        itk.array_from_image(out).astype(np.float32).tofile(os.path.join(a.dir, "rtk_forward.f32"))
    if "back" in ops:
        def make_back():
            f = rtk.JosephBackProjectionImageFilter[image, image].New()
            f.SetInput(0, zero_vol())
            f.SetInput(1, proj)
            f.SetGeometry(geometry)
            return f
        out = timed("back", make_back)
        to_lumen(out).astype(np.float32).tofile(os.path.join(a.dir, "rtk_back.f32"))


if __name__ == "__main__":
    main()
