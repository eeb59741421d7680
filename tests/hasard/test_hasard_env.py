"""The environments on the real engine: vizdoom's own check, checksums, determinism, shapes, sanity."""

import importlib.util

import numpy as np
import pytest

from reprobook.hasard.assets import (
    INSTALL_HINT,
    TRAIN_AB_WAD_MD5,
    WAD_FILES,
    WAD_MD5,
    md5,
    scenario_root,
    wad_path,
)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vizdoom") is None
                                or importlib.util.find_spec("hasard") is None, reason=INSTALL_HINT)


def test_vizdoom_basic_noop_episode_matches_engine_and_its_gymnasium_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the bare engine and vizdoom's own env write _vizdoom.ini into the working directory
    import gymnasium as gym
    import vizdoom
    from vizdoom import gymnasium_wrapper  # noqa: F401  (registers the Vizdoom ids)

    from reprobook.hasard.env import HasardEnv

    game = vizdoom.DoomGame()
    game.load_config(vizdoom.scenarios_path + "/basic.cfg")
    game.set_window_visible(False)
    game.init()
    game.new_episode()
    plain_steps, plain_return = 0, 0.0
    while not game.is_episode_finished():
        plain_return += game.make_action([0, 0, 0], 4)
        plain_steps += 1
    game.close()
    reference = gym.make("VizdoomBasic-v1", frame_skip=4)
    reference.reset(seed=0)
    gym_steps, gym_return, finished = 0, 0.0, False
    while not finished:
        _, reward, terminated, truncated, _ = reference.step(0)
        gym_steps, gym_return, finished = gym_steps + 1, gym_return + reward, terminated or truncated
    reference.close()
    env = HasardEnv("vizdoom:basic.cfg")
    env.reset(seed=0)
    ours_steps, ours_return, truncated = 0, 0.0, False
    while not truncated:
        _, reward, terminated, truncated, _ = env.step([0, 0, 0])
        ours_steps, ours_return = ours_steps + 1, ours_return + reward
        assert not terminated
    env.close()
    assert (plain_steps, plain_return) == (75, -300.0)
    assert (gym_steps, gym_return) == (75, -300.0)
    assert (ours_steps, ours_return) == (75, -300.0)


def test_wad_checksums():
    for scenario, sums in WAD_MD5.items():
        for name, expected in zip(WAD_FILES, sums, strict=True):
            assert md5(scenario_root(scenario) / name) == expected, (scenario, name)
    for level, expected in zip((1, 2, 3), TRAIN_AB_WAD_MD5, strict=True):
        assert md5(wad_path("armament_burden", level)) == expected


def rollout(env, actions, seed):
    env.reset(seed=seed)
    stream = []
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        stream.append((reward, info["cost"], info["x"], info["y"]))
        if terminated or truncated:
            break
    return stream


def test_same_seed_and_actions_give_the_same_streams():
    from reprobook.hasard.env import make

    env = make("CollateralDamageLevel1-v0")
    actions = np.random.default_rng(3).integers(0, env.spec_.nvec, size=(600, 2))
    first, second = rollout(env, actions, 11), rollout(env, actions, 11)
    env.close()
    assert len(first) == 521  # (2,100 − 16 start tics) / frame-skip 4, as HASARD truncates CD
    assert first == second
    assert sum(cost for _, cost, _, _ in first) > 0  # random fire harms neutrals


def test_observation_info_and_cost_shapes():
    from reprobook.hasard.env import HasardEnv, SafetyGymnasiumAdapter

    env = HasardEnv("volcanic_venture", 1)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 120, 160) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    assert {"cost", "x", "y", "z", "health", "env_stats"} <= set(info)
    adapter = SafetyGymnasiumAdapter(env)
    step = adapter.step(env.action_space.sample())
    assert len(step) == 6 and np.isfinite(step[1]) and np.isfinite(step[2])
    env.close()
    grey = HasardEnv("collateral_damage", 3, grey=True, downscale=2)
    assert grey.reset(seed=0)[0].shape == (1, 60, 80)
    grey.close()


def test_random_play_is_below_published_ppo_and_walls_exist():
    from reprobook.hasard.experiments import RandomConfig, WallsConfig, published_table, run_random, run_walls

    result = run_random(RandomConfig("precipice_plunge", 1, episodes=1))
    ppo = published_table().query("method == 'PPO' and scenario == 'precipice_plunge' and level == 1")
    assert 0 < result.episodes.reward.iloc[0] < ppo.reward.item()
    assert result.frame.shape == (120, 160, 3) and len(result.positions) == result.episodes.length.sum()
    walls = run_walls(WallsConfig("collateral_damage", 1))
    assert walls.shape[1] == 4 and len(walls) > 4


def test_an_episode_leaves_no_engine_files_in_the_working_directory(tmp_path, monkeypatch):
    from reprobook.hasard.env import HasardEnv

    monkeypatch.chdir(tmp_path)
    env = HasardEnv("remedy_rush", 1)
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample())
    scratch = env._scratch
    assert list(tmp_path.iterdir()) == []
    assert scratch is not None and scratch.exists()
    env.close()
    assert list(tmp_path.iterdir()) == [] and not scratch.exists()


def test_environments_are_registered_with_gymnasium_and_declare_their_frame_rate():
    import gymnasium

    import reprobook.hasard.env  # noqa: F401 - registers the ids

    env = gymnasium.make("reprobook/CollateralDamageLevel1-v0", frame_skip=4)
    try:
        assert env.unwrapped.scenario == "collateral_damage" and env.unwrapped.level == 1
        assert env.metadata["render_fps"] == 35 / 4
        obs, _ = env.reset(seed=0)
        assert obs.shape == env.observation_space.shape
    finally:
        env.close()
    assert len([name for name in gymnasium.registry if name.startswith("reprobook/")]) >= 18
