#!/usr/bin/env python3
"""pty-chi's engines on a scan lumen-bench simulated (bench/cases_ptycho.cpp, ptycho/vs-ptychi).

Reads the HDF5 file the case writes and runs each pty-chi engine on the CPU from the same start
lumen has (the known probe, a unit object), with the object NRMSE against the true object computed
after every epoch exactly as lumen's ptycho::object_nrmse does for a known probe: over the region
in the file, with the global phase removed,

    NRMSE = sqrt(sum w |f e - t|^2 / sum w |t|^2),  f = c / |c|,  c = sum w conj(e) t.

Only the epochs are timed (task.run(1)); the set-up (PtychographyTask) and the metric are not.
Prints one machine-readable line per engine:

    ptychi engine=rPIE epochs=E seconds=T epochs_to_target=N seconds_to_target=S s_per_epoch=M
           final_nrmse=F best_nrmse=B best_epoch=K

(N, S = -1 when the target is not reached within --max-epochs; on one line.)

File (written by lumen's HDF5 layer; positions as lumen keeps them):
  /intensities   [J][ny][nx] float32 photons, detector order (zero frequency at [ny/2][nx/2])
  /positions     [J][2] float32 (row, column): the top-left corner of each window, object pixels
  /probe         [ny][nx] complex64, lumen's unitary FFT convention (sum |F P|^2 = sum |P|^2)
  /true_object   [H][W] complex64
  /region        [H][W] float32 weights (lumen's illuminated_region)
  /check_estimate, /check_nrmse   an estimate and lumen's object_nrmse of it (the metric is checked
                 against it before any engine runs)

Conventions mapped to pty-chi's (read from ptychi 2.2's source):
  * data: as measured; fft_shift=True moves the detector-order frames' zero frequency to the
    corner, where pty-chi's far-field model (a plain fft2) puts it.
  * FFT scaling: pty-chi's propagator is torch.fft.fft2 with norm "backward" (sum |F psi|^2 =
    ny nx sum |psi|^2), so the probe is given divided by sqrt(ny nx); the object is unchanged.
  * positions: pty-chi's are patch centres relative to object_options.position_origin_coords;
    its window starts at round(position) + origin - (n - 1) / 2 and the probe is moved by the
    remainder position - round(position) (Fourier shift), as lumen moves it by position -
    floor(position). With the origin SPECIFIED as ((ny - 1) / 2, (nx - 1) / 2) lumen's corners
    are pty-chi's positions as they are. (Checked: pty-chi's forward model of the true object
    matches the simulated frames to 1.42 % relative, the Poisson noise alone being 1.33 %; the
    origin (0, 0) with centre = corner + (n - 1) / 2 puts its windows half a pixel off: 4.8 %.)
"""
import argparse
import math
import sys
import time

import h5py
import numpy as np
import torch

import ptychi
import ptychi.api as api
from ptychi.api.task import PtychographyTask


# pty-chi's object buffer is lumen's grid with PAD pixels more on each side (its windows start at
# round(position), lumen's at floor(position), and it pads every batch of patches that would reach
# past its buffer); the NRMSE is taken on lumen's grid.
PAD = 2


def object_nrmse(truth, est, region):
    c = np.sum(region * np.conj(est) * truth)
    f = c / abs(c) if abs(c) > 0 else 1.0
    num = np.sum(region * np.abs(f * est - truth) ** 2)
    den = np.sum(region * np.abs(truth) ** 2)
    return math.sqrt(num / den)


def make_options(engine, args):
    if engine == "rPIE":
        o = api.RPIEOptions()
    elif engine == "ePIE":
        o = api.EPIEOptions()
    elif engine == "LSQML":
        o = api.LSQMLOptions()
    elif engine == "DM":
        o = api.DMOptions()
    else:
        raise SystemExit(f"ptychi_run.py: unknown engine {engine!r} (rPIE, ePIE, LSQML, DM)")
    o.reconstructor_options.default_device = api.Devices.CPU
    o.reconstructor_options.num_epochs = args.max_epochs
    o.reconstructor_options.random_seed = 1
    if engine != "DM":  # DM updates from all frames at once (chunk_length sets its memory use)
        # Defaults chosen by measurement on the 289 x 64^2 scan (docs/benchmarks.md): rPIE and ePIE
        # sum a batch's updates, so pty-chi's default of 100 random frames (overlapping windows)
        # diverges at step 1; 20 frames spread over the scan (uniform, PtychoShelves' "sparse")
        # do not overlap. LSQML solves its steps per batch: 32 random frames beat 100 per second.
        pie = engine in ("rPIE", "ePIE")
        o.reconstructor_options.batch_size = args.batch or (20 if pie else 32)
        batching = args.batching or ("uniform" if pie else "random")
        o.reconstructor_options.batching_mode = getattr(api.BatchingModes, batching.upper())
    o.object_options.optimizable = True
    o.object_options.optimizer = api.Optimizers.SGD
    o.object_options.determine_position_origin_coords_by = api.ObjectPosOriginCoordsMethods.SPECIFIED
    o.object_options.position_origin_coords = np.array([(args.frame[0] - 1) / 2.0 + PAD, (args.frame[1] - 1) / 2.0 + PAD])
    if engine in ("rPIE", "ePIE"):
        o.object_options.step_size = args.pie_step
        o.object_options.alpha = args.rpie_alpha if engine == "rPIE" else 1.0
    o.probe_options.optimizable = False  # known probe, as lumen's run
    # With a known probe, as pty-chi's documentation says for a probe that is to stay as given:
    # no rescaling of the object to unit mean transmission (with the probe rescaled to match, every
    # 10th epoch by default), and in LSQML no first epoch spent rescaling the probe's intensity.
    # Left on, the object carries the probe's scale error: rPIE stalls at NRMSE 0.27 (30 epochs).
    o.object_options.remove_object_probe_ambiguity.enabled = False
    if engine == "LSQML":
        o.reconstructor_options.rescale_probe_intensity_in_first_epoch = False
    o.probe_position_options.optimizable = False
    return o


def run_engine(engine, data, probe, pos_y, pos_x, truth, region, args):
    task = PtychographyTask(make_options(engine, args), diffraction_data=data,
                            object_data=torch.ones((1, truth.shape[0] + 2 * PAD, truth.shape[1] + 2 * PAD), dtype=torch.complex64), probe_data=probe,
                            probe_position_y_px=pos_y, probe_position_x_px=pos_x)
    nrmse, seconds, elapsed = [], [], 0.0
    curves = open(args.curves, "a") if args.curves else None  # written as it goes (a stopped run keeps them)
    reached, reached_s = -1, -1.0
    for epoch in range(1, args.max_epochs + 1):
        t0 = time.perf_counter()
        task.run(1)
        elapsed += time.perf_counter() - t0
        est = task.get_data_to_cpu("object", as_numpy=True)[0, PAD:-PAD, PAD:-PAD]
        e = object_nrmse(truth, est, region)
        if not math.isfinite(e):
            break
        nrmse.append(e)
        seconds.append(elapsed)
        if curves:
            curves.write(f"{engine},{epoch},{elapsed:.6g},{e:.6g}\n")
            curves.flush()
        if reached < 0 and e <= args.target:
            reached, reached_s = epoch, elapsed
            break
    steps = np.diff([0.0] + seconds)
    best = int(np.argmin(nrmse)) if nrmse else -1
    print(f"ptychi engine={engine} epochs={len(nrmse)} seconds={elapsed:.6g} epochs_to_target={reached} "
          f"seconds_to_target={reached_s:.6g} s_per_epoch={float(np.median(steps)) if len(steps) else -1:.6g} "
          f"final_nrmse={nrmse[-1] if nrmse else float('nan'):.6g} "
          f"best_nrmse={nrmse[best] if nrmse else float('nan'):.6g} best_epoch={best + 1}", flush=True)
    if curves:
        curves.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input", help="the HDF5 file lumen-bench wrote")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--target", type=float, default=0.01, help="object NRMSE to reach")
    p.add_argument("--max-epochs", type=int, default=200)
    p.add_argument("--engines", default="rPIE,ePIE,LSQML")
    p.add_argument("--batch", type=int, default=0, help="frames per minibatch (0: 20 for rPIE/ePIE, 32 for LSQML)")
    p.add_argument("--batching", default="", choices=["", "random", "uniform", "compact"],
                   help="minibatch selection (default: uniform for rPIE/ePIE, random for LSQML)")
    p.add_argument("--pie-step", type=float, default=1.0, help="rPIE/ePIE object step_size (gamma)")
    p.add_argument("--rpie-alpha", type=float, default=0.1, help="rPIE object alpha (pty-chi's default)")
    p.add_argument("--curves", default="", help="append engine,epoch,seconds,nrmse lines to this CSV")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with h5py.File(args.input, "r") as f:
        data = np.asarray(f["intensities"], dtype=np.float32)
        positions = np.asarray(f["positions"], dtype=np.float64)
        probe = np.asarray(f["probe"]).astype(np.complex64)
        truth = np.asarray(f["true_object"]).astype(np.complex128)
        region = np.asarray(f["region"], dtype=np.float64)
        check = np.asarray(f["check_estimate"]).astype(np.complex128)
        check_nrmse = float(np.asarray(f["check_nrmse"]))
    mine = object_nrmse(truth, check, region)
    print(f"ptychi metric_check lumen={check_nrmse:.8g} script={mine:.8g}", flush=True)
    if abs(mine - check_nrmse) > 1e-6 * max(check_nrmse, 1e-12):
        raise SystemExit("ptychi_run.py: the NRMSE here differs from lumen's object_nrmse on the file's check estimate")
    ny, nx = probe.shape
    probe_t = torch.from_numpy(probe / np.float32(math.sqrt(ny * nx)))[None, None]  # [opr][modes][ny][nx]
    args.frame = (ny, nx)
    pos_y, pos_x = positions[:, 0], positions[:, 1]
    print(f"ptychi version={ptychi.__version__} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"frames={data.shape[0]} frame={ny}x{nx} object={truth.shape[0]}x{truth.shape[1]} "
          f"batch={args.batch or 'per engine'} batching={args.batching or 'per engine'} pie_step={args.pie_step} "
          f"rpie_alpha={args.rpie_alpha}",
          flush=True)
    for engine in [e for e in args.engines.split(",") if e]:
        run_engine(engine, data, probe_t, pos_y, pos_x, truth, region, args)


if __name__ == "__main__":
    sys.exit(main())
