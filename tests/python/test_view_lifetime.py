"""Views of the engine's buffers keep their memory alive: after close() and after the env is
gone, a view taken earlier still reads what the last step wrote. tests/python_asan.sh runs this
file under AddressSanitizer, where reading freed memory is a heap-use-after-free report.

The views are read with tobytes(): a memcpy, which ASan checks even though numpy itself is not
instrumented."""

import gc

import numpy as np
import pytest

import convoy
from convoy import _core


def _read(view) -> np.ndarray:
    # a fresh array from the view's bytes (memcpy: checked by ASan's interceptor)
    return np.frombuffer(view.tobytes(), dtype=view.dtype).reshape(view.shape)


def _assert_same(views, copies):
    assert len(views) == len(copies)
    for view, expected in zip(views, copies):
        np.testing.assert_array_equal(_read(view), expected)


@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_vector_env_views_outlive_close(mode):
    n = 64
    envs = convoy.make_vec("CartPole-v1", n, device="cpu", seed=0, autoreset_mode=mode)
    reset_obs, _ = envs.reset()
    episode = None
    for t in range(40):  # long enough for episodes to end (infos["episode"] views)
        obs, rew, term, trunc, infos = envs.step(np.full(n, t % 2, dtype=np.int32))
        if "episode" in infos:
            episode = (infos["episode"]["r"], infos["episode"]["l"], infos["_episode"])
    assert episode is not None
    views = [reset_obs, obs, rew, term, trunc, *episode]
    copies = [v.copy() for v in views]
    envs.close()
    del envs, obs, rew, term, trunc, infos
    gc.collect()
    _assert_same(views, copies)


def test_core_views_and_dlpack_consumers_outlive_close():
    n = 64
    core = _core.VecEnv("CartPole-v1", n, "cpu", {})
    core.reset(5)
    actions = np.ones(n, dtype=np.int32)
    for _ in range(30):
        core.step_auto(actions, True)
    views = [
        core.obs(),
        core.reward(),
        core.terminated(),
        core.truncated(),
        core.final_obs(),
        core.final_episode_return(),
        core.final_episode_length(),
        core.obs_out(),
        core.done(),
        core.step_episode_return(),
        core.step_episode_length(),
        np.from_dlpack(core.dlpack_view("obs")),
        np.from_dlpack(core.dlpack_view("episode_length")),
    ]
    buf = core.dlpack_view("reward")  # a DeviceBuffer nobody consumed yet
    copies = [v.copy() for v in views]
    reward = core.reward().copy()
    core.close()
    assert core.closed
    del core
    gc.collect()
    _assert_same(views, copies)
    np.testing.assert_array_equal(_read(np.from_dlpack(buf)), reward)


def test_closed_env_refuses_new_work_but_its_views_stay():
    envs = convoy.make_vec("Pendulum-v1", 8, device="cpu", seed=1)
    obs, _ = envs.reset()
    expected = obs.copy()
    envs.close()
    with pytest.raises(RuntimeError, match="closed"):
        envs.step(np.zeros((8, 1), dtype=np.float32))
    core = envs._core
    with pytest.raises(ValueError, match="closed"):
        core.obs()
    with pytest.raises(ValueError, match="closed"):
        core.reset(0)
    _assert_same([obs], [expected])
