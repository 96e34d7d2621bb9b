"""Readers and writers from Python: what a writer wrote reads back the same, without a file
format of Python's own in between."""

from __future__ import annotations

import numpy as np

import lumen


def test_ct_scan_round_trip(tmp_path):
    scan = lumen.ct.simulate(size=12, views=6, seed=2)
    path = tmp_path / "scan.h5"
    lumen.ct.write_scan(str(path), scan, {"made_by": "test_io"})
    back = lumen.ct.read_scan(path)
    np.testing.assert_array_equal(back.data, scan.data)
    np.testing.assert_array_equal(back.truth, scan.truth)
    assert back.geometry.n_angles == 6 and back.geometry.volume.nx == 12
    np.testing.assert_allclose(back.geometry.angles, scan.geometry.angles, atol=1e-9)


def test_ct_reconstruction_file(tmp_path):
    scan = lumen.ct.simulate(size=12, views=8, seed=2)
    result = lumen.ct.reconstruct(scan, method="fdk")
    pngs = lumen.ct.write_reconstruction(str(tmp_path / "v.h5"), scan.geometry, result, "cpu",
                                         lumen.ct.compare_with_truth(scan.truth, result.volume), str(tmp_path / "v"))
    assert (tmp_path / "v.h5").exists() and len(pngs) == 3


def test_mri_fastmri_round_trip(tmp_path):
    sim = lumen.mri.simulate(height=32, width=24, coils=3, slices=2, seed=1)
    path = tmp_path / "k.h5"
    lumen.mri.write_fastmri(str(path), sim.kspace, truth_image=sim.image, truth_sensitivities=sim.sensitivities)
    reader = lumen.mri.ScanReader.open(str(path))
    assert (reader.header.slices, reader.header.coils, reader.header.height, reader.header.width) == (2, 3, 32, 24)
    np.testing.assert_array_equal(reader.read_slice(1), sim.kspace[1])
    np.testing.assert_array_equal(reader.truth_sensitivities(), sim.sensitivities)
    assert reader.file_mask() is None


def test_mri_ismrmrd_round_trip(tmp_path):
    sim = lumen.mri.simulate(height=32, width=24, coils=2, slices=1, seed=1)
    path = tmp_path / "k.mrd"
    lumen.mri.write_ismrmrd(str(path), sim.kspace)
    reader = lumen.mri.ScanReader.open(str(path))
    assert reader.header.format == "ismrmrd"
    np.testing.assert_allclose(reader.read_slice(0), sim.kspace[0], rtol=1e-6)


def test_ptycho_cxi_round_trip(tmp_path):
    scan = lumen.ptycho.simulate(frame=32, positions=9, seed=4)
    path = tmp_path / "s.cxi"
    lumen.ptycho.write_cxi(str(path), scan)
    back = lumen.ptycho.read_cxi(str(path))
    np.testing.assert_array_equal(back.intensities, scan.intensities)
    np.testing.assert_allclose(back.positions, scan.positions, atol=1e-3)
    np.testing.assert_array_equal(back.true_object, scan.true_object)
    assert back.object_shape == scan.object_shape


def test_ptycho_model_of_a_scan_fits_its_data():
    """The model built from a noiseless simulated scan reproduces its intensities from the truth."""
    scan = lumen.ptycho.simulate(frame=32, positions=9, seed=4, poisson=False)
    model = lumen.ptycho.model(scan)
    model.set_probe(scan.true_probe)
    ratio = np.abs(model.intensities(scan.true_object) - scan.intensities).max() / scan.intensities.max()
    assert ratio < 1e-3
