"""Training from Python, and a Convoy-trained policy driving Gymnasium's own CartPole-v1."""

import gymnasium as gym
import numpy as np
import pytest

import convoy

# rl-zoo3's tuned CartPole settings (presets/ppo/CartPole-v1.conf)
ZOO = dict(num_envs=8, num_steps=32, num_minibatches=1, update_epochs=20, gamma=0.98,
           gae_lambda=0.8, learning_rate=1e-3, anneal_clip=True, ent_coef=0.0,
           clip_vloss=False)


def test_trained_policy_solves_gymnasiums_cartpole():
    seen = []
    policy = convoy.train("CartPole-v1", total_steps=100_000, seed=1,
                          callback=lambda m: seen.append(m), **ZOO)
    assert len(seen) == 100_000 // 256
    assert seen[-1]["global_step"] == len(seen) * 256
    assert list(seen[-1]) == [f["name"] for f in convoy.learner_metrics("ppo")]
    assert {"mean_return", "policy_loss", "approx_kl", "steps_per_second"} <= seen[-1].keys()
    env = gym.make("CartPole-v1")
    returns = []
    for episode in range(20):
        obs, _ = env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, _ = env.step(policy.act(obs))
            total += r
            done = term or trunc
        returns.append(total)
    assert np.mean(returns) >= 475, returns
    batch = policy.act(np.zeros((3, 4), dtype=np.float32))
    assert batch.shape == (3,) and batch.dtype == np.int32


def test_callback_can_stop_and_bad_settings_are_errors():
    calls = []
    convoy.train("Pendulum-v1", total_steps=4096, seed=0, num_envs=4, num_steps=64,
                 callback=lambda m: calls.append(m) or False)
    assert len(calls) == 1
    with pytest.raises(ValueError, match="learning_rat"):
        convoy.train("CartPole-v1", total_steps=256, learning_rat=1)
    with pytest.raises(ValueError, match="allowed: ppo, sac, dqn"):
        convoy.train("CartPole-v1", algo="a2c")
    with pytest.raises(ValueError, match="unknown config key 'gravity'"):
        convoy.train("CartPole-v1", total_steps=256, env_config={"gravity": 3})


@pytest.mark.parametrize("algo,env_id,steps", [("ppo", "CartPole-v1", 512), ("sac", "Pendulum-v1", 1500)])
def test_device_argument(algo, env_id, steps):
    """"auto" is cuda:0 when a GPU is usable, else the CPU (bit for bit "cpu"'s run there); a
    GPU that is not there is a ValueError naming the device; with one, a short run trains on it."""
    def run(device):
        seen = []
        convoy.train(env_id, algo, total_steps=steps, seed=3, device=device,
                     callback=lambda m: seen.append(m))
        return seen[-1]

    cpu = run("cpu")
    auto = run("auto")
    keep = [k for k in cpu if k != "steps_per_second"]
    assert keep and not np.isnan(cpu["qf1_loss" if algo == "sac" else "value_loss"])
    np.testing.assert_equal({k: auto[k] for k in keep},
                            {k: (cpu if convoy._core.cuda_device_count() == 0 else run("cuda"))[k]
                             for k in keep})
    if convoy._core.cuda_device_count() == 0:
        with pytest.raises(ValueError, match="cuda:0"):
            convoy.train(env_id, algo, total_steps=steps, seed=3, device="cuda")
        pytest.skip("no usable GPU: the CUDA training run needs one")
    gpu = run("cuda")
    assert gpu["global_step"] == cpu["global_step"]
