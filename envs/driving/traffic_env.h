// What the driving envs built on the traffic frame (physics/traffic_frame.h) share: their
// params (timing, observation, rewards, who drives the ego, IDM randomisation, traffic sizes),
// the config reading for them, and the per-vehicle draws at reset.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "envs/lidar_kernels.h"
#include "physics/traffic_frame.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/rng.h"

namespace convoy::envs::highway {

// the frame and its data (View, State, Range, ...) are the envs' own vocabulary
using namespace physics::traffic;

constexpr int kMaxLidarCells = 64;  // read_driving_settings' cap on lidar_cells

struct Params {
  std::int32_t max_episode_steps = 30;  // duration x policy frequency
  std::int32_t lanes = 3;
  std::int32_t vehicles = 21;  // ego + others
  std::int32_t substeps = 5;   // simulation frames per policy step
  float dt = 0.2f;             // s per frame
  std::int32_t observed = 5;   // rows in the observation
  float ego_spacing = 1.5f;
  float density = 1.0f;
  float collision_reward = -1.0f;
  float right_lane_reward = 0.1f;
  float high_speed_reward = 0.4f;
  float speed_low = 20.0f, speed_high = 30.0f;  // reward_speed_range
  bool normalize_reward = true;
  bool offroad_terminal = false;
  bool autopilot = false;  // the ego drives itself by IDM/MOBIL; actions are ignored
  float idm_delta_low = 3.5f, idm_delta_high = 4.5f;  // IDMVehicle.DELTA_RANGE
  // domain randomisation at reset: density per episode, the rest per traffic vehicle
  Range density_range = {1.0f, 1.0f};
  Range idm_time_gap = {1.5f, 1.5f};    // s, IDMVehicle.TIME_WANTED
  Range idm_distance = {10.0f, 10.0f};  // m, DISTANCE_WANTED (centre to centre)
  Range idm_acc = {3.0f, 3.0f};         // m/s^2, COMFORT_ACC_MAX
  Range length = {kLength, kLength};    // m, traffic's boxes (collisions, lidar)
  Range width = {kWidth, kWidth};       // m
  bool lidar = false;                   // observation=lidar: LidarObservation instead
  // with lidar: observed per env or per env x ray (obs_kernels; see observe_batch_enabled)
  LidarKernels obs_kernels = LidarKernels::kAuto;
  std::int32_t lidar_cells = 16;
  float lidar_range = 60.0f;         // m
  Kernels kernels = Kernels::kAuto;  // which step runs (see vehicle_kernels)
  // true when any IDM parameter varies per vehicle (frames then read them per vehicle)
  CONVOY_HD bool random_idm() const {
    return idm_time_gap.varies() || idm_distance.varies() || idm_acc.varies();
  }
};

// Reads key_low / key_high (defaults: both def) within [lo, hi], low <= high.
inline Range read_range(ConfigReader& r, const std::string& env, const std::string& key, double def,
                        double lo, double hi, const std::string& doc) {
  const double low = r.real(key + "_low", def, lo, hi, doc + ", low end (drawn at reset)");
  const double high = r.real(key + "_high", def, lo, hi, doc + ", high end");
  if (high < low) {
    throw Error(env + ": " + key + "_high=" + std::to_string(high) + " is below " + key +
                "_low=" + std::to_string(low) + "; allowed: " + key + "_low <= " + key + "_high");
  }
  return {static_cast<float>(low), static_cast<float>(high)};
}

// The driving envs' defaults where they differ (highway-env's per-env configs).
struct DrivingDefaults {
  double duration, simulation_frequency, high_speed_reward, idm_delta_low, idm_delta_high;
};

// Settings every driving env built on traffic_frame shares: timing, observation, rewards,
// who drives the ego, IDM randomisation and traffic sizes. Lanes and vehicles are the env's.
inline void read_driving_settings(ConfigReader& r, const std::string& env, const DrivingDefaults& d,
                                  Params* out) {
  Params& p = *out;
  r.choice("action_type", "discrete", {"discrete", "continuous"},
           "discrete meta-actions or continuous [acceleration, steering]");
  const double duration = r.real("duration", d.duration, 1.0, 3600.0, "episode length, s");
  const double sim_hz =
      r.real("simulation_frequency", d.simulation_frequency, 1.0, 100.0, "physics frames per s");
  const double policy_hz = r.real("policy_frequency", 1.0, 0.1, 100.0, "actions per s");
  p.observed = static_cast<std::int32_t>(
      r.integer("observed_vehicles", 5, 1, 32, "rows of the kinematics observation (ego first)"));
  p.lidar = r.choice("observation", "kinematics", {"kinematics", "lidar"},
                     "kinematics of the nearest vehicles, or LidarObservation (rays x "
                     "[distance, relative speed along the ray])") == "lidar";
  p.lidar_cells = static_cast<std::int32_t>(
      r.integer("lidar_cells", 16, 1, kMaxLidarCells, "lidar rays, evenly spaced from +x"));
  p.lidar_range =
      static_cast<float>(r.real("lidar_range", 60.0, 1.0, 500.0, "lidar maximum_range, m"));
  p.obs_kernels = read_lidar_kernels(r, "obs_kernels",
                                     " (observation=lidar only: kinematics is always per env)");
  if (p.obs_kernels == LidarKernels::kRay && !p.lidar) {
    throw Error(env +
                ": obs_kernels=ray needs observation=lidar (the kinematics observation is "
                "per env); allowed with observation=kinematics: auto, env");
  }
  p.collision_reward = static_cast<float>(r.real("collision_reward", -1.0, -100.0, 0.0, ""));
  p.right_lane_reward = static_cast<float>(r.real("right_lane_reward", 0.1, 0.0, 100.0, ""));
  p.high_speed_reward =
      static_cast<float>(r.real("high_speed_reward", d.high_speed_reward, 0.0, 100.0, ""));
  p.speed_low = static_cast<float>(r.real("reward_speed_low", 20.0, 0.0, 40.0, "m/s"));
  p.speed_high = static_cast<float>(r.real("reward_speed_high", 30.0, 0.0, 40.0, "m/s"));
  p.normalize_reward = r.boolean("normalize_reward", true, "map the reward to [0, 1]");
  // highway-env's default: off the road the reward is 0 but the episode goes on
  p.offroad_terminal = r.boolean("offroad_terminal", false, "end the episode off the road");
  p.autopilot =
      r.choice("ego_policy", "agent", {"agent", "autopilot"},
               "who drives the ego: the actions, or the scripted IDM/MOBIL baseline "
               "(the same rules as the traffic; actions are then ignored)") == "autopilot";
  const std::string kernels =
      r.choice("kernels", "auto", {"auto", "scene", "vehicle"},
               "how a step runs: scene (one call per env), vehicle (per env and per vehicle "
               "kernels, thousands of envs x tens of vehicles per launch); auto: vehicle on "
               "CUDA, scene on the CPU");
  p.kernels = kernels == "scene"     ? Kernels::kScene
              : kernels == "vehicle" ? Kernels::kVehicle
                                     : Kernels::kAuto;
  p.idm_delta_low =
      static_cast<float>(r.real("idm_delta_low", d.idm_delta_low, 1.0, 10.0, "IDM exponent, low"));
  p.idm_delta_high = static_cast<float>(
      r.real("idm_delta_high", d.idm_delta_high, 1.0, 10.0, "IDM exponent, high"));
  p.idm_time_gap = read_range(r, env, "idm_time_headway", 1.5, 0.1, 5.0, "IDM time headway, s");
  p.idm_distance =
      read_range(r, env, "idm_distance", 10.0, 2.0, 50.0, "IDM jam distance, m centre to centre");
  p.idm_acc = read_range(r, env, "idm_acc", 3.0, 0.5, 10.0, "IDM comfortable acceleration, m/s^2");
  p.length = read_range(r, env, "vehicle_length", kLength, 3.0, 8.0, "traffic's length, m");
  p.width = read_range(r, env, "vehicle_width", kWidth, 1.5, 3.0, "traffic's width, m");
  // frames per policy step, as highway-env's int(simulation_frequency // policy_frequency)
  const double ratio = std::floor(sim_hz / policy_hz + 1e-9);
  if (ratio < 1) {
    throw Error(env + ": policy_frequency=" + std::to_string(policy_hz) +
                " exceeds simulation_frequency=" + std::to_string(sim_hz) +
                "; allowed: policy_frequency <= simulation_frequency");
  }
  p.substeps = static_cast<std::int32_t>(ratio);
  p.dt = static_cast<float>(1.0 / sim_hz);
  p.max_episode_steps = static_cast<std::int32_t>(std::ceil(duration * policy_hz - 1e-9));
  if (p.speed_high <= p.speed_low) {
    throw Error(env + ": reward_speed_high=" + std::to_string(p.speed_high) +
                " must exceed reward_speed_low=" + std::to_string(p.speed_low));
  }
  if (p.idm_delta_high < p.idm_delta_low) {
    throw Error(env + ": idm_delta_high must be >= idm_delta_low");
  }
}

// A vehicle's randomised IDM parameters and size (domain randomisation; fixed values draw
// nothing). The ego keeps highway-env's size.
CONVOY_HD_INLINE void draw_vehicle_traits(const Params& p, const View& s, std::int64_t k, bool ego,
                                          PhiloxStream& rng) {
  s.idm_acc[k] = p.idm_acc.draw(rng);
  s.time_gap[k] = p.idm_time_gap.draw(rng);
  s.d0[k] = p.idm_distance.draw(rng);
  s.length[k] = ego ? kLength : p.length.draw(rng);
  s.width[k] = ego ? kWidth : p.width.draw(rng);
}

}  // namespace convoy::envs::highway
