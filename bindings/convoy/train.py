"""Training from Python: the same PPO learner as `convoy train`, one iteration at a time."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from convoy import _core


class Policy:
    """A trained policy: ``act(obs)`` gives greedy actions for one observation (an int or a
    float array) or a batch (shape (batch, obs_dim)). Usable on Gymnasium's own envs."""

    def __init__(self, learner: "_core.Ppo", env_id: str):
        self._learner = learner
        self.env_id = env_id

    def act(self, obs) -> Any:
        return self._learner.act(np.asarray(obs, dtype=np.float32))


def train(
    env_id: str,
    algo: str = "ppo",
    total_steps: int | None = None,
    seed: int | None = None,
    callback: Callable[[dict], Any] | None = None,
    env_config: dict[str, Any] | None = None,
    **settings: Any,
) -> Policy:
    """Train ``algo`` on ``env_id`` on the CPU and return the trained :class:`Policy`.

    ``settings`` are the learner's key=value settings (``convoy train``'s; e.g. ``num_envs``,
    ``learning_rate``), ``env_config`` the env's. ``callback(metrics)`` runs after every
    iteration with that iteration's metrics (global_step, mean_episode_return, losses,
    approx_kl, steps_per_second, ...); returning False stops training early.
    """
    if algo != "ppo":
        raise ValueError(f"algo={algo!r} is not available yet; allowed: 'ppo'")
    learner_config = {k: _text(v) for k, v in settings.items()}
    if total_steps is not None:
        learner_config["total_timesteps"] = str(int(total_steps))
    if seed is not None:
        learner_config["seed"] = str(int(seed))
    learner = _core.Ppo(env_id, {k: _text(v) for k, v in (env_config or {}).items()},
                        learner_config)
    for _ in range(learner.num_iterations):
        metrics = learner.iterate()
        if callback is not None and callback(metrics) is False:
            break
    return Policy(learner, env_id)


def _text(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)
