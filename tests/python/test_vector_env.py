"""convoy's Gymnasium vector env: spaces, equality with Gymnasium's own envs, both
auto-reset modes against Gymnasium's SyncVectorEnv, zero copy, and bad input."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import convoy

CLASSIC = ["CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"]


@pytest.mark.parametrize("env_id", CLASSIC)
def test_spaces_dtypes_and_shapes(env_id):
    envs = convoy.make_vec(env_id, 16, device="cpu", seed=3)
    ref = gym.make(env_id)
    assert envs.single_observation_space == ref.observation_space
    assert envs.single_action_space == ref.action_space
    assert envs.num_envs == 16
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, infos = envs.reset()
    assert obs.shape == (16, *ref.observation_space.shape) and obs.dtype == np.float32
    assert infos == {}
    for _ in range(50):
        obs, rew, term, trunc, infos = envs.step(envs.action_space.sample())
        assert obs in envs.observation_space
        assert rew.shape == (16,) and rew.dtype == np.float32
        assert term.dtype == np.bool_ and trunc.dtype == np.bool_
    envs.close()


def test_registered_with_gymnasium_for_every_env():
    for spec in convoy.list_envs():
        envs = gym.make_vec(
            f"convoy/{spec['id']}", num_envs=64, vectorization_mode="vector_entry_point"
        )
        assert isinstance(envs, convoy.ConvoyVectorEnv)
        assert envs.num_envs == 64
        envs.reset(seed=0)
        envs.step(envs.action_space.sample())
        envs.close()


def _sample_state(env_id, rng):
    if env_id == "CartPole-v1":
        return rng.uniform([-2.3, -2, -0.2, -2], [2.3, 2, 0.2, 2])
    if env_id == "Pendulum-v1":
        return rng.uniform([-3 * np.pi, -8], [3 * np.pi, 8])
    if env_id == "Acrobot-v1":
        return rng.uniform([np.pi - 0.6, -np.pi, -4, -9], [np.pi + 0.6, np.pi, 4, 9])
    return rng.uniform([-1.2, -0.07], [0.5, 0.07]).astype(np.float32).astype(np.float64)


def _set_reference_state(ref_env, state, env_id):
    dtype = np.float32 if env_id == "MountainCarContinuous-v0" else np.float64
    ref_env.unwrapped.state = np.array(state, dtype=dtype)
    if hasattr(ref_env.unwrapped, "steps_beyond_terminated"):
        ref_env.unwrapped.steps_beyond_terminated = None


@pytest.mark.parametrize("env_id", CLASSIC)
def test_equal_to_gymnasium_from_the_same_states(env_id):
    """Inject the same state into both, step with the same actions, compare at atol 1e-5."""
    rng = np.random.default_rng(1)
    ours = convoy.make_vec(env_id, 1, device="cpu", seed=0)
    ours.reset()
    ref = gym.make(env_id, disable_env_checker=True)
    ref.reset(seed=0)
    ref.action_space.seed(3)
    limit = ref
    while not isinstance(limit, gym.wrappers.TimeLimit):
        limit = limit.env
    steps = ends = 0
    while steps < 1000:
        state = _sample_state(env_id, rng)
        elapsed = int(rng.integers(0, limit._max_episode_steps))
        ours.set_state(0, state, elapsed)
        _set_reference_state(ref, state, env_id)
        limit._elapsed_steps = elapsed
        while True:
            a = ref.action_space.sample()
            obs, rew, term, trunc, infos = ours.step(np.array([a]))
            r_obs, r_rew, r_term, r_trunc, _ = ref.step(a)
            assert bool(term[0]) == r_term and bool(trunc[0]) == r_trunc
            got = infos["final_obs"][0] if (r_term or r_trunc) else obs[0]
            np.testing.assert_allclose(got, r_obs, atol=1e-5)
            np.testing.assert_allclose(rew[0], r_rew, atol=1e-5)
            steps += 1
            if r_term or r_trunc:
                ends += 1
                break
    assert ends > 0


@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_autoreset_modes_match_gymnasium_sync_vector_env(mode):
    """Same episode ends in Convoy and in Gymnasium's SyncVectorEnv: the same obs, rewards,
    flags and final_obs, with fresh-episode states copied from Convoy into Gymnasium."""
    n, limit = 6, 15
    ours = convoy.make_vec(
        "CartPole-v1", n, device="cpu", seed=5, autoreset_mode=mode, max_episode_steps=limit
    )
    ref = gym.vector.SyncVectorEnv(
        [lambda: gym.make("CartPole-v1", max_episode_steps=limit) for _ in range(n)],
        autoreset_mode=ours.metadata["autoreset_mode"],
    )
    ours.reset()
    ref.reset(seed=0)
    for i in range(n):
        _set_reference_state(ref.envs[i], ours.get_state(i), "CartPole-v1")
    rng = np.random.default_rng(2)
    pending = np.zeros(n, dtype=bool)  # NEXT_STEP: envs that reset on this step
    ends = 0
    for _ in range(300):
        actions = rng.integers(0, 2, size=n)
        obs, rew, term, trunc, infos = ours.step(actions.astype(np.int32))
        r_obs, r_rew, r_term, r_trunc, r_infos = ref.step(actions)
        np.testing.assert_array_equal(term, r_term)
        np.testing.assert_array_equal(trunc, r_trunc)
        np.testing.assert_allclose(rew, r_rew, atol=1e-6)
        done = term | trunc
        if mode == "same_step":
            # ended envs already show a fresh episode: compare the final obs instead
            np.testing.assert_allclose(obs[~done], r_obs[~done], atol=1e-5)
            np.testing.assert_array_equal(infos.get("_final_obs", np.zeros(n, bool)), done)
            np.testing.assert_array_equal(r_infos.get("_final_obs", np.zeros(n, bool)), done)
            for i in np.flatnonzero(done):
                np.testing.assert_allclose(
                    infos["final_obs"][i], r_infos["final_obs"][i], atol=1e-5
                )
                assert np.all(np.abs(obs[i]) <= 0.05)
                _set_reference_state(ref.envs[i], ours.get_state(i), "CartPole-v1")
        else:
            # the envs reset on this step show reward 0 and no flags in both
            assert not (term[pending] | trunc[pending]).any() and (rew[pending] == 0).all()
            np.testing.assert_allclose(obs[~pending], r_obs[~pending], atol=1e-5)
            for i in np.flatnonzero(pending):
                assert np.all(np.abs(obs[i]) <= 0.05)
                np.testing.assert_allclose(obs[i], ours.get_state(i), atol=1e-6)
                _set_reference_state(ref.envs[i], ours.get_state(i), "CartPole-v1")
            pending = done.copy()
        if done.any():
            np.testing.assert_array_equal(infos["_episode"], done)
            assert (infos["episode"]["l"][done] >= 1).all()
            assert (infos["episode"]["l"][done] <= limit).all()
        ends += int(done.sum())
    assert ends > 20


def test_episode_statistics_in_infos():
    envs = convoy.make_vec("CartPole-v1", 4, device="cpu", seed=1, max_episode_steps=10)
    envs.reset()
    seen = np.zeros(4, dtype=bool)
    for _ in range(10):
        obs, rew, term, trunc, infos = envs.step(np.ones(4, dtype=np.int32))
        done = term | trunc
        if done.any():
            # CartPole pays 1 per step: an episode's return equals its length
            np.testing.assert_array_equal(
                infos["episode"]["r"][done], infos["episode"]["l"][done]
            )
            seen |= done
    assert seen.all()  # pushing right ends every episode within the 10-step limit


def test_zero_copy_views_and_copy_option():
    envs = convoy.make_vec("CartPole-v1", 32, device="cpu", seed=0)
    a, _ = envs.reset()
    b, *_ = envs.step(np.zeros(32, dtype=np.int32))
    assert np.shares_memory(a, b)  # both are views of the engine's obs buffer
    assert not a.flags.owndata
    owned = convoy.make_vec("CartPole-v1", 32, device="cpu", seed=0, copy=True)
    c, _ = owned.reset()
    d, *_ = owned.step(np.zeros(32, dtype=np.int32))
    assert not np.shares_memory(c, d)
    np.testing.assert_array_equal(d, b)  # same seed, same numbers
    # DLPack: numpy takes the view without a copy
    assert np.shares_memory(np.from_dlpack(b), b)


def test_torch_dlpack_round_trip():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    envs = convoy.make_vec("CartPole-v1", 8, device="cpu", seed=0)
    obs, _ = envs.reset()
    t = torch.from_dlpack(obs)
    assert t.data_ptr() == obs.ctypes.data


def _snapshot(envs):
    return [envs.get_state(i) for i in range(envs.num_envs)], envs._core.obs().copy()


def test_bad_input_is_an_error_and_leaves_state_unchanged():
    envs = convoy.make_vec("CartPole-v1", 4, device="cpu", seed=0)
    with pytest.raises(RuntimeError, match="before reset"):
        envs.step(np.zeros(4, dtype=np.int32))
    envs.reset()
    envs.step(np.zeros(4, dtype=np.int32))
    before = _snapshot(envs)
    cases = [
        (np.zeros(3, dtype=np.int32), "shape"),
        (np.zeros((4, 1), dtype=np.int32), "shape"),
        (np.zeros(4, dtype=np.float32), "dtype"),
        (np.array([0, 1, 2, 0]), "action 2 for env 2"),
        (np.array([0, -1, 0, 0]), "action -1 for env 1"),
    ]
    for actions, message in cases:
        with pytest.raises(ValueError, match=message):
            envs.step(actions)
        after = _snapshot(envs)
        assert after[0] == before[0]
        np.testing.assert_array_equal(after[1], before[1])

    pend = convoy.make_vec("Pendulum-v1", 3, device="cpu", seed=0)
    pend.reset()
    state = [pend.get_state(i) for i in range(3)]
    with pytest.raises(ValueError, match=r"action\[0\] for env 1 is nan"):
        pend.step(np.array([[0.0], [np.nan], [1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="is inf"):
        pend.step(np.array([0.0, np.inf, 1.0]))
    assert [pend.get_state(i) for i in range(3)] == state

    with pytest.raises(ValueError, match="unknown env 'Nope-v0'"):
        convoy.make_vec("Nope-v0", 2)
    with pytest.raises(ValueError, match="unknown config key 'gravity'"):
        convoy.make_vec("CartPole-v1", 2, gravity=3)
    with pytest.raises(ValueError, match="max_episode_steps=0"):
        convoy.make_vec("CartPole-v1", 2, max_episode_steps=0)
    with pytest.raises(ValueError, match="num_envs 0"):
        convoy.make_vec("CartPole-v1", 0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        convoy.make_vec("CartPole-v1", 2, autoreset_mode="sometimes")
    with pytest.raises(ValueError, match="seed"):
        envs.reset(seed=-1)
    envs.close()
    with pytest.raises(RuntimeError, match="closed"):
        envs.step(np.zeros(4, dtype=np.int32))


def test_seeds_reproduce():
    a = convoy.make_vec("Acrobot-v1", 8, device="cpu")
    b = convoy.make_vec("Acrobot-v1", 8, device="cpu")
    oa, _ = a.reset(seed=11)
    ob, _ = b.reset(seed=11)
    np.testing.assert_array_equal(oa, ob)
    oc, _ = b.reset(seed=[11] * 8)
    np.testing.assert_array_equal(oa, oc)
    od, _ = b.reset(seed=12)
    assert not np.array_equal(oa, od)


def test_cuda_device_or_clear_error():
    if convoy.cuda_device_count() == 0:
        with pytest.raises(ValueError, match="not usable"):
            convoy.make_vec("CartPole-v1", 4, device="cuda")
        pytest.skip("no usable CUDA GPU: checked the error message instead")
    envs = convoy.make_vec("CartPole-v1", 4, device="cuda", seed=0)
    obs, _ = envs.reset()
    assert obs.shape == (4, 4)


def test_outcomes_in_infos_for_envs_that_report_them():
    # DiffDriveNav-v0's scripted baseline reaches its goal: the ended episodes say so
    envs = convoy.make_vec("DiffDriveNav-v0", 16, device="cpu", seed=1, ego_policy="autopilot")
    assert envs._core.spec["has_outcome"]
    envs.reset()
    successes = ended = 0
    for _ in range(600):
        _, _, term, trunc, infos = envs.step(np.zeros((16, 2), dtype=np.float32))
        if "episode" in infos:
            done = infos["_episode"]
            np.testing.assert_array_equal(infos["_is_success"], done)
            assert not (infos["is_success"] & ~done).any()
            assert not (infos["is_success"] & infos["is_collision"]).any()
            successes += int(infos["is_success"].sum())
            ended += int(done.sum())
    assert ended >= 16 and successes >= 0.8 * ended
    # CartPole reports no outcomes
    cp = convoy.make_vec("CartPole-v1", 4, device="cpu", seed=0)
    assert not cp._core.spec["has_outcome"]
    cp.reset()
    for _ in range(40):
        _, _, _, _, infos = cp.step(np.ones(4, dtype=np.int32))
        assert "is_success" not in infos


def _first_ending_infos(envs, n):
    """Step pushing right until some episode ends; that step's infos."""
    envs.reset(seed=0)
    for _ in range(200):
        *_, infos = envs.step(np.ones(n, dtype=np.int32))
        if infos:
            return infos
    raise AssertionError("no episode ended in 200 steps")


def test_episode_infos_are_views_and_copy_gives_owned_arrays():
    n = 16
    envs = convoy.make_vec("CartPole-v1", n, device="cpu", seed=0, max_episode_steps=5)
    first = _first_ending_infos(envs, n)
    r, mask = first["episode"]["r"], first["_episode"]
    assert not r.flags.owndata and not mask.flags.owndata
    assert mask.any() and (r[mask] > 0).all()
    # the same engine buffers again on the next ending step (the views are valid until then)
    *_, again = envs.step(np.ones(n, dtype=np.int32))
    while not again:
        *_, again = envs.step(np.ones(n, dtype=np.int32))
    assert np.shares_memory(again["episode"]["r"], r)
    assert np.shares_memory(again["_episode"], mask)
    owned = convoy.make_vec("CartPole-v1", n, device="cpu", seed=0, max_episode_steps=5,
                            copy=True)
    a = _first_ending_infos(owned, n)
    kept = a["episode"]["r"].copy()
    *_, b = owned.step(np.ones(n, dtype=np.int32))
    assert not np.shares_memory(a["episode"]["r"], b["episode"]["r"] if b else kept)
    np.testing.assert_array_equal(a["episode"]["r"], kept)  # untouched by the later step
