#!/usr/bin/env python3
"""Convert tike's measured Siemens-star scan (APS) into a CXI file that lumen-ptycho reads.

    python3 examples/ptycho_tike_siemens_star.py ../shared/realdata/tike_siemens_star_small.npz.bz2 star.cxi
    lumen-ptycho info star.cxi
    lumen-ptycho recon star.cxi -o star.h5 --iters 300 --png star

Needs numpy and h5py (pip install numpy h5py). What a user has to know about the archive
(AdvancedPhotonSource/tike, tests/data/siemens-star-small.npz.bz2, BSD-3-Clause):

- `data` (1, 516, 128, 128): photon counts with the zero frequency at [0, 0] (FFT order, as
  numpy's fft2 leaves it). CXI frames have it at the centre, so they are fftshifted here. (Written
  unshifted, lumen warns [ptycho.frames_centred] and `--frame-order fft` or `auto` takes them.)
- `scan` (1, 516, 2): top-left corners of the probe window in object pixels, (row, column): the
  same convention as lumen's positions, so x = column, y = row with no flip (lumen's orientation
  check agrees: `--orientation 0` fits best).
- `probe` (1, 1, 1, 1, 128, 128): a probe estimate in real space, centred, for tike's unnormalised
  FFT; lumen's FFT is unitary, so it is scaled by sqrt(128 x 128) (then |O| comes out about 1).
  lumen refines it by default; `--fixed-probe` holds it.
- No energy, distance or pixel size: any consistent choice gives the same problem in pixels. This
  script writes 10 keV, 2 m and 75 um pixels (object pixel lambda z / (N p) = 25.8 nm) and converts
  the positions with that object pixel.
"""
import argparse
import bz2
import io

import h5py
import numpy as np

PLANCK = 6.62607015e-34
LIGHT = 299792458.0
JOULES_PER_KEV = 1.602176634e-16


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("archive", help="tike_siemens_star_small.npz.bz2")
    ap.add_argument("output", help="CXI file to write")
    ap.add_argument("--keep-fft-order", action="store_true",
                    help="write the frames as tike stores them (to see lumen's frames_centred warning)")
    ap.add_argument("--no-probe", action="store_true", help="leave the probe out (lumen then estimates one)")
    args = ap.parse_args()

    with bz2.open(args.archive) as f:
        z = np.load(io.BytesIO(f.read()))
        data = np.asarray(z["data"][0], dtype=np.float32)      # (N, 128, 128), FFT order
        scan = np.asarray(z["scan"][0], dtype=np.float64)      # (N, 2) row, column (pixels)
        probe = np.asarray(z["probe"][0, 0, 0, 0], dtype=np.complex64)
    n, ny, nx = data.shape
    if not args.keep_fft_order:
        data = np.fft.fftshift(data, axes=(1, 2))               # zero frequency to [ny/2, nx/2]

    energy_j = 10.0 * JOULES_PER_KEV
    wavelength = PLANCK * LIGHT / energy_j
    distance, pixel = 2.0, 75e-6
    dx = wavelength * distance / (nx * pixel)                   # object pixel (m) along x
    dy = wavelength * distance / (ny * pixel)
    translation = np.zeros((n, 3), dtype=np.float64)
    translation[:, 0] = scan[:, 1] * dx                          # x from the column
    translation[:, 1] = scan[:, 0] * dy                          # y from the row

    with h5py.File(args.output, "w") as f:
        f["cxi_version"] = 150
        f["entry_1/data_1/data"] = data
        f["entry_1/sample_1/geometry_1/translation"] = translation
        f["entry_1/sample_1/geometry_1/translation"].attrs["units"] = "m"
        det = f.require_group("entry_1/instrument_1/detector_1")
        det["distance"] = distance
        det["x_pixel_size"] = pixel
        det["y_pixel_size"] = pixel
        # Rows along +y, columns along +x (what lumen assumes when the file says nothing).
        det["basis_vectors"] = np.array([[0.0, pixel, 0.0], [pixel, 0.0, 0.0]])
        src = f.require_group("entry_1/instrument_1/source_1")
        src["energy"] = energy_j
        src["wavelength"] = wavelength
        if not args.no_probe:
            # tike's FFT is unnormalised, lumen's unitary: sum |F psi|^2 = sum |psi|^2 needs this scale.
            src["illumination"] = (probe * np.sqrt(ny * nx)).astype(np.complex64)
    print(f"{args.output}: {n} frames of {ny}x{nx}, object pixel {dx * 1e9:.2f} nm, "
          f"{data.sum(axis=(1, 2)).mean():.4g} photons per frame")


if __name__ == "__main__":
    main()
