// convoy render: Parking-v0, the whole lot from above (highway-env's frame: y down).
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"
#include "envs/driving/parking.h"

namespace convoy::cli {

namespace {
constexpr int kWidth = 760, kHeight = 480;
constexpr double kScale = 10.0;  // px per metre

double setting(const Config& config, const char* key, double def) {
  const auto it = config.values().find(key);
  return it == config.values().end() ? def : std::stod(it->second);
}

// A car as a filled box with a darker stripe across its front.
void draw_car(cairo_t* cr, double x, double y, double h, double len, double wid, double r, double g,
              double b) {
  cairo_save(cr);
  cairo_translate(cr, kWidth / 2.0 + x * kScale, kHeight / 2.0 + y * kScale);
  cairo_rotate(cr, h);
  cairo_set_source_rgb(cr, r, g, b);
  cairo_rectangle(cr, -len / 2 * kScale, -wid / 2 * kScale, len * kScale, wid * kScale);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, r * 0.4, g * 0.4, b * 0.4);
  cairo_rectangle(cr, (len / 2 - 0.8) * kScale, -wid / 2 * kScale, 0.5 * kScale, wid * kScale);
  cairo_fill(cr);
  cairo_restore(cr);
}

// State: [x, y, heading, speed, length, width, goal spot, per parked car: spot, length, width].
void draw_parking(cairo_t* cr, const VecEnv& env, const Config& config) {
  using namespace envs::parking;
  const std::vector<double> s = env.get_state(0);
  const int spots = static_cast<int>(setting(config, "spots", 14));
  auto px = [](double x) { return kWidth / 2.0 + x * kScale; };
  auto py = [](double y) { return kHeight / 2.0 + y * kScale; };
  fill_rect(cr, 0, 0, kWidth, kHeight, 0.15, 0.15, 0.15);  // outside the walls
  fill_rect(cr, px(-kWallHalfX), py(-kWallHalfY), 2 * kWallHalfX * kScale, 2 * kWallHalfY * kScale,
            0.40, 0.40, 0.40);  // asphalt
  // the goal spot, highlighted
  float gx, gy, gh;
  using L = envs::parking::StateLayout;
  spot_pose(spots, static_cast<std::int32_t>(s[L::kGoal]), &gx, &gy, &gh);
  fill_rect(cr, px(gx - kSpotWidth / 2), py(gy - kSpotLength / 2), kSpotWidth * kScale,
            kSpotLength * kScale, 0.85, 0.75, 0.20);
  // spot lines (both sides of every spot)
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 2);
  for (int k = 0; k < 2 * spots; ++k) {
    float x, y, h;
    spot_pose(spots, k, &x, &y, &h);
    for (double side : {-1.0, 1.0}) {
      cairo_move_to(cr, px(x + side * kSpotWidth / 2), py(y - kSpotLength / 2));
      cairo_line_to(cr, px(x + side * kSpotWidth / 2), py(y + kSpotLength / 2));
    }
  }
  cairo_stroke(cr);
  // walls
  cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
  cairo_set_line_width(cr, kWallThick * kScale);
  cairo_rectangle(cr, px(-kWallHalfX), py(-kWallHalfY), 2 * kWallHalfX * kScale,
                  2 * kWallHalfY * kScale);
  cairo_stroke(cr);
  // parked cars, then the ego
  const int parked = (static_cast<int>(s.size()) - 7) / 3;
  for (int v = 0; v < parked; ++v) {
    float x, y, h;
    spot_pose(spots, static_cast<std::int32_t>(s[L::spot(v)]), &x, &y, &h);
    draw_car(cr, x, y, h, s[L::car_length(v)], s[L::car_width(v)], 0.20, 0.40, 0.90);
  }
  draw_car(cr, s[L::kX], s[L::kY], s[L::kHeading], s[L::kLength], s[L::kWidth], 0.20, 0.80, 0.20);
}

}  // namespace

const SceneRegistration kParking("Parking-v0", {kWidth, kHeight, &draw_parking});

}  // namespace convoy::cli
