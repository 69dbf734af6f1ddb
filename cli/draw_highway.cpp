// convoy render: Highway-v0, top-down, the camera following the ego.
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"

namespace convoy::cli {

namespace {
constexpr int kWidth = 800, kHeight = 240;

// Highway-v0: per vehicle [x, y, heading, speed, target_speed, target_lane]; the camera
// follows the ego, 4 px per metre.
void draw_highway(cairo_t* cr, const VecEnv& env, const Config& config) {
  const std::vector<double> s = env.get_state(0);
  int lanes = 3;
  const auto it = config.values().find("lanes");
  if (it != config.values().end()) lanes = std::stoi(it->second);
  const double scale = 4.0;
  const double ex = s[0];
  const double road_top = kHeight / 2.0 - (lanes * 4.0) * scale / 2;
  auto to_px = [&](double x, double y, double* px, double* py) {
    *px = kWidth / 3.0 + (x - ex) * scale;
    *py = road_top + (y + 2.0) * scale;
  };
  fill_rect(cr, 0, 0, kWidth, kHeight, 0.35, 0.55, 0.30);                     // grass
  fill_rect(cr, 0, road_top, kWidth, lanes * 4.0 * scale, 0.40, 0.40, 0.40);  // asphalt
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 2);
  for (int l = 0; l <= lanes; ++l) {
    const double y = road_top + l * 4.0 * scale;
    if (l == 0 || l == lanes) {
      cairo_move_to(cr, 0, y);
      cairo_line_to(cr, kWidth, y);
      cairo_stroke(cr);
      continue;
    }
    // dashed lane markings, fixed to the road
    const double phase = std::fmod(ex * scale, 40.0);
    for (double x = -phase; x < kWidth; x += 40.0) {
      cairo_move_to(cr, x, y);
      cairo_line_to(cr, x + 20.0, y);
    }
    cairo_stroke(cr);
  }
  const int n = static_cast<int>(s.size()) / 6;
  for (int v = n - 1; v >= 0; --v) {
    double px, py;
    to_px(s[v * 6], s[v * 6 + 1], &px, &py);
    if (px < -40 || px > kWidth + 40) continue;
    cairo_save(cr);
    cairo_translate(cr, px, py);
    cairo_rotate(cr, s[v * 6 + 2]);
    if (v == 0) {
      cairo_set_source_rgb(cr, 0.20, 0.80, 0.20);  // ego
    } else {
      cairo_set_source_rgb(cr, 0.20, 0.40, 0.90);
    }
    cairo_rectangle(cr, -2.5 * scale, -1.0 * scale, 5.0 * scale, 2.0 * scale);
    cairo_fill(cr);
    cairo_restore(cr);
  }
}

}  // namespace

Scene highway_scene() { return {kWidth, kHeight, &draw_highway}; }

}  // namespace convoy::cli
