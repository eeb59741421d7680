import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from reprobook import sweep as sweep_module
from reprobook.sweep import CellFailure, SweepError, cache_key, sweep


@dataclass(frozen=True)
class Cell:
    value: int
    log_dir: str
    fail_marker: str = ""


def square(cell: Cell) -> int:
    """Records every call in ``log_dir``; raises while ``fail_marker`` exists."""
    Path(cell.log_dir, f"{cell.value}-{os.getpid()}-{len(os.listdir(cell.log_dir))}").touch()
    if cell.fail_marker and Path(cell.fail_marker).exists():
        raise ValueError(f"cell {cell.value} crashed")
    return cell.value ** 2


def calls(log_dir: Path) -> list[int]:
    return sorted(int(name.split("-")[0]) for name in os.listdir(log_dir))


@pytest.fixture
def log_dir(tmp_path):
    path = tmp_path / "calls"
    path.mkdir()
    return path


def test_results_come_back_in_order_and_are_cached(tmp_path, log_dir):
    cells = [Cell(value, str(log_dir)) for value in (3, 1, 2)]
    assert sweep(square, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False) == [9, 1, 4]
    assert calls(log_dir) == [1, 2, 3]
    assert sweep(square, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False) == [9, 1, 4]
    assert calls(log_dir) == [1, 2, 3], "a rerun with nothing changed must not call the function"


def test_a_failing_cell_is_reported_and_the_rest_resume(tmp_path, log_dir):
    marker = tmp_path / "crash"
    marker.touch()
    cells = [Cell(1, str(log_dir)), Cell(2, str(log_dir), str(marker)), Cell(3, str(log_dir))]
    with pytest.raises(SweepError) as error:
        sweep(square, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert '"value": 2' in str(error.value) and "cell 2 crashed" in str(error.value)
    assert error.value.results[0] == 1 and isinstance(error.value.results[1], CellFailure)
    marker.unlink()  # the cause is fixed; only the failed cell runs again
    assert sweep(square, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False) == [1, 4, 9]
    assert calls(log_dir) == [1, 2, 2, 3]


def test_errors_keep_returns_failures_in_place(tmp_path, log_dir):
    marker = tmp_path / "crash"
    marker.touch()
    cells = [Cell(1, str(log_dir)), Cell(2, str(log_dir), str(marker))]
    results = sweep(square, cells, backend="serial", cache=False, errors="keep", progress=False)
    assert results[0] == 1 and isinstance(results[1], CellFailure)


def test_an_interrupted_write_leaves_no_cache_entry(tmp_path, log_dir, monkeypatch):
    def broken_replace(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process were stopped between writing and renaming

    monkeypatch.setattr(sweep_module.os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        sweep(square, [Cell(5, str(log_dir))], backend="serial", cache_dir=tmp_path / "cache", progress=False)
    monkeypatch.undo()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert sweep(square, [Cell(5, str(log_dir))], backend="serial", cache_dir=tmp_path / "cache",
                 progress=False) == [25]


def test_the_key_depends_on_config_and_fingerprint(log_dir, monkeypatch):
    one, two = Cell(1, str(log_dir)), Cell(2, str(log_dir))
    assert cache_key(square, one) == cache_key(square, Cell(1, str(log_dir)))
    assert cache_key(square, one) != cache_key(square, two)
    before = cache_key(square, one)
    assert cache_key(square, one, source="edited source") != before


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_edit_to_a_shared_module_recomputes_only_the_cells_that_import_it(tmp_path, monkeypatch):
    """A kit-like package: `one` imports `shared` (lazily, inside the function), `two` does not."""
    package = tmp_path / "src"
    write_package(package, {
        "toykit/__init__.py": "",
        "toykit/shared.py": "def offset():\n    return 1\n",
        "toykit/one/__init__.py": "",
        "toykit/one/exp.py": "from pathlib import Path\n\ndef run(cell):\n    from ..shared import offset\n"
                             "    Path(cell[1], f'one-{cell[0]}-{len(list(Path(cell[1]).iterdir()))}').touch()\n"
                             "    return cell[0] + offset()\n",
        "toykit/two/__init__.py": "",
        "toykit/two/exp.py": "from pathlib import Path\nimport numpy\n\ndef run(cell):\n"
                             "    Path(cell[1], f'two-{cell[0]}-{len(list(Path(cell[1]).iterdir()))}').touch()\n"
                             "    return cell[0] * 2\n",
    })
    monkeypatch.syspath_prepend(str(package))
    from toykit.one.exp import run as run_one
    from toykit.two.exp import run as run_two

    log = tmp_path / "log"
    log.mkdir()
    cells = [(value, str(log)) for value in (1, 2)]

    def run_both() -> list[str]:
        before = set(os.listdir(log))
        assert sweep(run_one, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False) == [2, 3]
        assert sweep(run_two, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False) == [2, 4]
        return sorted(name.split("-")[0] for name in set(os.listdir(log)) - before)

    assert run_both() == ["one", "one", "two", "two"]
    assert run_both() == [], "nothing changed: every cell comes from the cache"
    shared = package / "toykit" / "shared.py"
    shared.write_text(shared.read_text() + "\n\ndef unused():\n    return 2\n")
    assert run_both() == ["one", "one"], "only the cells whose function imports the edited module"
    real_version = sweep_module._distribution_version
    monkeypatch.setattr(sweep_module, "_distribution_version",
                        lambda name: "0.0.1-test" if name == "numpy" else real_version(name))
    assert run_both() == ["two", "two"], "a new numpy version recomputes the cells that import numpy"


def chapter_fingerprints(lib: Path) -> dict[str, dict[str, str]]:
    """For every chapter module that defines an experiment, the hashes of its import closure."""
    roots = {"reprobook": lib}
    result = {}
    for path in sorted((lib / "reprobook").glob("*/*.py")):
        if "\ndef run_" in path.read_text():
            module = ".".join(path.relative_to(lib).with_suffix("").parts)
            result[module] = sweep_module.import_closure([module], roots)[0]
    return result


@pytest.mark.parametrize(("kit_module", "chapters"), [("sparse", {"seft", "neurotrails"}),
                                                       ("lm", {"safetutors", "mubench"})])
def test_a_kit_edit_invalidates_the_chapters_that_use_it_and_no_other(tmp_path, kit_module, chapters):
    """On a copy of the real package: which chapters' experiment cells an edit of a kit module reaches."""
    lib = tmp_path / "lib"
    shutil.copytree(Path(sweep_module.__file__).parent, lib / "reprobook",
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = chapter_fingerprints(lib)
    assert {module.split(".")[1] for module in before} >= chapters
    edited = lib / "reprobook" / f"{kit_module}.py"
    edited.write_text(edited.read_text() + "\n\ndef _an_edit():\n    return None\n")
    after = chapter_fingerprints(lib)
    changed = {module.split(".")[1] for module in before if before[module] != after[module]}
    assert changed == chapters


def test_package_versions_name_the_distributions():
    versions = sweep_module.package_versions({"numpy", "sklearn", "os", "json"})
    assert set(versions) == {"numpy", "scikit-learn"}
    assert sweep_module.package_versions({"jax"}).keys() == {"jax", "jaxlib"}


def test_cached_cells_carry_a_checksum(tmp_path, log_dir):
    sweep(square, [Cell(4, str(log_dir))], backend="serial", cache_dir=tmp_path / "cache", progress=False)
    (path,) = [p for p in (tmp_path / "cache").rglob("*.pkl")]
    assert sweep_module.read_cell(path) == 16
    blob = path.read_bytes()
    assert blob.startswith(sweep_module.CELL_MAGIC)
    assert pickle.loads(blob[len(sweep_module.CELL_MAGIC) + 32:]) == 16


def payload(cell: Cell) -> dict:
    square(cell)
    return {"value": cell.value, "squares": [cell.value ** 2] * 5, "name": "x" * 20}


def test_a_flipped_byte_is_never_trusted(tmp_path, log_dir):
    cache = tmp_path / "cache"
    cell = Cell(7, str(log_dir))
    expected = payload(cell)
    sweep(payload, [cell], backend="serial", cache_dir=cache, progress=False)
    (path,) = list(cache.rglob("*.pkl"))
    good = path.read_bytes()
    positions = sorted({*range(0, len(good), max(1, len(good) // 40)), len(good) - 1})
    for position in positions:
        corrupt = bytearray(good)
        corrupt[position] ^= 0x04
        path.write_bytes(bytes(corrupt))
        calls_before = len(os.listdir(log_dir))
        with pytest.warns(sweep_module.CacheWarning, match="cannot be trusted"):
            result = sweep(payload, [cell], backend="serial", cache_dir=cache, progress=False)
        assert result == [expected], f"flip at byte {position}"
        assert len(os.listdir(log_dir)) == calls_before + 1, f"flip at byte {position}: the cell is recomputed"
        assert path.read_bytes() == good
    path.write_bytes(good[: len(good) // 2])
    with pytest.warns(sweep_module.CacheWarning):
        assert sweep(payload, [cell], backend="serial", cache_dir=cache, progress=False) == [expected]


def test_progress_is_reported_to_the_runner(tmp_path, log_dir, monkeypatch):
    report = tmp_path / "progress.jsonl"
    monkeypatch.setenv("REPROBOOK_PROGRESS_FILE", str(report))
    cells = [Cell(value, str(log_dir)) for value in range(3)]
    sweep(square, cells[:1], backend="serial", cache_dir=tmp_path / "cache", progress=False)
    sweep(square, cells, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    records = [json.loads(line) for line in report.read_text().splitlines()]
    last = {record["sweep"]: record for record in records}
    finals = sorted((r["total"], r["cached"], r["computed"], r["done"]) for r in last.values())
    assert finals == [(1, 0, 1, True), (3, 1, 2, True)]


def test_local_processes(tmp_path, log_dir):
    cells = [Cell(value, str(log_dir)) for value in range(4)]
    assert sweep(square, cells, backend="processes", jobs=2, cache_dir=tmp_path / "c", progress=False) == [0, 1, 4, 9]
    pids = {name.split("-")[1] for name in os.listdir(log_dir)}
    assert str(os.getpid()) not in pids


def test_bad_arguments_are_rejected(log_dir):
    with pytest.raises(ValueError, match="backend must be one of"):
        sweep(square, [Cell(1, str(log_dir))], backend="threads", cache=False, progress=False)
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        sweep(square, [Cell(1, str(log_dir))], jobs=0, cache=False, progress=False)
    with pytest.raises(TypeError, match="cannot key"):
        cache_key(square, object())


def test_ray_backend_on_a_local_instance(tmp_path, log_dir, monkeypatch):
    import ray
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        cells = [Cell(value, str(log_dir)) for value in range(3)]
        assert sweep(square, cells, backend="ray", cache_dir=tmp_path / "cache", progress=False) == [0, 1, 4]
        assert sweep(square, cells, backend="ray", cache_dir=tmp_path / "cache", progress=False) == [0, 1, 4]
        assert calls(log_dir) == [0, 1, 2]
    finally:
        ray.shutdown()


def test_an_interrupted_sweep_stops_its_workers_at_once(tmp_path):
    import psutil

    script = ("import time\nfrom reprobook.sweep import sweep\n"
              "sweep(time.sleep, [600, 600], jobs=2, backend='processes', cache=False, progress=False)\n")
    def default_sigint() -> None:  # in the child: SIGINT as a fresh shell gives it, whatever this process holds
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_sigint)
    try:
        deadline = time.monotonic() + 120
        workers: list = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [child for child in psutil.Process(process.pid).children(recursive=True)
                       if "spawn_main" in " ".join(child.cmdline())]
            time.sleep(0.2)
        assert len(workers) == 2, "the workers did not start in time"
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
    assert "KeyboardInterrupt" in stderr
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, "no worker outlives an interrupted sweep"
