#!/usr/bin/env python3
"""Convert Siemens raw data (twix .dat, VB or VD/VE) of a 2-D Cartesian scan into a file lumen-mri reads.

    python3 examples/mri_twix_to_ismrmrd.py IN.dat OUT.h5 [--format ismrmrd|fastmri]
            [--lines N] [--centre-line N] [--oversampling F]

Needs: numpy, h5py, twixtools (PyPI), and for --format ismrmrd (the default) the ismrmrd
Python package (PyPI `ismrmrd`). See examples/README.md.

What it does, and the conventions a converter must get right (docs/mri.md, "Real scans"):

- Every imaging readout (twixtools `is_image_scan()`) becomes one ISMRMRD acquisition with its
  counters: line -> kspace_encode_step_1, slice, average, repetition. Navigator, phase-correction
  and sync data are dropped.
- Readouts that the scanner flags REFLECT (bipolar / EPI readouts, stored in acquisition order)
  are flagged ACQ_IS_REVERSE; lumen flips them back. (In fastMRI layout, which has no flags, they
  are flipped here.)
- Noise-adjustment scans (NOISEADJSCAN, the measurement before the image data in a multi-raid
  file) become ACQ_IS_NOISE_MEASUREMENT acquisitions; lumen pre-whitens the coils with them.
- The readout is kept as acquired, oversampling included: encodedSpace x = samples per readout,
  reconSpace x = samples / oversampling. lumen crops the image to the recon size after the
  inverse FFT (as the scanner does). The factor comes from the header (Dicom flReadoutOSFactor)
  when the samples agree with it, else --oversampling (Pulseq sequences write their own ADC and
  a placeholder protocol: their headers do not describe the data).
- The phase-encode centre: the header's k-space centre line (mdh CenterLin) when it is set, else
  lines/2, i.e. lines 0..N-1 ran from -N/2 to N/2-1 (Pulseq's order). The line counters are kept
  and the header says where the centre is (encodingLimits center); when it is off the middle
  (partial Fourier), the encoded matrix is widened to 2 max(centre, lines - centre) so that both
  sides fit, as siemens_to_ismrmrd does. `lumen-mri info` checks the centre against the data
  (mri.kspace_centre) and reports the partial Fourier (mri.partial_fourier).
"""
import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--format", choices=["ismrmrd", "fastmri"], default="ismrmrd")
    ap.add_argument("--lines", type=int, default=0, help="phase-encode matrix (default: the lines acquired)")
    ap.add_argument("--centre-line", type=int, default=-1, help="line index of ky = 0 (default: header, else lines/2)")
    ap.add_argument("--oversampling", type=float, default=0.0, help="readout oversampling factor (default: header)")
    a = ap.parse_args()

    import twixtools

    twix = twixtools.read_twix(a.input, verbose=False)
    image = twix[-1]  # multi-raid files: adjustment scans first, the imaging measurement last
    # (readout, dwell time in ns of the measurement it came from): the noise scan's bandwidth
    # usually differs from the imaging one, and lumen scales the covariance by their ratio.
    noise = [(m, dwell_of(meas["hdr"])) for meas in twix for m in meas["mdb"] if m.is_flag_set("NOISEADJSCAN")]
    scans = [m for m in image["mdb"] if m.is_image_scan()]
    if not scans:
        sys.exit(f"{a.input}: no imaging readouts")
    coils, samples = scans[0].data.shape
    if any(m.data.shape != (coils, samples) for m in scans):
        sys.exit(f"{a.input}: readouts of different lengths; this converter handles one readout length")
    slices = max(m.cSlc for m in scans) + 1
    lines = max(a.lines, max(m.cLin for m in scans) + 1)
    centre = a.centre_line
    if centre < 0:
        header_centre = int(scans[0].mdh.CenterLin)
        centre = header_centre if 0 < header_centre < lines else lines // 2
    hdr = image["hdr"]
    oversampling = a.oversampling
    if oversampling <= 0:
        os_header = float(hdr.get("Dicom", {}).get("flReadoutOSFactor", 1.0) or 1.0)
        base = int(hdr.get("MeasYaps", {}).get("sKSpace", {}).get("lBaseResolution", 0) or 0)
        # Trust the header only when it describes these samples.
        oversampling = os_header if base > 0 and abs(samples - os_header * base) < 1 else 1.0
    recon_x = int(round(samples / oversampling))
    # The encoded phase-encode matrix: symmetric about the centre line.
    matrix_y = 2 * max(centre, lines - centre)
    yaps = hdr.get("MeasYaps", {})
    dwell_ns = dwell_of(hdr)
    fov = yaps.get("sSliceArray", {}).get("asSlice", [{}])[0]
    fov_x, fov_y = float(fov.get("dReadoutFOV", 256.0)), float(fov.get("dPhaseFOV", 256.0))
    thickness = float(fov.get("dThickness", 5.0))
    frequency = int(hdr.get("Dicom", {}).get("lFrequency", 123200000) or 123200000)
    reflected = sum(m.is_flag_set("REFLECT") for m in scans)
    print(f"{a.input}: {len(scans)} readouts of {samples} samples x {coils} coil(s), {slices} slice(s), "
          f"{lines} lines (centre line {centre}, matrix {matrix_y}), readout oversampling {oversampling:g} -> recon "
          f"{recon_x} x {lines}, "
          f"{reflected} reflected readouts, {len(noise)} noise readouts", file=sys.stderr)

    if a.format == "fastmri":
        write_fastmri(a, scans, coils, samples, slices, lines, matrix_y, centre, recon_x, fov_x, fov_y, thickness,
                      frequency)
    else:
        write_ismrmrd(a, scans, noise, coils, samples, slices, lines, matrix_y, centre, recon_x, fov_x, fov_y,
                      thickness, frequency, dwell_ns)


def dwell_of(hdr):
    return float((hdr.get("MeasYaps", {}).get("sRXSPEC", {}).get("alDwellTime") or [0])[0] or 0)


def header_xml(samples, lines, matrix_y, recon_x, coils, slices, centre, fov_x, fov_y, thickness, frequency):
    return f"""<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <acquisitionSystemInformation><receiverChannels>{coils}</receiverChannels></acquisitionSystemInformation>
  <experimentalConditions><H1resonanceFrequency_Hz>{frequency}</H1resonanceFrequency_Hz></experimentalConditions>
  <encoding>
    <encodedSpace><matrixSize><x>{samples}</x><y>{matrix_y}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{fov_x * samples / recon_x}</x><y>{fov_y}</y><z>{thickness}</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>{recon_x}</x><y>{matrix_y}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{fov_x}</x><y>{fov_y}</y><z>{thickness}</z></fieldOfView_mm></reconSpace>
    <encodingLimits>
      <kspace_encoding_step_1><minimum>0</minimum><maximum>{lines - 1}</maximum><center>{centre}</center></kspace_encoding_step_1>
      <kspace_encoding_step_2><minimum>0</minimum><maximum>0</maximum><center>0</center></kspace_encoding_step_2>
      <slice><minimum>0</minimum><maximum>{slices - 1}</maximum><center>0</center></slice>
    </encodingLimits>
    <trajectory>cartesian</trajectory>
  </encoding>
</ismrmrdHeader>
"""


def write_ismrmrd(a, scans, noise, coils, samples, slices, lines, matrix_y, centre, recon_x, fov_x, fov_y, thickness,
                  frequency, dwell_ns):
    import ismrmrd

    d = ismrmrd.Dataset(a.output, "dataset", create_if_needed=True)
    d.write_xml_header(header_xml(samples, lines, matrix_y, recon_x, coils, slices, centre, fov_x, fov_y, thickness,
                                  frequency))
    for m, noise_dwell_ns in noise:
        acq = ismrmrd.Acquisition.from_array(np.ascontiguousarray(m.data, dtype=np.complex64))
        acq.set_flag(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
        acq.sample_time_us = noise_dwell_ns / 1000.0
        d.append_acquisition(acq)
    for i, m in enumerate(scans):
        acq = ismrmrd.Acquisition.from_array(np.ascontiguousarray(m.data, dtype=np.complex64))
        acq.idx.kspace_encode_step_1 = m.cLin
        acq.idx.slice = m.cSlc
        acq.idx.average = m.cAve
        acq.idx.repetition = m.cRep
        acq.center_sample = int(m.mdh.CenterCol)
        acq.sample_time_us = dwell_ns / 1000.0
        acq.scan_counter = i
        if m.is_flag_set("REFLECT"):
            acq.set_flag(ismrmrd.ACQ_IS_REVERSE)
        if m.is_flag_set("FIRSTSCANINSLICE"):
            acq.set_flag(ismrmrd.ACQ_FIRST_IN_SLICE)
        if m.is_flag_set("LASTSCANINSLICE"):
            acq.set_flag(ismrmrd.ACQ_LAST_IN_SLICE)
        if m.is_flag_set("LASTSCANINMEAS"):
            acq.set_flag(ismrmrd.ACQ_LAST_IN_MEASUREMENT)
        d.append_acquisition(acq)
    d.close()


def write_fastmri(a, scans, coils, samples, slices, lines, matrix_y, centre, recon_x, fov_x, fov_y, thickness,
                  frequency):
    import h5py

    # lumen's layout [slices][coils][H = readout][W = phase encode], the centre line at W/2 (the
    # header's limits say which columns were acquired); repeated lines averaged.
    k = np.zeros((slices, coils, samples, matrix_y), np.complex64)
    n = np.zeros((slices, matrix_y))
    shift = matrix_y // 2 - centre
    for m in scans:
        data = m.data[:, ::-1] if m.is_flag_set("REFLECT") else m.data  # no flags in fastMRI: flip here
        k[m.cSlc, :, :, m.cLin + shift] += data
        n[m.cSlc, m.cLin + shift] += 1
    k /= np.maximum(n, 1)[:, None, None, :]
    with h5py.File(a.output, "w") as f:
        f.create_dataset("kspace", data=k[:, 0] if coils == 1 else k)
        f.create_dataset("ismrmrd_header", data=header_xml(samples, lines, matrix_y, recon_x, coils, slices, centre,
                                                            fov_x, fov_y, thickness, frequency).encode())
        f.attrs["acquisition"] = "SIEMENS_TWIX"


if __name__ == "__main__":
    main()
