import os
import pickle
import sys
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
    def broken_dump(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process were stopped mid-write

    monkeypatch.setattr(sweep_module.pickle, "dump", broken_dump)
    with pytest.raises(KeyboardInterrupt):
        sweep(square, [Cell(5, str(log_dir))], backend="serial", cache_dir=tmp_path / "cache", progress=False)
    monkeypatch.undo()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert sweep(square, [Cell(5, str(log_dir))], backend="serial", cache_dir=tmp_path / "cache",
                 progress=False) == [25]


def test_the_key_depends_on_config_and_source(log_dir, monkeypatch):
    one, two = Cell(1, str(log_dir)), Cell(2, str(log_dir))
    assert cache_key(square, one) == cache_key(square, Cell(1, str(log_dir)))
    assert cache_key(square, one) != cache_key(square, two)
    before = cache_key(square, one)
    monkeypatch.setitem(sweep_module._source_hashes, "test_sweep", "edited source")
    monkeypatch.setitem(sweep_module._source_hashes, "tests.test_sweep", "edited source")
    assert cache_key(square, one) != before


def test_cached_files_are_plain_pickles(tmp_path, log_dir):
    sweep(square, [Cell(4, str(log_dir))], backend="serial", cache_dir=tmp_path / "cache", progress=False)
    (path,) = [p for p in (tmp_path / "cache").rglob("*.pkl")]
    assert pickle.loads(path.read_bytes()) == 16


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
