#!/usr/bin/env python3
"""4,096 CartPoles stepped with random actions through Convoy's Gymnasium vector API.

Run after `pip install .`:  python3 examples/random_agent.py
"""
import time

import numpy as np

import convoy

envs = convoy.make_vec("CartPole-v1", num_envs=4096, device="auto", seed=0)
obs, infos = envs.reset()
returns = []
start = time.perf_counter()
for step in range(500):
    obs, rewards, terminations, truncations, infos = envs.step(envs.action_space.sample())
    if "episode" in infos:
        returns.extend(infos["episode"]["r"][infos["_episode"]])
elapsed = time.perf_counter() - start
print(f"{envs.num_envs * 500 / elapsed / 1e6:.1f}M env-steps/s on {envs.device}; "
      f"{len(returns)} episodes, mean random-policy return {np.mean(returns):.1f}")
