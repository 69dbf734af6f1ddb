// CPU vs CUDA: the same seed and actions give the same trajectories, up to what the two
// devices' arithmetic allows. nvcc fuses multiply-adds that g++ rounds twice, and CUDA's
// sinf/cosf/expf differ from glibc's in the last bits, so no float computed on both devices is
// compared for equality. What is compared, and why at that tolerance:
// - discrete actions: equal (Philox's integer arithmetic; no float in the draw);
// - continuous actions, low + (high - low) u: within 1e-6 of the range (nvcc's fused
//   multiply-add rounds once where g++ rounds twice: an ulp of the range at most);
// - observations and rewards: atol 1e-4 (values of order 1, normalised for the driving envs:
//   last-bit differences, ~1e-7, have 1000x room to grow over the horizon);
// - terminated and truncated: equal, over horizons short enough that last-bit differences stay
//   small (100 steps; 20 for the chaotic Acrobot and for the driving envs).
// Discrete outcomes still flip where a value lands within an ulp of a threshold (a termination
// bound, a MOBIL gain, a crash overlap); no horizon rules that out, and then the env's episode
// goes elsewhere. So an env (a scene: all its agents' rows) whose observation, reward or episode
// end differs stops being compared and is reported, and at most kMaxDiverged of them may do so:
// a wrong kernel or a race breaks most envs, a threshold flip one now and then. Both step with the
// CPU's actions, so only physics can differ. A parameter may carry settings after the name,
// separated by spaces ("HighwayFast-v0 kernels=scene"). Skips with a reason without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "envs/registry.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

constexpr double kObsAtol = 1e-4;     // observations and rewards
constexpr double kActionRtol = 1e-6;  // continuous actions, relative to the action range
constexpr int kMaxDiverged = 3;       // envs (scenes) that may diverge (see the top of the file)

class CudaEquivalence : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaEquivalence, CpuAndCudaAgree) {
  if (!built_with_cuda()) GTEST_SKIP() << "built without CUDA";
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  const std::string param = GetParam();
  const std::size_t space = param.find(' ');
  const std::string name = param.substr(0, space);
  std::vector<std::string> settings;
  for (std::size_t at = space; at != std::string::npos;) {
    const std::size_t next = param.find(' ', at + 1);
    settings.push_back(param.substr(at + 1, next == std::string::npos ? next : next - at - 1));
    at = next;
  }
  const std::int64_t n = 256;
  const bool short_horizon = name == "Acrobot-v1" || name == "Highway-v0" ||
                             name == "HighwayFast-v0" || name == "Merge-v0" ||
                             name == "Racetrack-v0" || name == "Intersection-v0";
  const int steps = short_horizon ? 20 : 100;
  auto cpu_env = env_registry().make(name, Device::cpu(), n, Config::parse(settings));
  auto gpu_env = env_registry().make(name, gpu, n, Config::parse(settings));
  const std::int64_t na = n * cpu_env->act_dim();
  DeviceArray<std::int32_t> ci(Device::cpu(), na), gi(gpu, na);
  DeviceArray<float> cf(Device::cpu(), na), gf(gpu, na);
  const bool disc = cpu_env->discrete_actions();
  void* ca = disc ? static_cast<void*>(ci.data()) : static_cast<void*>(cf.data());
  void* ga = disc ? static_cast<void*>(gi.data()) : static_cast<void*>(gf.data());
  const Space& action_space = cpu_env->spec().action_space;
  const std::int64_t obs_dim = cpu_env->obs_dim(), rows = cpu_env->num_envs();
  const int agents = cpu_env->agents_per_env();
  std::vector<bool> diverged(static_cast<std::size_t>(cpu_env->num_scenes()), false);
  int n_diverged = 0;
  // row i's env (scene) stops being compared from step s on: what differed, reported
  const auto diverge = [&](std::int64_t i, int s, const std::string& what) {
    const std::int64_t scene = i / agents;
    if (diverged[scene]) return;
    diverged[scene] = true;
    ++n_diverged;
    std::printf("[ equivalence ] %s: env %lld diverged at step %d (row %lld: %s)\n", param.c_str(),
                static_cast<long long>(scene), s, static_cast<long long>(i), what.c_str());
  };
  cpu_env->reset(17);
  gpu_env->reset(17);
  for (int s = 0; s < steps; ++s) {
    cpu_env->sample_actions(5, s, ca);
    gpu_env->sample_actions(5, s, ga);
    if (disc) {
      ASSERT_EQ(ci.to_host(), gi.to_host()) << "actions differ at step " << s;
    } else {
      const auto want = cf.to_host(), got = gf.to_host();
      const std::size_t dim = action_space.low.size();
      for (std::size_t k = 0; k < want.size(); ++k) {
        const double range =
            static_cast<double>(action_space.high[k % dim]) - action_space.low[k % dim];
        ASSERT_NEAR(got[k], want[k], kActionRtol * range) << "action " << k << " step " << s;
      }
    }
    if (disc)
      gi.copy_from(ci);
    else
      gf.copy_from(cf);
    cpu_env->step_raw(ca);
    gpu_env->step_raw(ga);
    const auto co = cpu_env->obs().to_host(), go = gpu_env->obs().to_host();
    const auto cr = cpu_env->reward().to_host(), gr = gpu_env->reward().to_host();
    const auto cterm = cpu_env->terminated().to_host(), gterm = gpu_env->terminated().to_host();
    const auto ctrunc = cpu_env->truncated().to_host(), gtrunc = gpu_env->truncated().to_host();
    for (std::int64_t i = 0; i < rows; ++i) {  // (NaN differs from everything)
      if (cterm[i] != gterm[i] || ctrunc[i] != gtrunc[i]) diverge(i, s, "episode end");
      if (!(std::fabs(cr[i] - gr[i]) <= kObsAtol)) diverge(i, s, "reward");
      for (std::int64_t k = 0; k < obs_dim; ++k) {
        const std::size_t j = static_cast<std::size_t>(i * obs_dim + k);
        if (!(std::fabs(co[j] - go[j]) <= kObsAtol))
          diverge(i, s, "obs[" + std::to_string(k) + "]");
      }
    }
    ASSERT_LE(n_diverged, kMaxDiverged) << name << " step " << s << ": more envs diverged than "
                                        << "threshold flips explain";
  }
}

// (PointNav-v0, the example env of docs/new-env.md, runs with them: one word per new env.)
INSTANTIATE_TEST_SUITE_P(ClassicEnvs, CudaEquivalence,
                         ::testing::Values("CartPole-v1", "Pendulum-v1", "Acrobot-v1",
                                           "MountainCarContinuous-v0", "PointNav-v0"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// DiffDriveNav-v0 and Racetrack-v0 on CUDA: the per-ray observation (kernels=auto) and the
// per-env one, both against the CPU's per-env observation.
INSTANTIATE_TEST_SUITE_P(ParkingAndRobot, CudaEquivalence,
                         ::testing::Values("Parking-v0", "DiffDriveNav-v0",
                                           "DiffDriveNav-v0 kernels=env", "Racetrack-v0",
                                           "Racetrack-v0 kernels=env"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// Highway-v0, HighwayFast-v0, Merge-v0 and Intersection-v0 on CUDA: the per-vehicle kernels
// (kernels=auto) and the per-scene step, both against the CPU's per-scene step; with
// observation=lidar also the per-ray observation (obs_kernels=auto) and the per-env one, against
// the CPU's per-env observation.
INSTANTIATE_TEST_SUITE_P(
    DrivingEnvs, CudaEquivalence,
    ::testing::Values("Highway-v0", "HighwayFast-v0", "HighwayFast-v0 kernels=scene",
                      "HighwayFast-v0 action_type=continuous", "Merge-v0", "Merge-v0 kernels=scene",
                      "HighwayFast-v0 observation=lidar",
                      "HighwayFast-v0 observation=lidar obs_kernels=env",
                      "HighwayFast-v0 observation=lidar kernels=scene",
                      "HighwayFast-v0 observation=lidar action_type=continuous",
                      "Merge-v0 observation=lidar", "Intersection-v0",
                      "Intersection-v0 kernels=scene", "Intersection-v0 agents_per_env=4"),
    [](const auto& info) {
      std::string n = info.param;
      for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

}  // namespace
}  // namespace convoy
