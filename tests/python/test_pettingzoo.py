"""convoy.parallel_env: one scene of a multi-agent env as a PettingZoo ParallelEnv, checked
by PettingZoo's own parallel_api_test, and the flattened row layout seen from Python."""

import warnings

import numpy as np
import pytest

import convoy

pettingzoo_test = pytest.importorskip("pettingzoo.test")


@pytest.mark.parametrize("agents", [1, 2, 4])
def test_parallel_api_test_passes(agents):
    env = convoy.parallel_env("Intersection-v0", agents_per_env=agents, seed=0)
    assert env.possible_agents == [f"agent_{k}" for k in range(agents)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pettingzoo_test.parallel_api_test(env, num_cycles=100)
    # the test only warns about dict keys that disagree with the live agents
    assert [str(w.message) for w in caught if "pettingzoo" in w.filename] == []
    env.close()


def test_episode_ends_for_all_agents_and_obs_are_in_space():
    env = convoy.parallel_env("Intersection-v0", agents_per_env=4, seed=5)
    obs, infos = env.reset(seed=5)
    assert set(obs) == set(env.possible_agents) == set(infos)
    space = env.observation_space("agent_0")
    assert space is env.observation_space("agent_0")
    assert space.shape == (105,)
    steps = 0
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rew, term, trunc, infos = env.step(actions)
        steps += 1
        for a in obs:
            assert obs[a] in space
            assert isinstance(rew[a], float)
        # a scene ends for all its agents in the same step
        assert len(set(term.values())) == 1 and len(set(trunc.values())) == 1
        if any(term.values()) or any(trunc.values()):
            assert env.agents == []
            assert all(set(i) == {"is_success", "is_collision"} for i in infos.values())
            if any(term.values()):  # a crash or all arrived
                assert any(i["is_collision"] for i in infos.values()) or all(
                    i["is_success"] for i in infos.values()
                )
    assert 1 <= steps <= 13
    with pytest.raises(RuntimeError):
        env.step({})


def test_same_seed_same_episode_and_the_rows_of_make_vec():
    def rollout(seed):
        env = convoy.parallel_env("Intersection-v0", agents_per_env=2)
        obs, _ = env.reset(seed=seed)
        trace = [np.concatenate([obs[a] for a in env.possible_agents])]
        while env.agents:
            obs, rew, *_ = env.step({a: 2 for a in env.agents})
            trace.append(np.concatenate([obs[a] for a in obs] + [np.array(list(rew.values()))]))
        return trace

    a, b, c = rollout(3), rollout(3), rollout(4)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    # the ParallelEnv is scene 0 of the flattened vector env: rows agent-major within a scene
    vec = convoy.make_vec("Intersection-v0", 6, device="cpu", seed=3, agents_per_env=2)
    assert vec.agents_per_env == 2
    obs, _ = vec.reset()
    assert obs.shape == (6, 105)
    np.testing.assert_array_equal(obs[0:2].reshape(-1), a[0])


def test_bad_settings_are_value_errors():
    with pytest.raises(ValueError, match="agents_per_env"):
        convoy.parallel_env("Intersection-v0", agents_per_env=5)
    with pytest.raises(ValueError, match="agents_per_env"):
        convoy.make_vec("Intersection-v0", 3, agents_per_env=2)
    env = convoy.parallel_env("Intersection-v0", agents_per_env=2, seed=0)
    env.reset()
    with pytest.raises(ValueError, match="missing"):
        env.step({"agent_0": 1})
    with pytest.raises(ValueError):
        env.observation_space("agent_9")


@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_flattened_rows_end_per_scene_in_both_autoreset_modes(mode):
    envs = convoy.make_vec(
        "Intersection-v0", 8, device="cpu", seed=1, autoreset_mode=mode, agents_per_env=4
    )
    assert envs.agents_per_env == 4 and envs.observation_space.shape == (8, 105)
    envs.reset()
    ended = 0
    for t in range(30):
        obs, rew, term, trunc, infos = envs.step(envs.action_space.sample())
        done = (term | trunc).reshape(2, 4)
        # every row of a scene ends in the same step
        assert (done.all(axis=1) | ~done.any(axis=1)).all()
        ended += int(done.all(axis=1).sum())
        assert obs in envs.observation_space
    assert ended >= 4  # 30 steps of 13-step episodes, 2 scenes
