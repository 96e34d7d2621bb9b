"""MRI from Python: read the sample multi-coil scan, undersample it 4x, estimate ESPIRiT coil maps,
reconstruct each slice with L1-wavelet compressed sensing, score against the reference and save a
figure.

    MPLBACKEND=Agg python examples/python/mri_recon.py [--device cuda] [--out out]
"""

import argparse
import pathlib

import matplotlib.pyplot as plt
import numpy as np

import lumen

root = pathlib.Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--scan", default=root / "data" / "mri_sample.h5")
parser.add_argument("--device", default="cpu")
parser.add_argument("--slices", type=int, default=0, help="reconstruct the first N slices (0: all)")
parser.add_argument("--out", default="out")
args = parser.parse_args()

reader = lumen.mri.ScanReader.open(str(args.scan))
h = reader.header
mask = lumen.mri.make_mask(h.height, h.width, kind="random", acceleration=4, seed=1)
lumen.mri.restrict_columns(mask, h.first_column, h.last_column)
print(f"{h.slices} slices, {h.coils} coils, {h.height} x {h.width}, acceleration "
      f"{1 / lumen.mri.sampled_fraction(mask):.1f}")

rec = lumen.mri.SliceReconstructor(method="l1-wavelet", device=args.device)
slices = h.slices if args.slices <= 0 else min(args.slices, h.slices)
zero_filled, volume = [], []
for s in range(slices):
    kspace = reader.read_slice(s) * mask  # numpy broadcasting: the undersampled data
    maps, _ = lumen.mri.espirit(kspace, mask, device=args.device)
    r = rec.reconstruct(kspace, mask, maps, s, slices)
    volume.append(lumen.mri.center_crop(r.magnitude, h.recon_height, h.recon_width))
    zf = lumen.mri.reconstruct_slice(kspace, mask, None, method="zf")
    zero_filled.append(lumen.mri.center_crop(zf.magnitude, h.recon_height, h.recon_width))
volume, zero_filled = np.stack(volume), np.stack(zero_filled)
reference = reader.reference()[:slices]
for name, v in (("zero-filled", zero_filled), ("L1-wavelet", volume)):
    q = lumen.mri.fastmri_quality(reference, v)
    print(f"{name}: PSNR {q.psnr_db:.1f} dB, SSIM {q.ssim:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, (title, img) in zip(axes, [("reference", reference[0]), ("zero-filled 4x", zero_filled[0]),
                                   ("L1-wavelet 4x", volume[0])]):
    ax.imshow(img, cmap="gray", vmin=0, vmax=float(reference.max()))
    ax.set_title(title)
    ax.axis("off")
out = pathlib.Path(args.out)
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "python_mri.png", dpi=100, bbox_inches="tight")
print("wrote", out / "python_mri.png")
