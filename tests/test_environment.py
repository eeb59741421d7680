"""The environment descriptions stay in step: pyproject extras, environment.yml and the Makefile."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_the_makefile_install():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict) and "pip" in item)
    makefile = (ROOT / "Makefile").read_text()
    installed = re.findall(r'pip install --quiet -e "\.\[([a-z_,]+)\]"', makefile)
    assert installed, "the Makefile installs the project with extras"
    assert f"-e .[{installed[0]}]" in pip
    assert "torch==2.13.0" in pip and "torch==2.13.0" in makefile


def test_all_extra_covers_every_chapter_group():
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    everything = extras["all"][0]
    listed = set(re.search(r"\[(.*)\]", everything).group(1).split(","))
    chapter_groups = {name for name in extras if name not in {"all", "dev"}}
    assert listed == chapter_groups, f"the [all] extra must list {sorted(chapter_groups)}"
    assert project["requires-python"].startswith(">=3.11")


def test_torch_is_pinned_wherever_it_appears():
    for name, requirements in pyproject()["project"]["optional-dependencies"].items():
        for requirement in requirements:
            if re.match(r"torch\b(?!vision)", requirement):
                assert requirement == "torch==2.13.0", f"extra {name!r} must pin torch==2.13.0"
