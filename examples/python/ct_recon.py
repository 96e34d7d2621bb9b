"""CT from Python: read the sample cone-beam scan, reconstruct it with FDK and with SIRT (stopped by
the discrepancy rule), score both against the truth and save a figure.

    MPLBACKEND=Agg python examples/python/ct_recon.py [--device cuda] [--out out]
"""

import argparse
import pathlib

import matplotlib.pyplot as plt

import lumen

root = pathlib.Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--scan", default=root / "data" / "ct_sample.h5")
parser.add_argument("--device", default="cpu")
parser.add_argument("--iterations", type=int, default=100, help="SIRT's cap (the discrepancy rule stops it first)")
parser.add_argument("--out", default="out")
args = parser.parse_args()

scan = lumen.ct.read_scan(args.scan)
print(scan.geometry.describe())
results = {}
for method in ("fdk", "sirt"):
    r = lumen.ct.reconstruct(scan, method=method, device=args.device, iterations=args.iterations)
    q = lumen.ct.compare_with_truth(scan.truth, r.volume)
    results[method] = r.volume
    print(f"{method}: PSNR {q.psnr_db:.1f} dB, SSIM {q.ssim:.3f}, {r.solver.iterations} iterations "
          f"({r.solver.stop_reason or 'direct'}), {r.elapsed_s:.2f} s")

z = scan.truth.shape[0] // 2
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, (title, vol) in zip(axes, [("truth", scan.truth), ("FDK", results["fdk"]), ("SIRT", results["sirt"])]):
    ax.imshow(vol[z], cmap="gray", vmin=0, vmax=float(scan.truth.max()))
    ax.set_title(title)
    ax.axis("off")
out = pathlib.Path(args.out)
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "python_ct.png", dpi=100, bbox_inches="tight")
print("wrote", out / "python_ct.png")
