// convoy render: DiffDriveNav-v0, the arena from above (y up), with the lidar rays of the
// current observation.
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"
#include "physics/lidar.h"

namespace convoy::cli {

namespace {
constexpr int kWidth = 480, kHeight = 480;

double setting(const Config& config, const char* key, double def) {
  const auto it = config.values().find(key);
  return it == config.values().end() ? def : std::stod(it->second);
}

// State: [x, y, theta, v, omega, goal_x, goal_y, n_obstacles, per slot: x, y, radius].
void draw_diffdrive_nav(cairo_t* cr, const VecEnv& env, const Config& config) {
  const std::vector<double> s = env.get_state(0);
  const std::vector<float> obs = env.obs().to_host();
  const double arena = setting(config, "arena_size", 4.0);
  const double robot_r = setting(config, "robot_radius", 0.105);
  const double goal_r = setting(config, "goal_radius", 0.2);
  const physics::LidarSpec<double> lidar = {static_cast<int>(setting(config, "n_rays", 24)),
                                            setting(config, "fov", 6.283185307179586),
                                            setting(config, "max_range", 3.5)};
  const double scale = (kWidth - 40) / arena;
  auto px = [&](double x) { return kWidth / 2.0 + x * scale; };
  auto py = [&](double y) { return kHeight / 2.0 - y * scale; };
  fill_rect(cr, 0, 0, kWidth, kHeight, 0.25, 0.25, 0.25);
  fill_rect(cr, px(-arena / 2), py(arena / 2), arena * scale, arena * scale, 0.95, 0.95, 0.92);
  // obstacles
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.40);
  const int n = static_cast<int>(s[7]);
  for (int k = 0; k < n; ++k) {
    cairo_arc(cr, px(s[8 + 3 * k]), py(s[9 + 3 * k]), s[10 + 3 * k] * scale, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  // lidar rays from the observation (fractions of max_range): hits red, misses light
  cairo_set_line_width(cr, 1);
  for (int k = 0; k < lidar.n_rays && k < static_cast<int>(obs.size()); ++k) {
    const double a = s[2] + physics::lidar_ray_angle(lidar, k);
    const double d = obs[k] * lidar.max_range;
    if (obs[k] < 1.0f) {
      cairo_set_source_rgb(cr, 0.90, 0.20, 0.20);
    } else {
      cairo_set_source_rgb(cr, 0.95, 0.70, 0.70);
    }
    cairo_move_to(cr, px(s[0]), py(s[1]));
    cairo_line_to(cr, px(s[0] + d * std::cos(a)), py(s[1] + d * std::sin(a)));
    cairo_stroke(cr);
  }
  // the goal, over the rays
  cairo_set_source_rgb(cr, 0.30, 0.80, 0.30);
  cairo_arc(cr, px(s[5]), py(s[6]), goal_r * scale, 0, 2 * M_PI);
  cairo_fill(cr);
  // the robot and its heading
  cairo_set_source_rgb(cr, 0.15, 0.35, 0.85);
  cairo_arc(cr, px(s[0]), py(s[1]), std::max(robot_r * scale, 3.0), 0, 2 * M_PI);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 2);
  cairo_move_to(cr, px(s[0]), py(s[1]));
  cairo_line_to(cr, px(s[0] + robot_r * std::cos(s[2])), py(s[1] + robot_r * std::sin(s[2])));
  cairo_stroke(cr);
  // walls
  cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
  cairo_set_line_width(cr, 4);
  cairo_rectangle(cr, px(-arena / 2), py(arena / 2), arena * scale, arena * scale);
  cairo_stroke(cr);
}

}  // namespace

const SceneRegistration kDiffDriveNav("DiffDriveNav-v0", {kWidth, kHeight, &draw_diffdrive_nav});

}  // namespace convoy::cli
