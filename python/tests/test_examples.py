"""The example scripts of examples/python run and write their figures."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO

pytest.importorskip("matplotlib")


@pytest.mark.parametrize("name,figure", [("ct_recon.py", "python_ct.png"), ("mri_recon.py", "python_mri.png"),
                                         ("ptycho_recon.py", "python_ptycho.png")])
def test_example(tmp_path, name, figure):
    env = dict(os.environ, MPLBACKEND="Agg")
    args = [sys.executable, str(REPO / "examples" / "python" / name), "--out", str(tmp_path)]
    # Short runs: the scripts' defaults make better pictures, the test checks that they run.
    args += {"ct_recon.py": ["--iterations", "5"], "mri_recon.py": ["--slices", "1"],
             "ptycho_recon.py": ["--iterations", "20"]}[name]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / figure).stat().st_size > 1000
