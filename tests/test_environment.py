"""The environment descriptions stay in step: pyproject extras, environment.yml and the Makefile."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
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
    # hardware variants (e.g. meal-cuda) are installed by hand on a machine with that hardware
    chapter_groups = {name for name in extras if name not in {"all", "dev"} and not name.endswith("-cuda")}
    assert listed == chapter_groups, f"the [all] extra must list {sorted(chapter_groups)}"
    assert project["requires-python"].startswith(">=3.11")


def test_torch_is_pinned_wherever_it_appears():
    for name, requirements in pyproject()["project"]["optional-dependencies"].items():
        for requirement in requirements:
            if re.match(r"torch\b(?!vision)", requirement):
                assert requirement == "torch==2.13.0", f"extra {name!r} must pin torch==2.13.0"


def nodeps_wheels() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    block = re.search(r"^NODEPS_WHEELS := (.*?)(?<!\\)\n", makefile, re.M | re.S).group(1)
    return block.replace("\\\n", " ").split()


def test_environment_yml_names_every_nodeps_wheel():
    comment = "\n".join(line for line in (ROOT / "environment.yml").read_text().splitlines() if line.startswith("#"))
    wheels = nodeps_wheels()
    assert len(wheels) >= 10
    missing = [wheel for wheel in wheels if wheel not in comment]
    assert not missing, f"environment.yml's comment must name the --no-deps wheels {missing}"


def test_readme_documents_every_environment_variable_the_library_reads():
    readme = (ROOT / "README.md").read_text()
    names = {name for path in (ROOT / "lib" / "reprobook").rglob("*.py")
             for name in re.findall(r"\"(REPROBOOK_[A-Z_]+)\"", path.read_text())}
    names -= {"REPROBOOK_NO_SUCH_VARIABLE"}  # a doctest's example
    assert {"REPROBOOK_ROOT", "REPROBOOK_MODEL_DIR", "REPROBOOK_JAX_CACHE"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document {missing}"


def test_readme_counts_what_it_lists_and_says_build_needs_runs():
    readme = (ROOT / "README.md").read_text()
    words = {"Two": 2, "Three": 3, "Four": 4, "Five": 5}
    for match in re.finditer(r"(Two|Three|Four|Five) choices[^\n]*:\n\n((?:- .*\n(?:  .*\n)*)+)", readme):
        bullets = re.findall(r"^- ", match.group(2), re.M)
        assert len(bullets) == words[match.group(1)], f"'{match.group(1)} choices' lists {len(bullets)}"
    assert re.search(r"choices differ", readme)
    assert "needs every chapter run" in readme and "reprobook build ficsum" in readme


def test_the_lab_target_installs_the_dev_extra():
    makefile = (ROOT / "Makefile").read_text()
    lab = re.search(r"^lab:.*?(?=^\S)", makefile, re.M | re.S).group(0)
    assert 'pip install --quiet -e ".[all,dev]"' in lab
    dev = pyproject()["project"]["optional-dependencies"]["dev"]
    assert not any(requirement.startswith("jupyterlab-jupytext") for requirement in dev), \
        "jupytext >= 1.16 ships its JupyterLab extension; the index has no jupyterlab-jupytext"


NETWORK_ERRORS = ("NewConnectionError", "Max retries exceeded", "Temporary failure in name resolution",
                  "Network is unreachable", "Connection refused", "Failed to establish a new connection",
                  "Read timed out", "ProxyError", "Could not fetch URL")


def test_every_requirement_of_every_extra_resolves_on_the_index(tmp_path):
    """Each requirement of the project and of its extras, and each --no-deps pin of the Makefile, has a
    candidate on the configured package index (one pip dry run, no dependencies: metadata only)."""
    project = pyproject()["project"]
    requirements = set(project["dependencies"])
    for name, listed in project["optional-dependencies"].items():
        if name != "all":
            requirements.update(listed)
    requirements.update(nodeps_wheels())
    (tmp_path / "requirements.txt").write_text("\n".join(sorted(requirements)) + "\n")
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-r", str(tmp_path / "requirements.txt")],
        capture_output=True, text=True, timeout=600)
    output = completed.stdout + completed.stderr
    if completed.returncode != 0 and any(marker in output for marker in NETWORK_ERRORS) \
            and "No matching distribution found" not in output:
        pytest.skip(f"the package index is unreachable: "
                    f"{next(line for line in output.splitlines() if any(m in line for m in NETWORK_ERRORS))}")
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    assert completed.returncode == 0, "requirements that do not resolve:\n" + "\n".join(errors or [output[-2000:]])
