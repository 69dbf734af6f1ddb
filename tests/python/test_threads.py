"""Python threads and one env: the engine releases the GIL while it steps, so calls on one env
from several threads must be serialised (and are: a per-env lock), while different envs still
step at the same time. With the same actions every step, any serial order of the threads' steps
ends where a single thread doing them all ends, which is what these tests compare."""

import threading

import numpy as np
import pytest

import convoy
from convoy import _core

THREADS = 8
STEPS = 60  # per thread


def _run_threads(target, count=THREADS):
    errors = []

    def guarded(k):
        try:
            target(k)
        except BaseException as e:  # noqa: BLE001 - reported below with its thread
            errors.append(f"thread {k}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n".join(errors)


def _engine_state(core):
    return [
        core.obs(host=True).copy(),
        np.from_dlpack(core.dlpack_view("episode_return")).copy(),
        np.from_dlpack(core.dlpack_view("episode_length")).copy(),
    ]


@pytest.mark.parametrize("next_step", [False, True])
def test_threads_stepping_one_core_env_match_serial_steps(next_step):
    n = 4096
    actions = np.ones(n, dtype=np.int32)  # CartPole: episodes end every ~10 steps
    shared = _core.VecEnv("CartPole-v1", n, "cpu", {})
    shared.reset(11)
    ended = [0] * THREADS

    def hammer(k):
        for _ in range(STEPS):
            ended[k] += shared.step_auto(actions, next_step)

    _run_threads(hammer)

    serial = _core.VecEnv("CartPole-v1", n, "cpu", {})
    serial.reset(11)
    serial_ended = sum(serial.step_auto(actions, next_step) for _ in range(THREADS * STEPS))
    assert sum(ended) == serial_ended > 0
    for got, want in zip(_engine_state(shared), _engine_state(serial)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_threads_stepping_one_vector_env_match_serial_steps(mode):
    n = 2048
    actions = np.zeros(n, dtype=np.int64)  # converted per call: the staging path too
    envs = convoy.make_vec("CartPole-v1", n, device="cpu", seed=2, autoreset_mode=mode)
    envs.reset()
    episodes = [0] * THREADS

    def hammer(k):
        for _ in range(STEPS):
            *_, infos = envs.step(actions)
            if "_episode" in infos:
                episodes[k] += 1

    _run_threads(hammer)

    ref = convoy.make_vec("CartPole-v1", n, device="cpu", seed=2, autoreset_mode=mode)
    ref.reset()
    ref_episodes = 0
    for _ in range(THREADS * STEPS):
        *_, infos = ref.step(actions)
        ref_episodes += "_episode" in infos
    assert sum(episodes) == ref_episodes > 0
    for got, want in zip(_engine_state(envs._core), _engine_state(ref._core)):
        np.testing.assert_array_equal(got, want)
    envs.close()
    ref.close()


def test_threads_resetting_and_stepping_one_env_leave_it_sane():
    n = 64
    envs = convoy.make_vec("Pendulum-v1", n, device="cpu", seed=0)
    envs.reset()
    limit = {s["id"]: s for s in convoy.list_envs()}["Pendulum-v1"]["max_episode_steps"]

    def hammer(k):
        rng = np.random.default_rng(k)
        for t in range(STEPS):
            if t % 7 == k % 7:
                envs.reset(seed=int(rng.integers(0, 1000)))
            else:
                envs.step(rng.uniform(-2, 2, size=(n, 1)).astype(np.float32))
            envs._core.get_state(int(rng.integers(0, n)))

    _run_threads(hammer)

    length = np.from_dlpack(envs._core.dlpack_view("episode_length"))
    assert ((length >= 0) & (length < limit)).all()
    assert np.isfinite(envs._core.obs()).all()
    # and it still steps exactly as a fresh env does
    fresh = convoy.make_vec("Pendulum-v1", n, device="cpu", seed=0)
    for e in (envs, fresh):
        e.reset(seed=9)
        for _ in range(5):
            obs, *_ = e.step(np.full((n, 1), 0.5, dtype=np.float32))
    np.testing.assert_array_equal(envs._core.obs(), fresh._core.obs())


def test_different_envs_step_at_the_same_time():
    # two envs, one thread each, both holding the engine without the GIL: both finish and
    # each matches its own serial run (no timing: this machine may have one core)
    n = 512
    actions = np.ones(n, dtype=np.int32)
    cores = [_core.VecEnv("CartPole-v1", n, "cpu", {}) for _ in range(2)]
    for k, c in enumerate(cores):
        c.reset(k)
    barrier = threading.Barrier(2)

    def run(k):
        barrier.wait()
        for _ in range(STEPS * 4):
            cores[k].step_auto(actions, False)

    _run_threads(run, count=2)
    for k, c in enumerate(cores):
        serial = _core.VecEnv("CartPole-v1", n, "cpu", {})
        serial.reset(k)
        for _ in range(STEPS * 4):
            serial.step_auto(actions, False)
        for got, want in zip(_engine_state(c), _engine_state(serial)):
            np.testing.assert_array_equal(got, want)
