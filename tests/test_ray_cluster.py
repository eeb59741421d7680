"""A real two-node Ray cluster on this machine: a chapter's sweep survives losing a worker node.

The head node (1 CPU) and a worker node (2 CPUs) are started with ``ray start`` as a user would
start them on two machines (see the README's "Running on a cluster"); the sweep connects through
``RAY_ADDRESS``. Once a cell is running on the worker node, the whole worker node is killed
(SIGKILL to its process group: raylet, object store and workers). The sweep must still return every
cell, equal to a serial run; the cells that finished are cached and a second run computes none.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from reprobook.sweep import Resources, sweep  # noqa: E402
from reprobook.wsep.experiments import ExactConfig, run_exact  # noqa: E402

RAY_CLI = Path(sys.executable).with_name("ray")
LOG_ENV = "REPROBOOK_TEST_CELL_LOG"
START_TIMEOUT = 240.0


def logged_cell(config: ExactConfig):
    """wsep's ``run_exact``, with a line per start and end (and the node it ran on) in a shared log.

    The short pause before the work keeps each cell running long enough for the kill to land inside
    one; it does not change the result.
    """
    node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"
    key = f"{config.grid}/{config.seed}"
    path = os.environ[LOG_ENV]
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps({"event": "start", "cell": key, "node": node}) + "\n")
    time.sleep(3.0)
    result = run_exact(config)
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps({"event": "end", "cell": key, "node": node}) + "\n")
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _wait(condition, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


@pytest.mark.skipif(not RAY_CLI.exists(), reason="the `ray` command is not installed (pip install 'reprobook[ray]')")
def test_a_sweep_on_a_two_node_cluster_survives_a_killed_worker(tmp_path, monkeypatch):
    configs = [ExactConfig(grid=grid, seed=seed, k_list=(2, 3), n_rewards=40, n_skill_sets=10)
               for seed in range(3) for grid in ("3-state", "2x3")]
    reference = sweep(run_exact, configs, backend="serial", cache=False, progress=False)

    log = tmp_path / "cells.jsonl"
    monkeypatch.setenv(LOG_ENV, str(log))
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a loopback test cluster; real clusters keep their tokens
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray_dir = tempfile.mkdtemp(prefix="rb-ray-")  # short: Ray's socket paths have a length limit
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--disable-usage-stats", "--object-store-memory", str(100 * 2**20)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    processes: list[subprocess.Popen] = []
    # a Ray driver can leave this process's SIGINT handling changed; later tests start subprocesses
    sigint_handler, signal_mask = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, [])
    try:
        processes.append(subprocess.Popen(
            [str(RAY_CLI), "start", "--head", "--port", str(port), "--num-cpus", "1", "--include-dashboard", "false",
             "--temp-dir", ray_dir, "--ray-client-server-port", str(_free_port()), *common],
            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def connected() -> bool:
            try:
                ray.init(address=address, log_to_driver=False)
            except ConnectionError:
                return False
            return True

        _wait(connected, "the head node")
        head_node = ray.get_runtime_context().get_node_id()
        worker = subprocess.Popen([str(RAY_CLI), "start", "--address", address, "--num-cpus", "2", *common],
                                  env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        processes.append(worker)
        _wait(lambda: sum(node["Alive"] for node in ray.nodes()) == 2, "the worker node to join")
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

        monkeypatch.setenv("RAY_ADDRESS", address)
        cache = tmp_path / "cache"
        results: list = []

        def run() -> None:
            results.extend(sweep(logged_cell, configs, cache_dir=cache, progress=False, resources=Resources(cpus=1)))

        runner = threading.Thread(target=run)
        runner.start()
        _wait(lambda: any(e["event"] == "start" and e["node"] != head_node for e in _events(log)),
              "a cell to start on the worker node")
        os.killpg(worker.pid, signal.SIGKILL)
        killed_at = len(_events(log))
        runner.join(timeout=600)
        assert not runner.is_alive(), "the sweep did not finish after the worker node was killed"

        events = _events(log)
        on_worker = [e for e in events[:killed_at] if e["node"] != head_node]
        interrupted = {e["cell"] for e in on_worker if e["event"] == "start"} - \
                      {e["cell"] for e in on_worker if e["event"] == "end"}
        assert interrupted, "the kill did not land while a cell was running on the worker node"
        restarted = {e["cell"] for e in events[killed_at:] if e["event"] == "start" and e["node"] == head_node}
        assert interrupted <= restarted, "a cell lost with the worker node was not run again on the head"
        ended = [e["cell"] for e in events if e["event"] == "end"]
        assert sorted(set(ended)) == sorted(f"{c.grid}/{c.seed}" for c in configs)   # nothing lost

        assert len(results) == len(configs)
        for got, want in zip(results, reference, strict=True):
            pd.testing.assert_frame_equal(got.summary, want.summary)
            pd.testing.assert_frame_equal(got.per_k, want.per_k)

        before = len(events)
        again = sweep(logged_cell, configs, cache_dir=cache, progress=False)
        assert len(_events(log)) == before, "a cached cell was computed again"
        assert [r.summary.equals(w.summary) for r, w in zip(again, reference, strict=True)] == [True] * len(configs)

        # a cell asking for a GPU the cluster does not have waits instead of running on a CPU node
        pending = ray.remote(lambda: 1).options(**Resources.for_device("cuda").ray_options()).remote()
        ready, _ = ray.wait([pending], timeout=2.0)
        assert ready == []
        ray.cancel(pending, force=True)
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        for process in processes:
            _stop(process)
        signal.signal(signal.SIGINT, sigint_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, signal_mask)


def test_resources_are_validated():
    assert Resources.for_device("cuda:1", cpus=4).ray_options() == {"num_cpus": 4.0, "num_gpus": 1.0}
    for bad in ({"cpus": -1}, {"gpus": float("nan")}, {"memory_gb": "8"}, {"cpus": 0, "gpus": 0}):
        with pytest.raises(ValueError):
            Resources(**bad)
    with pytest.raises(ValueError, match="not both"):
        sweep(abs, [1], backend="serial", cache=False, progress=False, resources=Resources(), gpus_per_cell=1)
    with pytest.raises(TypeError, match="Resources"):
        sweep(abs, [1], backend="serial", cache=False, progress=False, resources=lambda config: {"cpus": 1})
    assert sweep(abs, [-1, -2], backend="serial", cache=False, progress=False,
                 resources=lambda config: Resources(cpus=1 + (config < -1))) == [1, 2]
