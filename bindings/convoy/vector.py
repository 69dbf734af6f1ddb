"""ConvoyVectorEnv: a gymnasium.vector.VectorEnv over Convoy's batched C++ engine."""

from __future__ import annotations

import os
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
    engine's buffers (no copy): they are valid until the next ``step`` or ``reset``. Pass
    ``copy=True`` to get arrays you own. Rewards are float32, terminations and truncations
    bool. Actions may be any integer dtype (Discrete) or float32/float64 (Box); int32 and
    float32 C-contiguous arrays are used without a copy.

    ``autoreset_mode`` follows Gymnasium 1.x exactly: ``"same_step"`` returns the next
    episode's first obs at once with ``infos["final_obs"]`` / ``infos["_final_obs"]`` (and
    ``final_info``); ``"next_step"`` (Gymnasium's default) returns the terminal obs and resets
    that env on the following ``step``, ignoring its action there. Either way
    ``infos["episode"]`` holds ``r`` (return) and ``l`` (length) of episodes that ended,
    masked by ``infos["_episode"]``.
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
        self._autoreset = np.zeros(self.num_envs, dtype=np.bool_)  # NEXT_STEP bookkeeping
        self._pending_obs: np.ndarray | None = None  # NEXT_STEP: reset obs not yet shown
        self._was_reset = False

    @property
    def device(self) -> str:
        return self._core.device

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this ConvoyVectorEnv is closed; make a new one")

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        """Reset every env. An int seed gives env i the Philox stream (seed, i); a list gives
        one seed per env; None uses the ``seed`` given to the constructor, or a random one."""
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
        self._autoreset[:] = False
        self._pending_obs = None
        self._was_reset = True
        obs = self._core.obs()
        return (obs.copy() if self._copy else obs), {}

    def step(self, actions):
        self._check_open()
        if not self._was_reset:
            raise RuntimeError("step() called before reset()")
        actions = np.asarray(actions)
        mode = self.metadata["autoreset_mode"]
        infos: dict[str, Any] = {}
        if mode == AutoresetMode.NEXT_STEP and self._autoreset.any():
            skip = self._autoreset.view(np.uint8)
            self._core.step(actions, skip)
        else:
            skip = None
            self._core.step(actions)
        obs = self._core.obs()
        rewards = self._core.reward()
        terminations = self._core.terminated().view(np.bool_)
        truncations = self._core.truncated().view(np.bool_)
        done = terminations | truncations
        if mode == AutoresetMode.NEXT_STEP:
            if done.any() or self._pending_obs is not None:
                obs = obs.copy()
                if skip is not None and self._pending_obs is not None:
                    # the envs reset this call show their fresh episode's first obs
                    obs[self._autoreset] = self._pending_obs[self._autoreset]
                self._pending_obs = None
                if done.any():
                    # the engine has already reset them; show the terminal obs now and the
                    # fresh one on the next step, as Gymnasium's NEXT_STEP does
                    self._pending_obs = obs.copy()
                    obs[done] = self._core.final_obs()[done]
            self._autoreset = done.copy()
        elif done.any():
            idx = np.flatnonzero(done)
            rows = self._core.final_obs()[idx]  # one copy; the engine's buffer is reused
            final_obs = np.full(self.num_envs, None, dtype=object)
            final_obs[idx] = np.fromiter(rows, dtype=object, count=len(idx))  # row views
            infos["final_obs"] = final_obs
            infos["_final_obs"] = done.copy()
            infos["final_info"] = {}
            infos["_final_info"] = done.copy()
        if done.any():
            infos["episode"] = {
                "r": np.where(done, self._core.final_episode_return(), 0.0),
                "l": np.where(done, self._core.final_episode_length(), 0).astype(np.int32),
                "_r": done.copy(),
                "_l": done.copy(),
            }
            infos["_episode"] = done.copy()
        if self._copy:
            obs, rewards = obs.copy(), rewards.copy()
            terminations, truncations = terminations.copy(), truncations.copy()
        return obs, rewards, terminations, truncations, infos

    def get_state(self, env: int) -> list[float]:
        """The full physical state of env ``env`` (for alignment tests and debugging)."""
        self._check_open()
        return self._core.get_state(env)

    def set_state(self, env: int, state, elapsed_steps: int = 0) -> None:
        """Put env ``env`` in ``state`` with ``elapsed_steps`` of its episode gone."""
        self._check_open()
        self._core.set_state(env, [float(s) for s in state], int(elapsed_steps))
        if self._pending_obs is not None:
            self._pending_obs[env] = self._core.obs()[env]

    def close_extras(self, **kwargs: Any) -> None:
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
