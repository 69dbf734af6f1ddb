// convoy render: PointNav-v0 (envs/example/point_nav.h), the arena from above (y up): the goal
// disc, the point mass and its velocity. The env's example drawing (docs/new-env.md): draw from
// get_state(0), in the layout read_state writes, and register the Scene at the end.
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"

namespace convoy::cli {

namespace {
constexpr int kSize = 400;            // pixels, square
constexpr double kHalfSize = 1.0;     // m: PointNav::kHalfSize, the arena is [-1, 1]^2
constexpr double kMargin = 20;        // pixels around the arena
constexpr double kMassRadius = 0.04;  // m: only drawn; the env's mass is a point

// A setting as given on the command line, or its default (the env has already checked it).
double setting(const Config& config, const char* key, double def) {
  const auto it = config.values().find(key);
  return it == config.values().end() ? def : std::stod(it->second);
}

// State: [x, y, vx, vy, goal_x, goal_y] (PointNav::read_state).
void draw_point_nav(cairo_t* cr, const VecEnv& env, const Config& config) {
  const std::vector<double> s = env.get_state(0);
  const double goal_r = setting(config, "goal_radius", 0.1);
  const double scale = (kSize - 2 * kMargin) / (2 * kHalfSize);
  auto px = [&](double x) { return kSize / 2.0 + x * scale; };
  auto py = [&](double y) { return kSize / 2.0 - y * scale; };
  fill_rect(cr, 0, 0, kSize, kSize, 0.25, 0.25, 0.25);
  fill_rect(cr, px(-kHalfSize), py(kHalfSize), 2 * kHalfSize * scale, 2 * kHalfSize * scale, 0.95,
            0.95, 0.92);
  // the goal: the episode terminates once the mass is inside this disc
  cairo_set_source_rgb(cr, 0.30, 0.80, 0.30);
  cairo_arc(cr, px(s[4]), py(s[5]), goal_r * scale, 0, 2 * M_PI);
  cairo_fill(cr);
  // the mass, and its velocity as the distance it covers in a second
  cairo_set_source_rgb(cr, 0.15, 0.35, 0.85);
  cairo_arc(cr, px(s[0]), py(s[1]), kMassRadius * scale, 0, 2 * M_PI);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.90, 0.20, 0.20);
  cairo_set_line_width(cr, 2);
  cairo_move_to(cr, px(s[0]), py(s[1]));
  cairo_line_to(cr, px(s[0] + s[2]), py(s[1] + s[3]));
  cairo_stroke(cr);
}

}  // namespace

// the one line that makes `convoy render --env PointNav-v0` draw it
const SceneRegistration kPointNav("PointNav-v0", {kSize, kSize, &draw_point_nav});

}  // namespace convoy::cli
