"""Ptychography from Python: read the sample CXI scan, reconstruct object and probe with AWF, score
the object against the truth and save a figure of its amplitude and phase.

    MPLBACKEND=Agg python examples/python/ptycho_recon.py [--device cuda] [--iterations 100] [--out out]
"""

import argparse
import pathlib

import matplotlib.pyplot as plt
import numpy as np

import lumen

root = pathlib.Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--scan", default=root / "data" / "ptycho_sample.cxi")
parser.add_argument("--device", default="cpu")
parser.add_argument("--iterations", type=int, default=100)
parser.add_argument("--out", default="out")
args = parser.parse_args()

scan = lumen.ptycho.read_cxi(str(args.scan))
print(f"{scan.n_positions} positions, frames {scan.intensities.shape[1:]}, object {scan.object_shape}")
history = []
r = lumen.ptycho.reconstruct(scan, method="awf", iterations=args.iterations, device=args.device,
                             progress=lambda info: history.append(info.iteration.objective))
print(f"AWF: {r.solver.iterations} iterations, object NRMSE {r.quality.nrmse:.3f}, "
      f"fit {r.residual.ratio():.2f} x the Poisson noise")

fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
axes[0].imshow(np.abs(r.object), cmap="gray")
axes[0].set_title("object amplitude")
axes[1].imshow(np.angle(r.object), cmap="twilight")
axes[1].set_title("object phase")
axes[2].semilogy(history)
axes[2].set_title("objective")
axes[2].set_xlabel("iteration")
for ax in axes[:2]:
    ax.axis("off")
out = pathlib.Path(args.out)
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "python_ptycho.png", dpi=100, bbox_inches="tight")
print("wrote", out / "python_ptycho.png")
