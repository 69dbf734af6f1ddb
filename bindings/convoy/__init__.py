"""Convoy: massively parallel RL environments in C++/CUDA behind Gymnasium's vector API.

>>> import convoy
>>> envs = convoy.make_vec("CartPole-v1", num_envs=4096, seed=0)
>>> obs, infos = envs.reset()
>>> obs, rewards, terminations, truncations, infos = envs.step(envs.action_space.sample())

Importing this package registers every env with Gymnasium as ``convoy/<id>``, so
``gymnasium.make_vec("convoy/CartPole-v1", num_envs=64, vectorization_mode="vector_entry_point")``
works too.

Multi-agent envs (Intersection-v0 with ``agents_per_env=k``) flatten their agents into the batch
(``num_envs`` = scenes x k rows); ``convoy.parallel_env(env_id, **config)`` offers one scene as a
PettingZoo ``ParallelEnv`` (needs the ``pettingzoo`` package).
"""

from convoy import _core
from convoy._core import DeviceBuffer, PrioritizedReplay
from convoy.train import Policy, evaluate, learner_metrics, learner_settings, train
from convoy.vector import ConvoyVectorEnv, make_vec

__all__ = [
    "ConvoyVectorEnv",
    "DeviceBuffer",
    "Policy",
    "PrioritizedReplay",
    "built_with_cuda",
    "cuda_device_count",
    "env_defaults",
    "evaluate",
    "list_envs",
    "make_vec",
    "parallel_env",
    "learner_metrics",
    "learner_settings",
    "train",
]
__version__ = "0.1.0"


def list_envs() -> list[dict]:
    """Every env Convoy ships: id, description, spaces, max_episode_steps and config keys."""
    return _core.list_envs()


def env_defaults(env_id: str) -> dict:
    """``env_id``'s settings with their default values, typed (int, float, bool or str):
    ``convoy.env_defaults("Highway-v0")["lanes"] == 4``."""
    specs = {spec["id"]: spec for spec in _core.list_envs()}
    if env_id not in specs:
        raise ValueError(f"unknown env {env_id!r}; allowed: {', '.join(sorted(specs))}")
    parse = {"int": int, "float": float, "bool": lambda text: text == "true", "choice": str}
    return {k["name"]: parse[k["type"]](k["default"]) for k in specs[env_id]["config_keys"]}


def parallel_env(env_id: str, device: str = "cpu", seed: int | None = None, **config):
    """One scene of ``env_id`` as a PettingZoo ParallelEnv (agents ``agent_0`` ..); see
    ``convoy.parallel.ConvoyParallelEnv``. Imports pettingzoo only when called."""
    from convoy.parallel import parallel_env as _parallel_env

    return _parallel_env(env_id, device, seed, **config)


def cuda_device_count() -> int:
    """Usable CUDA GPUs (0 without a driver, a GPU, or a CUDA build)."""
    return _core.cuda_device_count()


def built_with_cuda() -> bool:
    """Whether this build of Convoy has the CUDA backend."""
    return _core.built_with_cuda()


def _register_with_gymnasium() -> None:
    import gymnasium

    for spec in _core.list_envs():
        env_id = f"convoy/{spec['id']}"
        if env_id in gymnasium.registry:
            continue
        # gymnasium.make_vec passes max_episode_steps back as a setting: only for envs that
        # take it (Highway-v0's limit follows from duration x policy_frequency instead)
        keys = {k["name"] for k in spec["config_keys"]}
        gymnasium.register(
            id=env_id,
            vector_entry_point="convoy.vector:_vector_entry_point",
            max_episode_steps=spec["max_episode_steps"] if "max_episode_steps" in keys else None,
            reward_threshold=spec["reward_threshold"],
            kwargs={"env_id": spec["id"]},
        )


_register_with_gymnasium()
