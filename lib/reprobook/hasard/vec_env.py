"""Several HASARD environments stepped together, in this process or over worker processes.

:class:`VecHasardEnv` holds ``n_envs`` copies of one scenario-level (grey, downscaled frames for a
learner), takes one joint simplified action per environment, resets finished episodes itself and
reports every finished episode's reward and cost. With ``workers > 0`` the environments are split
over that many ``spawn``-started processes, each stepping its share while the others (and the
learner, between ``step_async`` and ``step_wait``) run; every engine is a child of its worker, so
the process tree's CPU counts them. Episode ``k`` of environment ``i`` is seeded
``seed * 100_003 + i * 1_009 + k`` whatever the number of workers, so the streams do not depend on
how the environments are split. ``max_episode_steps`` truncates episodes (short episodes for a
short run); ``None`` keeps the scenario's own timeout.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Any

import numpy as np

from reprobook.hasard.scenarios import SPECS

__all__ = ["VecConfig", "VecHasardEnv", "StepResult"]


@dataclass(frozen=True)
class VecConfig:
    """What every environment of a :class:`VecHasardEnv` is."""

    scenario: str = "collateral_damage"
    level: int = 1
    n_envs: int = 8
    downscale: int = 4
    frame_skip: int = 4
    max_episode_steps: int | None = None
    seed: int = 0

    def __post_init__(self):
        if self.scenario not in SPECS:
            raise ValueError(f"scenario must be one of {list(SPECS)}, got {self.scenario!r}")
        if self.n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {self.n_envs!r}")
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be None or a positive integer, got {self.max_episode_steps!r}")


@dataclass
class StepResult:
    """One step of every environment; ``episode_reward``/``episode_cost`` are NaN where no episode ended."""

    obs: np.ndarray  # (N, C, H, W) uint8, the next episode's first frame where one ended
    reward: np.ndarray
    cost: np.ndarray
    done: np.ndarray  # terminated or truncated (by the scenario or by max_episode_steps)
    episode_reward: np.ndarray
    episode_cost: np.ndarray


class _Block:
    """The environments one process steps (a worker's share, or all of them without workers)."""

    def __init__(self, config: VecConfig, indices: list[int]):
        from reprobook.hasard.env import HasardEnv

        self.config, self.indices = config, indices
        self.envs = [HasardEnv(config.scenario, config.level, grey=True, downscale=config.downscale,
                               frame_skip=config.frame_skip) for _ in indices]
        self.nvec = SPECS[config.scenario].nvec
        size = len(indices)
        self.episodes = np.zeros(size, dtype=np.int64)
        self.length, self.total_reward, self.total_cost = np.zeros(size, dtype=np.int64), np.zeros(size), np.zeros(size)

    def _seed(self, position: int) -> int:
        return self.config.seed * 100_003 + self.indices[position] * 1_009 + int(self.episodes[position])

    def reset(self) -> np.ndarray:
        return np.stack([env.reset(seed=self._seed(position))[0] for position, env in enumerate(self.envs)])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        size = len(self.envs)
        obs = []
        reward, cost, done = np.zeros(size), np.zeros(size), np.zeros(size, dtype=bool)
        episode_reward, episode_cost = np.full(size, np.nan), np.full(size, np.nan)
        limit = self.config.max_episode_steps
        for position, env in enumerate(self.envs):
            joint = np.unravel_index(int(actions[position]), self.nvec)
            frame, reward[position], terminated, truncated, info = env.step(joint)
            cost[position] = info["cost"]
            self.length[position] += 1
            self.total_reward[position] += reward[position]
            self.total_cost[position] += cost[position]
            if terminated or truncated or (limit is not None and self.length[position] >= limit):
                done[position] = True
                episode_reward[position], episode_cost[position] = self.total_reward[position], self.total_cost[position]
                self.length[position] = 0
                self.total_reward[position] = self.total_cost[position] = 0.0
                self.episodes[position] += 1
                frame, _ = env.reset(seed=self._seed(position))
            obs.append(frame)
        return np.stack(obs), reward, cost, done, episode_reward, episode_cost

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _worker(connection, config: VecConfig, indices: list[int]) -> None:  # pragma: no cover - runs in a child
    from reprobook.benchmark import tree_cpu_seconds

    block = _Block(config, indices)
    try:
        while True:
            command, payload = connection.recv()
            if command == "reset":
                connection.send(block.reset())
            elif command == "step":
                connection.send(block.step(payload))
            else:
                break
    finally:
        block.close()
        try:  # the worker's own CPU and its engines' (closed and waited for, so counted): the parent's
            # process-tree sample loses engines that exit unwaited, so each worker reports itself
            connection.send(("cpu", tree_cpu_seconds()))
        except (BrokenPipeError, OSError):
            pass
        connection.close()


class VecHasardEnv:
    """``n_envs`` environments of one scenario-level, stepped in this process (``workers=0``) or over workers."""

    def __init__(self, config: VecConfig, workers: int = 0):
        if not 0 <= workers <= config.n_envs:
            raise ValueError(f"workers must be an integer in [0, n_envs={config.n_envs}], got {workers!r}")
        self.config, self.workers = config, workers
        self.n_envs = config.n_envs
        self.n_actions = SPECS[config.scenario].n_joint_actions
        self._block: _Block | None = None
        #: CPU seconds each worker reported when it closed (its engines included); empty before close
        self.worker_cpu_seconds: list[float] = []
        self._pipes: list[Any] = []
        self._processes: list[Any] = []
        self._splits = np.array_split(np.arange(config.n_envs), max(workers, 1))
        if workers == 0:
            self._block = _Block(config, list(range(config.n_envs)))
        else:
            context = multiprocessing.get_context("spawn")
            for indices in self._splits:
                parent, child = context.Pipe()
                process = context.Process(target=_worker, args=(child, config, indices.tolist()), daemon=True)
                process.start()
                child.close()
                self._pipes.append(parent)
                self._processes.append(process)

    def reset(self) -> np.ndarray:
        """Start every environment's first episode; the (N, C, H, W) frames."""
        if self._block is not None:
            return self._block.reset()
        for pipe in self._pipes:
            pipe.send(("reset", None))
        return np.concatenate([pipe.recv() for pipe in self._pipes])

    def step_async(self, actions: np.ndarray) -> None:
        """Send one joint action index per environment; the workers step while the caller goes on."""
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        if len(actions) != self.n_envs or actions.min() < 0 or actions.max() >= self.n_actions:
            raise ValueError(f"actions must be {self.n_envs} joint action indices in [0, {self.n_actions})")
        self._pending = actions
        if self._block is None:
            for pipe, indices in zip(self._pipes, self._splits, strict=True):
                pipe.send(("step", actions[indices]))

    def step_wait(self) -> StepResult:
        """The step sent by :meth:`step_async`."""
        if self._block is not None:
            parts = [self._block.step(self._pending)]
        else:
            parts = [pipe.recv() for pipe in self._pipes]
        return StepResult(*(np.concatenate([part[field] for part in parts]) for field in range(6)))

    def step(self, actions: np.ndarray) -> StepResult:
        self.step_async(actions)
        return self.step_wait()

    def close(self) -> None:
        if self._block is not None:
            self._block.close()
            self._block = None
        for pipe in self._pipes:
            try:
                pipe.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for pipe in self._pipes:
            try:
                if pipe.poll(10):
                    kind, seconds = pipe.recv()
                    if kind == "cpu":
                        self.worker_cpu_seconds.append(float(seconds))
            except (EOFError, OSError, ValueError, TypeError):
                pass
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        self._pipes, self._processes = [], []

    def __enter__(self) -> VecHasardEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
