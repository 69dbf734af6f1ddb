"""Zero-copy exchange: Convoy's DLPack export (convoy.DeviceBuffer, what CUDA envs return) and
DLPack / __cuda_array_interface__ on a GPU. The export is tested on CPU memory here: it is the
same code as on CUDA except for the device tag."""

import gc

import numpy as np
import pytest

import convoy


def _stepped(env_id="CartPole-v1", n=16):
    envs = convoy.make_vec(env_id, n, device="cpu", seed=3)
    envs.reset()
    for t in range(30):  # some episodes end, so returns and lengths are non-trivial
        envs.step(np.full(n, t % 2, dtype=np.int32))
    return envs


@pytest.mark.parametrize(
    "name,dtype,shape",
    [
        ("obs", np.float32, (16, 4)),
        ("reward", np.float32, (16,)),
        ("terminated", np.bool_, (16,)),
        ("episode_return", np.float64, (16,)),
        ("episode_length", np.int32, (16,)),
    ],
)
def test_dlpack_export_is_zero_copy_with_the_right_dtype_and_shape(name, dtype, shape):
    envs = _stepped()
    buf = envs._core.dlpack_view(name)
    assert buf.shape == shape
    assert buf.__dlpack_device__() == (1, 0)  # kDLCPU
    arr = np.from_dlpack(buf)
    assert arr.dtype == dtype and arr.shape == shape
    # the same memory the engine writes: a step changes what the consumer sees
    before = arr.copy()
    envs.step(np.ones(16, dtype=np.int32))
    if name == "obs":
        assert not np.array_equal(arr, before)
        np.testing.assert_array_equal(arr, envs._core.obs())


def test_dlpack_consumer_keeps_the_env_alive():
    envs = _stepped()
    arr = np.from_dlpack(envs._core.dlpack_view("obs"))
    expected = arr.copy()
    del envs
    gc.collect()
    np.testing.assert_array_equal(arr, expected)  # still valid memory


def test_dlpack_refusals_and_unconsumed_capsules():
    envs = _stepped()
    buf = envs._core.dlpack_view("obs")
    for _ in range(100):
        buf.__dlpack__()  # dropped without a consumer: the capsule frees its tensor
    with pytest.raises(BufferError, match="without a copy"):
        buf.__dlpack__(copy=True)
    with pytest.raises(BufferError, match="dl_device"):
        buf.__dlpack__(dl_device=(2, 0))
    with pytest.raises(BufferError, match="stream"):
        buf.__dlpack__(stream=5)
    with pytest.raises(BufferError, match="stream"):
        buf.__dlpack__(stream="5")
    buf.__dlpack__(stream=-1)  # "no synchronisation": allowed on any device
    assert not hasattr(buf, "__cuda_array_interface__")  # CPU memory has none
    with pytest.raises(ValueError, match="unknown buffer 'nope'"):
        envs._core.dlpack_view("nope")


@pytest.mark.parametrize("mode", ["same_step", "next_step"])
@pytest.mark.parametrize("copy", [False, True])
def test_terminations_and_truncations_are_bool_in_every_export(mode, copy):
    # Gymnasium's dtype. PyVecEnv::buffer picks one dtype for the CPU's numpy views, CUDA's
    # DeviceBuffers and host copies alike, so this covers what a CUDA env returns too.
    envs = convoy.make_vec("CartPole-v1", 16, device="cpu", seed=0, autoreset_mode=mode, copy=copy)
    envs.reset()
    for _ in range(20):
        _, _, term, trunc, infos = envs.step(np.ones(16, dtype=np.int64))
        assert term.dtype == np.bool_ and trunc.dtype == np.bool_
        if "_episode" in infos:
            assert infos["_episode"].dtype == np.bool_
    core = envs._core
    for flags in (core.terminated, core.truncated, core.done):
        assert flags().dtype == np.bool_
        assert flags(host=True).dtype == np.bool_
    buf = core.dlpack_view("terminated")
    assert buf.typestr == "|b1"
    assert np.from_dlpack(buf).dtype == np.bool_
    np.testing.assert_array_equal(np.from_dlpack(buf), core.terminated())
    assert core.final_outcome().dtype == np.uint8  # a code, not a flag


def _cuda_or_skip():
    if convoy.cuda_device_count() == 0:
        pytest.skip("no usable CUDA GPU")


def test_cuda_results_are_device_buffers_for_torch_and_cupy():
    _cuda_or_skip()
    envs = convoy.make_vec("CartPole-v1", 64, device="cuda", seed=0)
    obs, _ = envs.reset()
    assert isinstance(obs, convoy.DeviceBuffer)
    cai = obs.__cuda_array_interface__
    assert cai["shape"] == (64, 4) and cai["typestr"] == "<f4" and cai["version"] == 3
    host = envs._core.obs(host=True)
    torch = pytest.importorskip("torch", reason="torch is not installed")
    t = torch.from_dlpack(obs)
    assert t.is_cuda and t.data_ptr() == cai["data"][0]
    np.testing.assert_array_equal(t.cpu().numpy(), host)
    # actions from a CUDA tensor, used in place
    actions = torch.ones(64, dtype=torch.int32, device="cuda")
    obs, rew, term, trunc, _ = envs.step(actions)
    assert torch.from_dlpack(rew).sum().item() == 64
    with pytest.raises(ValueError, match="int32"):
        envs.step(torch.ones(64, dtype=torch.int64, device="cuda"))
    cupy = pytest.importorskip("cupy", reason="cupy is not installed")
    c = cupy.asarray(obs)
    assert c.data.ptr == obs.__cuda_array_interface__["data"][0]


def test_cuda_reset_and_step_return_complete_buffers_on_any_stream():
    # reset() and a plain step() (no auto-reset composition, which counts on the host) return
    # with the device synchronised: nothing pending for a consumer on another stream
    _cuda_or_skip()
    torch = pytest.importorskip("torch", reason="torch is not installed")
    n = 1 << 16
    core = convoy._core.VecEnv("Pendulum-v1", n, "cuda", {})
    side = torch.cuda.Stream()
    for k in range(3):
        core.reset(k)
        obs = core.obs()
        assert obs.__cuda_array_interface__["stream"] is None  # CAI v3: no sync needed
        with torch.cuda.stream(side):  # torch passes this stream to __dlpack__
            first = torch.from_dlpack(obs).clone()
        side.synchronize()
        np.testing.assert_array_equal(first.cpu().numpy(), core.obs(host=True))
        core.step(np.full((n, 1), 0.5, dtype=np.float32))
        with torch.cuda.stream(side):
            after = torch.from_dlpack(core.obs()).clone()
        side.synchronize()
        np.testing.assert_array_equal(after.cpu().numpy(), core.obs(host=True))
    for stream in (None, -1, 1, 2, side.cuda_stream):
        obs.__dlpack__(stream=stream)
    with pytest.raises(BufferError, match="stream=0"):
        obs.__dlpack__(stream=0)


def test_cuda_flags_are_bool_and_dlpack_actions_may_go_at_once():
    _cuda_or_skip()
    torch = pytest.importorskip("torch", reason="torch is not installed")
    n = 4096
    envs = convoy.make_vec("CartPole-v1", n, device="cuda", seed=0)
    ref = convoy.make_vec("CartPole-v1", n, device="cuda", seed=0)
    envs.reset()
    ref.reset()
    for t in range(50):
        # a temporary tensor, dropped (and its memory reused by torch) once step() returns
        _, _, term, trunc, _ = envs.step(torch.full((n,), t % 2, dtype=torch.int32, device="cuda"))
        torch.full((n,), 7, dtype=torch.int32, device="cuda")
        ref.step(np.full(n, t % 2, dtype=np.int32))
        assert term.typestr == trunc.typestr == "|b1"
        assert torch.from_dlpack(term).dtype == torch.bool
    np.testing.assert_array_equal(envs._core.obs(host=True), ref._core.obs(host=True))
