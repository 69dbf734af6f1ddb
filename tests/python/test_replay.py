"""convoy.PrioritizedReplay from Python: what it samples is proportional to p^alpha, its
weights follow (N P(i))^-beta over the buffer's largest, and bad input is a ValueError."""

import numpy as np
import pytest

import convoy


def filled(n=4, alpha=0.6, **kw):
    buf = convoy.PrioritizedReplay(capacity=8, obs_dim=3, act_dim=2, alpha=alpha, **kw)
    obs = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    buf.add(obs, np.zeros((n, 2), np.float32), np.arange(n, dtype=np.float32), obs + 100,
            np.array([False] * (n - 1) + [True]))
    return buf


def test_rows_come_back_as_stored():
    buf = filled()
    assert len(buf) == 4 and buf.capacity == 8
    batch = buf.sample(4)
    i = batch["indices"]
    np.testing.assert_array_equal(batch["rewards"], i.astype(np.float32))
    np.testing.assert_array_equal(batch["obs"][:, 0], 3 * i)
    np.testing.assert_array_equal(batch["next_obs"], batch["obs"] + 100)
    np.testing.assert_array_equal(batch["dones"], (i == 3).astype(np.float32))
    assert batch["weights"].shape == (4,) and np.all(batch["weights"] == 1)  # equal priorities


def test_views_are_the_copies_without_copying_and_outlive_the_next_sample():
    """sample(copy=False) gives DLPack views of the buffer's own batch: the same values as the
    copies for the same draw, alive after the buffer and unchanged by later samples."""
    a, b = filled(seed=5), filled(seed=5)
    copies = a.sample(4)
    views = b.sample(4, copy=False)
    assert isinstance(views["obs"], convoy.DeviceBuffer) and views["obs"].shape == (4, 3)
    first = {k: np.from_dlpack(v) for k, v in views.items()}
    for k in copies:
        np.testing.assert_array_equal(first[k], copies[k], err_msg=k)
    kept = {k: v.copy() for k, v in first.items()}
    b.sample(2, copy=False)  # another size while the first views live
    del b
    for k in kept:
        np.testing.assert_array_equal(np.from_dlpack(views[k]), kept[k], err_msg=k)


def test_sampling_follows_priorities_and_weights_the_formula():
    alpha, beta0 = 0.6, 0.4
    buf = filled(alpha=alpha, beta0=beta0, beta_steps=10**9, seed=3)
    td = np.array([0.5, 1.0, 2.0, 4.0], np.float32)
    buf.update_priorities(np.arange(4), td)
    p = (td.astype(np.float64) + 1e-6) ** alpha
    want = p / p.sum()
    counts = np.zeros(4)
    for _ in range(25000):  # 10^5 draws; a batch is at most what is stored
        batch = buf.sample(4)
        counts += np.bincount(batch["indices"], minlength=4)
    assert np.abs(counts / counts.sum() - want).max() < 0.01
    w = (len(buf) * want) ** -beta0
    np.testing.assert_allclose(batch["weights"], (w / w.max())[batch["indices"]], rtol=1e-4)
    assert buf.max_priority == pytest.approx(4.0)


def test_bad_input_is_refused_with_the_value():
    with pytest.raises(ValueError, match="alpha"):
        convoy.PrioritizedReplay(8, 3, 2, alpha=-1)
    with pytest.raises(ValueError, match="capacity"):
        convoy.PrioritizedReplay(0, 3, 2)
    buf = filled()
    with pytest.raises(ValueError, match="batch_size=5"):
        buf.sample(5)
    with pytest.raises(ValueError, match="obs has 2 values"):
        buf.add(np.zeros(2), np.zeros((1, 2)), np.zeros(1), np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(ValueError, match="index 9"):
        buf.update_priorities([9], [1.0])
    with pytest.raises(ValueError, match="not finite"):
        buf.update_priorities([0], [np.nan])
    assert len(buf) == 4  # nothing stored by the refused calls


def test_too_large_for_free_memory_names_both_byte_counts():
    # 2^31 slots of 2^20-float observations: ~16 PiB, more than any machine has free
    with pytest.raises(ValueError, match=r"capacity 2147483648 x obs_dim 1048576 .* needs "
                       r".* GiB \(\d+ bytes\) but only .* GiB \(\d+ bytes\) are free on cpu"):
        convoy.PrioritizedReplay(2**31, 2**20, 1, device="cpu")
