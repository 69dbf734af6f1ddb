"""Training from Python: the same learners and presets as `convoy train`, and policies loaded
from its checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from convoy import _core

_ALGOS = ("ppo", "sac")


class Policy:
    """A policy that acts greedily: ``act(obs)`` takes one observation (returning an int for
    Discrete spaces, a float32 array for Box) or a batch of shape (batch, obs_dim). Works on
    Gymnasium's own envs. Made by :func:`train`, or loaded from a checkpoint written by
    ``convoy train`` with :meth:`Policy.load`."""

    def __init__(self, learner: Any, env_id: str, algo: str = "ppo"):
        self._learner = learner
        self.env_id = env_id
        self.algo = algo

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> "Policy":
        """The policy in a checkpoint file (``DIR/checkpoint.ckpt`` of ``convoy train``, PPO or
        SAC). Truncated, corrupted or foreign files raise ValueError naming the problem.
        ``device`` ("cpu", "cuda", "cuda:K" or "auto": cuda:0 when usable, else the CPU) is
        where :meth:`evaluate` runs its envs and, for PPO, the policy's forward; an unusable
        GPU raises ValueError saying why. ``act`` takes and returns host arrays on any device."""
        core = _core.CheckpointPolicy(os.fspath(path), str(device))
        policy = cls(core, core.env_id, core.algo)
        policy.global_step = core.global_step
        policy.env_config = dict(core.env_config)
        policy.device = core.device
        return policy

    def act(self, obs) -> Any:
        return self._learner.act(np.asarray(obs, dtype=np.float32))

    def evaluate(self, episodes: int = 20, seed: int = 12345) -> dict:
        """For a loaded policy: ``convoy eval``'s comparison as a dict (mean_return,
        std_return, early_end_rate, success/collision rates where the env has outcomes,
        baseline_mean_return (None without a baseline), random_mean_return, device, ...), on
        the device the policy was loaded on."""
        if not isinstance(self._learner, _core.CheckpointPolicy):
            raise RuntimeError("evaluate() needs a policy loaded with Policy.load(path)")
        return json.loads(self._learner.evaluate(int(episodes), int(seed)))


def evaluate(
    checkpoint: str | os.PathLike, episodes: int = 20, seed: int = 12345, device: str = "cpu"
) -> dict:
    """Evaluate a checkpoint written by ``convoy train`` against the env's scripted baseline
    and a random policy: the same numbers as ``convoy eval --checkpoint FILE --json --device
    DEVICE``. ``device`` is "cpu" (the default), "cuda", "cuda:K" or "auto" (cuda:0 when
    usable, else the CPU); the result's "device" names the one used. Without a usable GPU,
    "cuda" raises ValueError with the device's message."""
    return Policy.load(checkpoint, device).evaluate(episodes, seed)


def _preset(algo: str, env_id: str) -> dict[str, str]:
    """presets/<algo>/<env>.conf as `convoy train` reads it (packaged with the module)."""
    here = Path(__file__).resolve().parent
    for root in (here / "presets", here.parent.parent / "presets"):  # installed, source tree
        path = root / algo / f"{env_id}.conf"
        if path.is_file():
            out: dict[str, str] = {}
            for line in path.read_text().splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    key, _, value = line.partition("=")
                    out[key.strip()] = value.strip()
            return out
    return {}


def train(
    env_id: str,
    algo: str = "ppo",
    total_steps: int | None = None,
    seed: int | None = None,
    callback: Callable[[dict], Any] | None = None,
    env_config: dict[str, Any] | None = None,
    preset: bool = True,
    device: str = "cpu",
    **settings: Any,
) -> Policy:
    """Train ``algo`` ("ppo" or "sac") on ``env_id`` on ``device`` and return the :class:`Policy`.

    ``device``: "cpu" (the default), "cuda" or "cuda:K" (the envs, the replay or rollout buffer
    and the networks all live on the GPU, as ``convoy train --device cuda``), or "auto", which
    trains on the CPU as ``convoy train`` does; an unusable GPU raises ValueError saying why.

    As ``convoy train``: the checked-in preset for (algo, env) comes first (``preset=False``
    skips it), then ``settings`` (the learner's key=value settings, e.g. ``num_envs``,
    ``learning_rate``), ``total_steps`` and ``seed``; ``env_config`` holds the env's settings.
    ``callback(metrics)`` runs after every PPO iteration / every hundredth of a SAC run with
    its metrics (global_step, mean_episode_return, losses, steps_per_second, ...); returning
    False stops training early.
    """
    if algo not in _ALGOS:
        raise ValueError(f"algo={algo!r} is invalid; allowed: 'ppo', 'sac'")
    learner_config = {}
    env_cfg: dict[str, str] = {}
    if preset:
        for key, value in _preset(algo, env_id).items():
            if key.startswith("env."):
                env_cfg[key[4:]] = value
            else:
                learner_config[key] = value
    learner_config.update({k: _text(v) for k, v in settings.items()})
    env_cfg.update({k: _text(v) for k, v in (env_config or {}).items()})
    if total_steps is not None:
        learner_config["total_timesteps"] = str(int(total_steps))
    if seed is not None:
        learner_config["seed"] = str(int(seed))
    if algo == "ppo":
        learner = _core.Ppo(env_id, env_cfg, learner_config, str(device))
        for _ in range(learner.num_iterations):
            metrics = learner.iterate()
            if callback is not None and callback(metrics) is False:
                break
    else:
        learner = _core.Sac(env_id, env_cfg, learner_config, str(device))
        total = learner.num_vector_steps
        chunk = max(1, total // 100)
        done = 0
        while done < total:
            n = min(chunk, total - done)
            metrics = learner.train(n)
            done += n
            if callback is not None and callback(metrics) is False:
                break
    return Policy(learner, env_id, algo)


def _text(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)
