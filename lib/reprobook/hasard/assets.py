"""Where the scenario files live: the ``hasard`` wheel used as data only (its code is missing).

``import hasard`` fails (the wheel lacks ``hasard.wrappers``), so files are located through the import
system without executing the package. The wheel's WAD checksums are recorded here (paper repository
HEAD ``af9165f``, wheel 0.2.0) and checked by the tests.

>>> SCENARIOS[:2]
('armament_burden', 'volcanic_venture')
>>> INSTALL_HINT
'pip install vizdoom==1.3.2 && pip install --no-deps hasard==0.2.0'
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from pathlib import Path

__all__ = ["SCENARIOS", "LEVELS", "INSTALL_HINT", "WAD_MD5", "TRAIN_AB_WAD_MD5", "scenario_root",
           "wad_path", "config_path", "md5", "data_available"]

SCENARIOS = ("armament_burden", "volcanic_venture", "remedy_rush", "collateral_damage", "precipice_plunge",
             "detonators_dilemma")
LEVELS = (1, 2, 3)
INSTALL_HINT = "pip install vizdoom==1.3.2 && pip install --no-deps hasard==0.2.0"

#: md5 of ``hasard/envs/<scenario>/<file>`` in the 0.2.0 wheel.
WAD_MD5 = {
    "armament_burden": ("a0af703023e45a05cc939246d8b0d081", "31b60873f19c823b8b786d732d0df690",
                        "58ef1ac1324d32f79378730c736f9406", "3dcc65c684c4e1c527e086715bb91533"),
    "collateral_damage": ("42b9173edc49be1e041ccf1609947565", "64dbbaf648d3c274f0e1ce14dbdb2bef",
                          "94c9d61eeb776e1c1500182eea9ec3e6", "14a3bd7be17a6c1fcf5d40992c104bfb"),
    "detonators_dilemma": ("1e01476dff04c3254c2c0d5acfb05b0c", "ffb43b868968d6dca66277ee7d23165e",
                           "7b60c6238240915e7fb05ef708f5a262", "d46f6bdf3c6bf7d9f893a06f712b94f9"),
    "precipice_plunge": ("c0f193b9aa126de79859768ea8cbeac9", "98e3039f1d9ed73ea6834aa7fbf29ea6",
                         "836497d6699a1117404166d395f0f276", "4ee6c5cf289dbfb6e593f69c3e827c41"),
    "remedy_rush": ("0214713b3e33c263b8bf421d4536c09d", "e5094ce544ee770ba41a9a72b3b1f3a8",
                    "98926353a2e59b96f9fdbec40c50de9b", "2ba2e25cb40b76cc6e4571d0951e485b"),
    "volcanic_venture": ("88fe868702d9f5f829cbb5839a08e50b", "bdddc77be641ca1a2f9c2a5b7f6cf60f",
                         "a401603b343e22cfcffcdebb27ff4fb2", "253b94af7cf104f0e734bd204461182c"),
}
WAD_FILES = ("level_1.wad", "level_1_hard.wad", "level_2.wad", "level_3.wad")
#: The training path's Armament Burden maps (``sample_factory/doom/scenarios/armament_burden_{1,2,3}.wad``).
TRAIN_AB_WAD_MD5 = ("50af65d4ed43ef06ae0ac42c0f321a68", "d4360f1c49205e38ca8772df495dc3ee",
                    "9be04d0fd1cb048a74ded1fa0903d380")


def _package_dir(name: str) -> Path:
    # Ask the installed distribution first: a module named ``hasard`` earlier on sys.path (a script
    # called hasard.py) would otherwise shadow the wheel's folder. Both folders come from that wheel.
    try:
        folder = Path(importlib.metadata.distribution("hasard").locate_file(name))
        if folder.is_dir():
            return folder
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the data package {name!r} is not installed; run: {INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0])


def data_available() -> bool:
    """True when both the engine and the scenario files are installed."""
    try:
        _package_dir("hasard")
    except FileNotFoundError:
        return False
    return importlib.util.find_spec("vizdoom") is not None


def scenario_root(scenario: str) -> Path:
    """The folder of one scenario inside the installed wheel (found without importing it)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; allowed: {', '.join(SCENARIOS)}")
    return _package_dir("hasard") / "envs" / scenario


def config_path(scenario: str) -> Path:
    return scenario_root(scenario) / "conf.cfg"


def wad_path(scenario: str, level: int, *, hard: bool = False, variant: str = "train") -> Path:
    """The map of ``scenario`` at ``level``; ``variant="train"`` picks the training maps of Armament Burden."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if hard and level != 1:
        raise ValueError("hard-constraint maps exist only for level 1")
    if variant not in ("train", "api"):
        raise ValueError(f"variant must be 'train' or 'api', got {variant!r}")
    if variant == "train" and scenario == "armament_burden" and not hard:
        return _package_dir("sample_factory") / "doom" / "scenarios" / f"armament_burden_{level}.wad"
    name = "level_1_hard.wad" if hard else f"level_{level}.wad"
    return scenario_root(scenario) / name


def md5(path: str | Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
