// CPU vs CUDA: the same seed and actions give the same trajectories. Random draws (resets,
// actions) must be bit-identical; physics may differ by the last bits of sin/cos/FMA, so
// observations and rewards are compared at atol 1e-4 over a horizon where that cannot
// grow (100 steps; 20 for the chaotic Acrobot and for the driving envs, whose MOBIL and
// crash thresholds can turn a last-bit difference into another decision). A parameter may
// carry settings after the name, separated by spaces ("Highway-v0 kernels=scene"). Skips with a
// reason without a GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "envs/registry.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

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
  const bool short_horizon = name == "Acrobot-v1" || name == "Highway-v0" || name == "Merge-v0" ||
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
  cpu_env->reset(17);
  gpu_env->reset(17);
  for (int s = 0; s < steps; ++s) {
    cpu_env->sample_actions(5, s, ca);
    gpu_env->sample_actions(5, s, ga);
    if (disc) {
      ASSERT_EQ(ci.to_host(), gi.to_host()) << "actions differ at step " << s;
    } else {
      ASSERT_EQ(cf.to_host(), gf.to_host()) << "actions differ at step " << s;
    }
    // both step with the CPU's actions so only physics can differ
    if (disc)
      gi.copy_from(ci);
    else
      gf.copy_from(cf);
    cpu_env->step_raw(ca);
    gpu_env->step_raw(ga);
    const auto co = cpu_env->obs().to_host(), go = gpu_env->obs().to_host();
    for (std::size_t k = 0; k < co.size(); ++k)
      ASSERT_NEAR(co[k], go[k], 1e-4) << name << " step " << s;
    const auto cr = cpu_env->reward().to_host(), gr = gpu_env->reward().to_host();
    for (std::size_t k = 0; k < cr.size(); ++k)
      ASSERT_NEAR(cr[k], gr[k], 1e-4) << name << " step " << s;
    EXPECT_EQ(cpu_env->terminated().to_host(), gpu_env->terminated().to_host()) << name << " " << s;
    EXPECT_EQ(cpu_env->truncated().to_host(), gpu_env->truncated().to_host()) << name << " " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(ClassicEnvs, CudaEquivalence,
                         ::testing::Values("CartPole-v1", "Pendulum-v1", "Acrobot-v1",
                                           "MountainCarContinuous-v0"),
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

// Highway-v0, Merge-v0 and Intersection-v0 on CUDA: the per-vehicle kernels (kernels=auto)
// and the per-scene step, both against the CPU's per-scene step; with observation=lidar also
// the per-ray observation (obs_kernels=auto) and the per-env one, against the CPU's per-env
// observation.
INSTANTIATE_TEST_SUITE_P(DrivingEnvs, CudaEquivalence,
                         ::testing::Values("Highway-v0", "Highway-v0 kernels=scene",
                                           "Highway-v0 action_type=continuous", "Merge-v0",
                                           "Merge-v0 kernels=scene", "Highway-v0 observation=lidar",
                                           "Highway-v0 observation=lidar obs_kernels=env",
                                           "Highway-v0 observation=lidar kernels=scene",
                                           "Highway-v0 observation=lidar action_type=continuous",
                                           "Merge-v0 observation=lidar", "Intersection-v0",
                                           "Intersection-v0 kernels=scene",
                                           "Intersection-v0 agents_per_env=4"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace convoy
