#!/usr/bin/env python3
"""Train PPO on Convoy's CartPole-v1 from Python, then let the policy drive Gymnasium's own
CartPole-v1. Run after `pip install .`:  python3 examples/train_and_drive_gymnasium.py
"""
import gymnasium as gym
import numpy as np

import convoy


recent = {"return": float("nan")}


def report(m):
    if m["episodes"] > 0:  # episodes that finished this iteration
        recent["return"] = m["mean_return"]
    if m["iteration"] % 50 == 0:
        print(f"step {m['global_step']:>7}  recent return {recent['return']:7.1f}  "
              f"{m['steps_per_second']:8.0f} steps/s")


policy = convoy.train(
    "CartPole-v1", total_steps=100_000, seed=1, callback=report,
    num_envs=8, num_steps=32, num_minibatches=1, update_epochs=20, gamma=0.98, gae_lambda=0.8,
    learning_rate=1e-3, anneal_clip=True, ent_coef=0.0, clip_vloss=False)

env = gym.make("CartPole-v1")
returns = []
for episode in range(20):
    obs, _ = env.reset(seed=episode)
    done, total = False, 0.0
    while not done:
        obs, reward, terminated, truncated, _ = env.step(policy.act(obs))
        total += reward
        done = terminated or truncated
    returns.append(total)
print(f"Gymnasium CartPole-v1 driven by the Convoy-trained policy: {np.mean(returns):.1f} "
      f"over {len(returns)} episodes")
