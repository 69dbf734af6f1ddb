"""Training from Python: the same learners and presets as `convoy train`, and policies loaded
from its checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from convoy import _core


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
        """The policy in a checkpoint file (``DIR/checkpoint.ckpt`` of ``convoy train``, PPO, SAC
        or DQN). Truncated, corrupted or foreign files raise ValueError naming the problem.
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

    def save(self, path: str | os.PathLike) -> None:
        """A checkpoint of a policy made by :func:`train`, as ``convoy train`` writes it:
        :meth:`Policy.load` and ``convoy eval --checkpoint`` read it."""
        if not isinstance(self._learner, _core.Run):
            raise RuntimeError("save() needs a policy made by convoy.train")
        self._learner.save(os.fspath(path))

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


def _preset_dir() -> str:
    """The presets packaged with the module; "" (the source tree's, as `convoy train`) when
    running from a build tree."""
    here = Path(__file__).resolve().parent / "presets"
    return str(here) if here.is_dir() else ""


def train(
    env_id: str,
    algo: str = "ppo",
    total_steps: int | None = None,
    seed: int | None = None,
    callback: Callable[[dict], Any] | None = None,
    env_config: dict[str, Any] | None = None,
    preset: bool = True,
    device: str = "cpu",
    out: str | os.PathLike | None = None,
    progress: bool = False,
    **settings: Any,
) -> Policy:
    """Train ``algo`` (see :func:`learners`: "ppo", "sac" or "dqn") on ``env_id`` on ``device``
    and return the :class:`Policy`. The run is ``convoy train``'s own (the same runner, in C++).

    ``device``: "cpu" (the default), "cuda" or "cuda:K" (the envs, the replay or rollout buffer
    and the networks all live on the GPU, as ``convoy train --device cuda``), or "auto":
    cuda:0 when a GPU is usable, else the CPU (the one meaning of "auto" everywhere in Convoy);
    an unusable GPU raises ValueError saying why.

    As ``convoy train``: the checked-in preset for (algo, env) comes first (``preset=False``
    skips it), then ``settings`` (the learner's key=value settings, e.g. ``num_envs``,
    ``learning_rate``; :func:`learner_settings` lists them), ``total_steps`` and ``seed``;
    ``env_config`` holds the env's settings. ``callback(metrics)`` runs after every iteration
    (a PPO iteration, a hundredth of a SAC or DQN run) with the learner's metrics, the columns
    of ``convoy train``'s metrics.csv (:func:`learner_metrics`); returning False stops training.
    ``out``: a directory for ``convoy train``'s files (metrics.csv, TensorBoard events,
    checkpoint.ckpt); None writes nothing. ``progress`` prints the progress line.
    """
    words = [f"{k}={_text(v)}" for k, v in settings.items()]
    words += [f"env.{k}={_text(v)}" for k, v in (env_config or {}).items()]
    run = _core.Run(
        str(env_id), str(algo), words,
        int(total_steps) if total_steps is not None else 0,
        int(seed) if seed is not None else -1,
        str(device), bool(preset), _preset_dir(),
        os.fspath(out) if out is not None else "", bool(progress))
    run.train(callback)
    return Policy(run, env_id, run.algo)


def learner_settings(algo: str = "ppo") -> list[dict]:
    """The settings a learner takes (name, type, default, allowed, doc): the declarations
    ``convoy train --help`` lists."""
    return _core.learner_settings(algo)


def learner_metrics(algo: str = "ppo") -> list[dict]:
    """The metrics a learner reports each iteration (name, TensorBoard tag, doc): the keys of
    ``train``'s callback dict and the columns of metrics.csv."""
    return _core.learner_metrics(algo)


def _text(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)
