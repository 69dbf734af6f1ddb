"""ConvoyParallelEnv: one scene of a Convoy env as a PettingZoo ``ParallelEnv``.

A multi-agent Convoy env (e.g. Intersection-v0 with ``agents_per_env=k``) flattens its agents
into the batch: rows ``scene * k + agent``. This view runs ONE scene, so its ``k`` rows are the
agents ``agent_0 .. agent_{k-1}``. Episodes end for all of a scene's agents at once (the
engine's rule), so ``agents`` empties in one step; call ``reset`` to start the next episode.
For training many scenes at once use ``convoy.make_vec`` on the flattened batch instead.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
from pettingzoo.utils.env import ParallelEnv

from convoy import _core
from convoy.vector import _space


def _config_default(spec: dict, key: str, fallback: str) -> str:
    for k in spec["config_keys"]:
        if k["name"] == key:
            return k["default"]
    return fallback


class ConvoyParallelEnv(ParallelEnv):
    """One scene of Convoy env ``env_id`` as a PettingZoo ParallelEnv.

    ``config`` holds the env's settings (``agents_per_env`` among them); ``seed`` is used by
    the first seedless ``reset``. Observations are float32 arrays you own; rewards floats;
    terminations and truncations bools; at an episode's end each agent's info holds
    ``is_success`` / ``is_collision`` where the env reports outcomes. ``render`` returns None
    (use ``convoy render``).
    """

    metadata = {"render_modes": [], "is_parallelizable": True}

    def __init__(self, env_id: str, device: str = "cpu", seed: int | None = None, **config: Any):
        cfg = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in config.items()}
        specs = {s["id"]: s for s in _core.list_envs()}
        if env_id not in specs:
            raise ValueError(f"unknown env {env_id!r}; allowed: {', '.join(sorted(specs))}")
        agents = cfg.get("agents_per_env", _config_default(specs[env_id], "agents_per_env", "1"))
        try:
            n = int(agents)
        except ValueError:
            raise ValueError(f"agents_per_env={agents!r} is invalid; allowed: an integer") from None
        if n < 1:
            raise ValueError(f"agents_per_env={n} is invalid; allowed: >= 1")
        self._core = _core.VecEnv(env_id, n, device, cfg)
        spec = self._core.spec
        self.metadata = {**ConvoyParallelEnv.metadata, "name": env_id}
        self.render_mode = None
        self.possible_agents = [f"agent_{k}" for k in range(n)]
        self.agents: list[str] = []
        self._obs_space = _space(spec["observation_space"])
        self._act_space = _space(spec["action_space"])
        self._discrete = spec["action_space"]["kind"] == "discrete"
        self._has_outcome = bool(spec.get("has_outcome", False))
        self._default_seed = seed
        self._actions = np.zeros(n, dtype=np.int32 if self._discrete else np.float32)

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str):
        self._index(agent)
        return self._obs_space

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str):
        self._index(agent)
        return self._act_space

    def _index(self, agent: str) -> int:
        try:
            return self.possible_agents.index(agent)
        except ValueError:
            raise ValueError(
                f"unknown agent {agent!r}; allowed: {', '.join(self.possible_agents)}"
            ) from None

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode of the scene: ``(observations, infos)`` keyed by agent. ``options``
        are accepted and ignored (settings are fixed at construction)."""
        if seed is None:
            seed, self._default_seed = self._default_seed, None
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little") >> 8
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed={seed!r} is invalid; allowed: a non-negative int or None")
        self._core.reset(int(seed))
        self.agents = self.possible_agents[:]
        obs = self._core.obs(host=True)  # host=True: numpy on every device
        return {a: obs[k].copy() for k, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def step(self, actions: dict):
        """Step every live agent: ``actions`` must hold one action per agent in ``agents``.
        Returns observations, rewards, terminations, truncations and infos keyed by agent; when
        the episode ends the observations are its last ones and ``agents`` becomes empty."""
        if not self.agents:
            raise RuntimeError("step() called with no live agents; call reset() first")
        missing = [a for a in self.agents if a not in actions]
        extra = [a for a in actions if a not in self.agents]
        if missing or extra:
            raise ValueError(
                f"actions must be keyed by the live agents {self.agents}; "
                f"missing {missing}, unknown {extra}"
            )
        for a in self.agents:
            self._actions[self._index(a)] = np.asarray(actions[a]).reshape(-1)[0]
        self._core.step(self._actions)
        live = self.agents
        term = self._core.terminated(host=True)
        trunc = self._core.truncated(host=True)
        done = bool(term[0] or trunc[0])  # a scene ends for all its agents at once
        obs = self._core.final_obs(host=True) if done else self._core.obs(host=True)
        rew = self._core.reward(host=True)
        idx = {a: self._index(a) for a in live}
        infos: dict[str, dict] = {a: {} for a in live}
        if done and self._has_outcome:
            # how each agent's episode ended (docs/envs.md, episode outcomes)
            outcome = self._core.final_outcome(host=True)
            for a, k in idx.items():
                infos[a] = {
                    "is_success": bool(outcome[k] == 1),
                    "is_collision": bool(outcome[k] == 2),
                }
        out = (
            {a: obs[k].copy() for a, k in idx.items()},
            {a: float(rew[k]) for a, k in idx.items()},
            {a: bool(term[k]) for a, k in idx.items()},
            {a: bool(trunc[k]) for a, k in idx.items()},
            infos,
        )
        if done:
            self.agents = []
        return out

    def render(self):
        return None

    def close(self):
        self._core.close()


def parallel_env(
    env_id: str, device: str = "cpu", seed: int | None = None, **config: Any
) -> ConvoyParallelEnv:
    """One scene of Convoy env ``env_id`` as a PettingZoo ParallelEnv, e.g.
    ``convoy.parallel_env("Intersection-v0", agents_per_env=2, seed=0)``."""
    return ConvoyParallelEnv(env_id, device, seed, **config)
