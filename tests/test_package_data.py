"""A wheel of the library carries every data file the chapters read at run time, not only the code."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_every_data_file_of_the_library(tmp_path):
    pytest.importorskip("setuptools")
    data = sorted(path.relative_to(ROOT / "lib").as_posix() for path in (ROOT / "lib" / "reprobook").rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts)
    assert data, "the library has no data files: this test has nothing to check"
    source = tmp_path / "source"  # built from a copy, so setuptools' build folder stays out of the checkout
    shutil.copytree(ROOT / "lib", source / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path / "wheel")], check=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("reprobook-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in data if name not in names]
    assert not missing, f"the wheel leaves out {missing}: add them to [tool.setuptools.package-data]"
