"""HASARD scenarios as gymnasium environments on plain ViZDoom (paper §3; our code, the wheel's maps).

Observations are CHW uint8 (RGB 3 × 120 × 160 by default, or grey and downscaled for learners);
actions are the simplified space as a ``MultiDiscrete`` (option 0 of every head is a no-op); ``info``
carries ``cost``, the position ``x, y, z``, ``health`` and the scenario's episode statistics.
The window is always hidden before ``init()`` (Collateral Damage's config asks for one). The engine's
scratch files (``_vizdoom.ini``, ``_vizdoom/``) go to a temporary folder removed on ``close()``, never
to the working directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from reprobook.hasard.assets import INSTALL_HINT, config_path, wad_path
from reprobook.hasard.scenarios import SPECS, GameRewardOnly, ScenarioSpec, make_tracker, parse_env_id

__all__ = ["HasardEnv", "make", "register_environments", "SafetyGymnasiumAdapter", "VARIABLES",
           "joint_button_table", "TICS_PER_SECOND"]

VARIABLES = ("POSITION_X", "POSITION_Y", "POSITION_Z", "HEALTH", "USER1", "USER2", "USER3", "USER4", "USER5",
             "USER6")
TICS_PER_SECOND = 35  # Doom's game clock
RESOLUTIONS = {(160, 120): "RES_160X120", (320, 240): "RES_320X240", (640, 480): "RES_640X480"}


def _vizdoom():
    try:
        import vizdoom
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(f"the HASARD environments need the engine; run: {INSTALL_HINT}") from error
    return vizdoom


def joint_button_table(heads, buttons) -> np.ndarray:
    """Every joint simplified action as a row of button states, in ``buttons`` order.

    >>> joint_button_table([((), ("TURN_LEFT",), ("TURN_RIGHT",)), ((), ("ATTACK",))],
    ...                    ["TURN_LEFT", "TURN_RIGHT", "ATTACK"]).astype(int).tolist()
    [[0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 1], [0, 1, 0], [0, 1, 1]]
    """
    index = {name: position for position, name in enumerate(buttons)}
    rows = []
    for choice in np.ndindex(*[len(head) for head in heads]):
        row = np.zeros(len(buttons), dtype=bool)
        for head, option in zip(heads, choice, strict=True):
            for name in head[option]:
                row[index[name]] = True
        rows.append(row)
    return np.array(rows)


class HasardEnv(gym.Env):
    """One HASARD scenario at one level.

    Parameters: ``scenario`` (see ``SPECS``), ``level`` 1–3, ``hard`` (level 1's hard-constraint map),
    ``variant`` ("train": the maps and constants behind the published numbers; "api"), ``frame_skip``,
    ``resolution`` (160, 120) | (320, 240) | (640, 480), ``grey`` and ``downscale`` (integer factor) for
    learners, ``depth``/``labels`` to enable the extra buffers (they are added to ``info``).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": TICS_PER_SECOND}

    def __init__(self, scenario: str, level: int = 1, *, hard: bool = False, variant: str = "train",
                 frame_skip: int = 4, resolution: tuple[int, int] = (160, 120), grey: bool = False,
                 downscale: int = 1, depth: bool = False, labels: bool = False, sectors: bool = False,
                 render_mode: str | None = None):
        vizdoom_config = scenario.startswith("vizdoom:")
        if scenario not in SPECS and not vizdoom_config:
            raise ValueError(f"unknown scenario {scenario!r}; allowed: {', '.join(SPECS)} or 'vizdoom:<name>.cfg'")
        if tuple(resolution) not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {list(RESOLUTIONS)}, got {resolution!r}")
        if frame_skip < 1 or downscale < 1:
            raise ValueError("frame_skip and downscale must be positive integers")
        vzd = _vizdoom()
        self.scenario, self.level, self.hard, self.variant = scenario, level, hard, variant
        self.frame_skip, self.grey, self.downscale, self.render_mode = frame_skip, grey, downscale, render_mode
        self.metadata = {**type(self).metadata, "render_fps": TICS_PER_SECOND / frame_skip}  # one frame per step
        game = vzd.DoomGame()
        if vizdoom_config:  # one of the engine's own scenarios: every button a toggle, no cost
            game.load_config(str(Path(vzd.scenarios_path) / scenario.split(":", 1)[1]))
            names = [str(button).split(".")[-1] for button in game.get_available_buttons()]
            self.spec_ = ScenarioSpec(scenario, scenario, 0.0, tuple(((), (name,)) for name in names),
                                      (0, 0, 1, 1), 1)
            self.tracker = GameRewardOnly()
        else:
            self.spec_ = SPECS[scenario]
            self.tracker = make_tracker(scenario, hard=hard, variant=variant)
            game.load_config(str(config_path(scenario)))
            game.set_doom_scenario_path(str(wad_path(scenario, level, hard=hard, variant=variant)))
            # HASARD's timeout counts the start tics (Collateral Damage: 16 of 2,100, so 521 agent steps at
            # frame-skip 4); this engine counts its timeout after them, so take them off
            game.set_episode_timeout(game.get_episode_timeout() - game.get_episode_start_time())
        game.set_window_visible(False)
        game.set_screen_resolution(getattr(vzd.ScreenResolution, RESOLUTIONS[tuple(resolution)]))
        game.set_screen_format(vzd.ScreenFormat.CRCGCB)
        game.set_depth_buffer_enabled(depth)
        game.set_labels_buffer_enabled(labels)
        game.set_sectors_info_enabled(sectors)
        game.set_mode(vzd.Mode.PLAYER)
        self._depth, self._labels = depth, labels
        self.game = game
        self._initialised = False
        buttons = [str(button).split(".")[-1] for button in game.get_available_buttons()]
        self.buttons = buttons
        self._table = [row.tolist() for row in joint_button_table(self.spec_.heads, buttons)]
        self._variables = [getattr(vzd.GameVariable, name) for name in VARIABLES]
        width, height = resolution
        shape = (1 if grey else 3, height // downscale, width // downscale)
        self.observation_space = gym.spaces.Box(0, 255, shape=shape, dtype=np.uint8)
        self.action_space = gym.spaces.MultiDiscrete(self.spec_.nvec)
        self._last_obs = np.zeros(shape, dtype=np.uint8)
        self._steps = 0
        self._scratch: Path | None = None

    # -- gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if not self._initialised:
            self._init_engine()
        if seed is not None:  # after init(): a seed set before it does not carry to the first episode
            self.game.set_seed(int(seed) % (2 ** 31))
        self.game.new_episode()
        self._steps = 0
        variables = self._read_variables()
        self.tracker.reset(variables)
        obs = self._observe()
        return obs, self._info(variables, cost=0.0, game_reward=0.0)

    def step(self, action):
        index = int(np.ravel_multi_index(tuple(int(a) for a in np.asarray(action).ravel()), self.spec_.nvec))
        game_reward = self.game.make_action(self._table[index], self.frame_skip)
        self._steps += 1
        finished = self.game.is_episode_finished()
        variables = self._read_variables()
        reward, cost, _ = self.tracker.step(variables, game_reward)
        obs = self._observe() if not finished else self._last_obs
        truncated = bool(finished and self.game.is_episode_timeout_reached())
        terminated = bool(finished and not truncated)
        return obs, reward, terminated, truncated, self._info(variables, cost=cost, game_reward=game_reward)

    def render(self):
        return np.moveaxis(self._last_obs, 0, -1)

    def close(self):
        if self._initialised:
            self.game.close()
            self._initialised = False
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _init_engine(self) -> None:
        # the engine writes _vizdoom.ini and a _vizdoom/ folder into its working directory at init()
        self._scratch = Path(tempfile.mkdtemp(prefix="reprobook-vizdoom-"))
        self.game.set_doom_config_path(str(self._scratch / "_vizdoom.ini"))
        previous = os.getcwd()
        os.chdir(self._scratch)
        try:
            self.game.init()
        finally:
            os.chdir(previous)
        self._initialised = True

    # -- internals ---------------------------------------------------------------------------
    def _read_variables(self) -> dict[str, float]:
        read = self.game.get_game_variable
        return {name: float(read(variable)) for name, variable in zip(VARIABLES, self._variables, strict=True)}

    def _observe(self) -> np.ndarray:
        state = self.game.get_state()
        if state is None:
            return self._last_obs
        screen = state.screen_buffer
        if self.grey:
            screen = (0.299 * screen[0] + 0.587 * screen[1] + 0.114 * screen[2]).astype(np.uint8)[None]
        if self.downscale > 1:
            step = self.downscale
            screen = screen[:, ::step, ::step]
        self._last_obs = np.ascontiguousarray(screen)
        self._state = state
        return self._last_obs

    def _info(self, variables, *, cost: float, game_reward: float) -> dict[str, Any]:
        info = {"cost": float(cost), "game_reward": float(game_reward), "x": variables["POSITION_X"],
                "y": variables["POSITION_Y"], "z": variables["POSITION_Z"], "health": variables["HEALTH"],
                "env_stats": dict(self.tracker.stats), "step": self._steps}
        if (self._depth or self._labels) and self.game.get_state() is not None:
            state = self.game.get_state()
            if self._depth:
                info["depth"] = state.depth_buffer
            if self._labels:
                info["labels"] = state.labels_buffer
        return info

    def wall_segments(self) -> np.ndarray:
        """The map's wall segments ``(n, 4)`` as x1, y1, x2, y2 (needs ``sectors=True``)."""
        state = self.game.get_state()
        if state is None or state.sectors is None:
            raise RuntimeError("create the environment with sectors=True and call reset() first")
        segments = [(line.x1, line.y1, line.x2, line.y2) for sector in state.sectors for line in sector.lines
                    if line.is_blocking]
        return np.unique(np.array(segments, dtype=float).reshape(-1, 4), axis=0)


def register_environments() -> list[str]:
    """Register every scenario-level with gymnasium as ``reprobook/<HASARD id>`` (done on import).

    >>> import gymnasium
    >>> "reprobook/RemedyRushLevel1-v0" in gymnasium.registry
    True
    """
    from reprobook.hasard.scenarios import ENV_IDS

    registered = []
    for env_id, (scenario, level) in ENV_IDS.items():
        name = f"reprobook/{env_id}"
        if name not in gym.registry:
            gym.register(id=name, entry_point="reprobook.hasard.env:HasardEnv",
                         kwargs={"scenario": scenario, "level": level})
        registered.append(name)
    return registered


def make(env_id: str, **kwargs: Any) -> HasardEnv:
    """``make("RemedyRushLevel1-v0")``: HASARD's ids (``hasard.make`` is missing from the PyPI wheel)."""
    scenario, level = parse_env_id(env_id)
    return HasardEnv(scenario, level, **kwargs)


class SafetyGymnasiumAdapter(gym.Wrapper):
    """Safety-Gymnasium's 6-tuple ``step``: ``(obs, reward, cost, terminated, truncated, info)``."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, info["cost"], terminated, truncated, info


register_environments()
