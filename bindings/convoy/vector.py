"""ConvoyVectorEnv: a gymnasium.vector.VectorEnv over Convoy's batched C++ engine."""

from __future__ import annotations

import os
import threading
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from convoy import _core

_MODES = {"same_step": AutoresetMode.SAME_STEP, "next_step": AutoresetMode.NEXT_STEP}


def _space(d: dict) -> gymnasium.Space:
    if d["kind"] == "discrete":
        return gymnasium.spaces.Discrete(d["n"])
    low = np.asarray(d["low"], dtype=np.float32).reshape(d["shape"])
    high = np.asarray(d["high"], dtype=np.float32).reshape(d["shape"])
    return gymnasium.spaces.Box(low, high, dtype=np.float32)


class ConvoyVectorEnv(VectorEnv):
    """``num_envs`` copies of one Convoy env, stepped at once by the C++ engine.

    On the CPU the arrays returned by :meth:`reset` and :meth:`step` are views of the
    engine's buffers (no copy), and so are the episode arrays and masks in ``infos``: they are
    valid until the next ``step`` or ``reset``, and stay readable after :meth:`close` (a view
    keeps its memory alive). Pass ``copy=True`` to get arrays you own. Rewards are float32,
    terminations and truncations bool (on CUDA too). Actions may be any integer dtype
    (Discrete) or float32/float64 (Box); int32 and float32 C-contiguous arrays are used without
    a copy.

    On CUDA, :meth:`reset` and :meth:`step` return once the device has finished their work, so
    the :class:`convoy.DeviceBuffer` results are complete on any stream, and CUDA tensors passed
    as actions may be freed or changed as soon as ``step`` returns.

    Threads: calls on one env take turns (its ``step`` and ``reset`` run one at a time, each
    with its own infos), while different envs step at the same time.

    ``autoreset_mode`` follows Gymnasium 1.x exactly: ``"same_step"`` returns the next
    episode's first obs at once with ``infos["final_obs"]`` / ``infos["_final_obs"]`` (and
    ``final_info``); ``"next_step"`` (Gymnasium's default) returns the terminal obs and resets
    that env on the following ``step``, ignoring its action there. Either way
    ``infos["episode"]`` holds ``r`` (return) and ``l`` (length) of episodes that ended,
    masked by ``infos["_episode"]``; envs that report how episodes end (Parking-v0,
    DiffDriveNav-v0, the driving envs) add ``infos["is_success"]`` and
    ``infos["is_collision"]`` for them.
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        device: str = "auto",
        seed: int | None = None,
        autoreset_mode: str | AutoresetMode = "same_step",
        copy: bool = False,
        **config: Any,
    ):
        if isinstance(autoreset_mode, AutoresetMode):
            mode = autoreset_mode
        elif autoreset_mode in _MODES:
            mode = _MODES[autoreset_mode]
        else:
            raise ValueError(
                f"autoreset_mode={autoreset_mode!r} is invalid; allowed: 'same_step', 'next_step'"
            )
        if mode not in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
            raise ValueError(f"autoreset_mode={mode} is not supported; allowed: SAME_STEP, NEXT_STEP")
        if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool):
            raise ValueError(f"num_envs={num_envs!r} is invalid; allowed: an integer >= 1")
        cfg = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in config.items()}
        self._core = _core.VecEnv(env_id, int(num_envs), device, cfg)
        spec = self._core.spec
        self.num_envs = int(num_envs)
        # multi-agent envs flatten their agents into the batch: row scene * k + agent
        self.agents_per_env = int(spec["agents_per_env"])
        self.single_observation_space = _space(spec["observation_space"])
        self.single_action_space = _space(spec["action_space"])
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": mode}
        self.render_mode = None
        self.closed = False
        self._copy = copy
        self._default_seed = seed
        self._discrete = spec["action_space"]["kind"] == "discrete"
        self._cuda = self._core.device.startswith("cuda")
        self._next_step = mode == AutoresetMode.NEXT_STEP
        self._has_outcome = bool(spec.get("has_outcome", False))
        self._was_reset = False
        # one step or reset at a time: the engine serialises its own calls, this keeps a step
        # and the infos read back from its buffers together
        self._lock = threading.Lock()
        # CPU without copy: step() returns the same numpy views of the engine's buffers every
        # time (the buffers never move), made once here rather than five binding calls per step
        self._views = None
        self._done = None
        self._episode = None
        if not self._cuda and not copy:
            core = self._core
            core.step_buffers(self._next_step)  # allocates the composed outputs
            self._views = (
                core.obs_out() if self._next_step else core.obs(),
                core.reward(),
                core.terminated(),
                core.truncated(),
            )
            self._done = core.done()
            self._episode = (core.step_episode_return(), core.step_episode_length())

    @property
    def device(self) -> str:
        return self._core.device

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this ConvoyVectorEnv is closed; make a new one")

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        """Reset every env. An int seed gives env i the Philox stream (seed, i); a list gives
        one seed per env; None uses the ``seed`` given to the constructor, or a random one."""
        with self._lock:
            return self._reset(seed, options)

    def _reset(self, seed, options):
        self._check_open()
        if options:
            raise ValueError(f"reset options {sorted(options)} are not supported; allowed: none")
        if seed is None:
            seed = self._default_seed
            self._default_seed = None  # later seedless resets draw fresh seeds
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little") >> 8
        if isinstance(seed, (list, tuple, np.ndarray)):
            seeds = [int(s) for s in seed]
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset got {len(seeds)} seeds; allowed: one int or {self.num_envs}")
            if any(s < 0 for s in seeds):
                raise ValueError("seeds must be non-negative")
            self._core.reset_seeds(seeds)
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
            self._core.reset(int(seed))
        else:
            raise ValueError(f"seed={seed!r} is invalid; allowed: a non-negative int, a list of them, or None")
        self._was_reset = True
        obs = self._core.obs(host=self._copy)
        return (obs.copy() if self._copy else obs), {}

    def step(self, actions):
        """Step every env. ``actions``: a numpy array (or anything ``np.asarray`` takes) of
        shape ``(num_envs,)`` for Discrete, ``(num_envs, act_dim)`` for Box; on CUDA also any
        DLPack producer on the env's GPU (torch, CuPy) of dtype int32 / float32, used without a
        copy. On the CPU the results are numpy views of the engine's buffers; on CUDA they are
        :class:`convoy.DeviceBuffer` views for ``torch.from_dlpack`` / ``cupy.asarray`` (both
        valid until the next step, as are the CPU's ``infos["episode"]`` arrays and masks;
        ``copy=True`` gives owned numpy arrays)."""
        self._lock.acquire()  # acquire/release rather than `with`: half its cost per call
        try:
            self._check_open()
            if not self._was_reset:
                raise RuntimeError("step() called before reset()")
            if not (self._cuda and hasattr(actions, "__dlpack_device__")):
                actions = np.asarray(actions)
            # the engine steps and, in one pass, composes Gymnasium's view of the step (NEXT_STEP's
            # terminal/fresh obs, done mask, ended episodes' totals): sim/autoreset.h
            ended = self._core.step_auto(actions, self._next_step)
            if self._views is not None:
                obs, rewards, terminations, truncations = self._views
                return obs, rewards, terminations, truncations, self._infos(ended)
            host = self._copy
            core = self._core
            obs = core.obs_out(host=host) if self._next_step else core.obs(host=host)
            rewards = core.reward(host=host)
            terminations = core.terminated(host=host)
            truncations = core.truncated(host=host)
            infos = self._infos(ended)
            if self._copy:
                obs, rewards = obs.copy(), rewards.copy()
                terminations, truncations = terminations.copy(), truncations.copy()
            return obs, rewards, terminations, truncations, infos
        finally:
            self._lock.release()

    def _infos(self, ended: int) -> dict[str, Any]:
        """The step's infos: empty unless an episode ended. On the CPU without ``copy`` the
        episode arrays and masks are views of the engine's buffers like the observations
        (valid until the next step; copying them every step cost about 8 us of a 4,096-env
        step's 38 us, BENCHMARKS.md); otherwise arrays owned by the caller."""
        infos: dict[str, Any] = {}
        if not ended:
            return infos
        core = self._core
        views = self._done is not None
        done = self._done if views else core.done(host=True).copy()
        if not self._next_step:
            idx = np.flatnonzero(done)
            rows = core.final_obs(host=True)[idx]  # one copy; the engine's buffer is reused
            final_obs = np.full(self.num_envs, None, dtype=object)
            final_obs[idx] = np.fromiter(rows, dtype=object, count=len(idx))  # row views
            infos["final_obs"] = final_obs
            infos["_final_obs"] = done
            infos["final_info"] = {}
            infos["_final_info"] = done
        if views:
            ret, length = self._episode
        else:
            ret = core.step_episode_return(host=True).copy()
            length = core.step_episode_length(host=True).copy()
        infos["episode"] = {"r": ret, "l": length, "_r": done, "_l": done}
        infos["_episode"] = done
        if self._has_outcome:
            # how the ended episodes ended (docs/envs.md): SB3's "is_success" convention
            outcome = core.final_outcome(host=True)
            infos["is_success"] = np.where(done, outcome == 1, False)
            infos["_is_success"] = done
            infos["is_collision"] = np.where(done, outcome == 2, False)
            infos["_is_collision"] = done
        return infos

    def get_state(self, env: int) -> list[float]:
        """The full physical state of env ``env`` (for alignment tests and debugging); of scene
        ``env`` for a multi-agent env."""
        self._check_open()
        return self._core.get_state(env)

    def set_state(self, env: int, state, elapsed_steps: int = 0) -> None:
        """Put env ``env`` in ``state`` with ``elapsed_steps`` of its episode gone."""
        self._check_open()
        self._core.set_state(env, [float(s) for s in state], int(elapsed_steps))

    def close_extras(self, **kwargs: Any) -> None:
        # after a step in flight; views already returned stay readable
        with self._lock:
            self._views = self._done = self._episode = None
            self._core.close()


def make_vec(
    env_id: str,
    num_envs: int,
    device: str = "auto",
    seed: int | None = None,
    autoreset_mode: str = "same_step",
    copy: bool = False,
    **config: Any,
) -> ConvoyVectorEnv:
    """Make ``num_envs`` copies of Convoy env ``env_id`` as a Gymnasium vector env.

    ``device`` is "cpu", "cuda", "cuda:K" or "auto"; ``config`` holds the env's settings
    (see ``convoy.list_envs()``). Unknown envs or keys and bad values raise ValueError.
    """
    return ConvoyVectorEnv(env_id, num_envs, device, seed, autoreset_mode, copy, **config)


def _vector_entry_point(num_envs: int = 1, env_id: str = "", **kwargs: Any) -> ConvoyVectorEnv:
    # gymnasium.make_vec("convoy/<id>", vectorization_mode="vector_entry_point") lands here
    return ConvoyVectorEnv(env_id, num_envs, **kwargs)
