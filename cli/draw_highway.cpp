// convoy render: Highway-v0 and Merge-v0, top-down, the camera following the ego.
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"
#include "envs/driving/merge.h"

namespace convoy::cli {

namespace {
constexpr int kWidth = 800, kHeight = 240;

using Layout = envs::highway::StateLayout;

// The vehicles of get_state (envs::highway::StateLayout); the ego green, traffic blue, drawn
// at highway-env's 5 m x 2 m.
template <class ToPx>
void draw_cars(cairo_t* cr, const std::vector<double>& s, double scale, const ToPx& to_px) {
  const int n = Layout::vehicles(s.size());
  for (int v = n - 1; v >= 0; --v) {
    const envs::highway::VehicleRow<const double> car = envs::highway::vehicle_row(s.data(), v);
    double px, py;
    to_px(car.x(), car.y(), &px, &py);
    if (px < -40 || px > kWidth + 40) continue;
    cairo_save(cr);
    cairo_translate(cr, px, py);
    cairo_rotate(cr, car.heading());
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

// Highway-v0 and HighwayFast-v0: the camera follows the ego, 4 px per metre.
void draw_highway(cairo_t* cr, const VecEnv& env, const Config& config) {
  const std::vector<double> s = env.get_state(0);
  // the lanes set, else the env's default (4 on Highway-v0, 3 on HighwayFast-v0)
  int lanes = 3;
  for (const ConfigKey& k : env.spec().config_keys) {
    if (k.name == "lanes") lanes = std::stoi(k.default_value);
  }
  const auto it = config.values().find("lanes");
  if (it != config.values().end()) lanes = std::stoi(it->second);
  const double scale = 4.0;
  const double ex = s[Layout::x(0)];
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
  draw_cars(cr, s, scale, to_px);
}

// Merge-v0: the two highway lanes, the ramp with its bend and acceleration lane, the obstacle
// closing it (red) and the end of the road (x = 370, a white bar); 4 px per metre, the camera
// following the ego along x.
constexpr int kMergeHeight = 160;

void draw_merge(cairo_t* cr, const VecEnv& env, const Config&) {
  namespace m = envs::merge;
  const std::vector<double> s = env.get_state(0);
  const double scale = 4.0, ex = s[Layout::x(0)];
  auto to_px = [&](double x, double y, double* px, double* py) {
    *px = kWidth / 3.0 + (x - ex) * scale;
    *py = 24.0 + (y + 2.0) * scale;
  };
  double x0, y0, x1, y1;
  fill_rect(cr, 0, 0, kWidth, kMergeHeight, 0.35, 0.55, 0.30);  // grass
  // asphalt: the highway, then the ramp as a strip 4 m wide about its centre
  to_px(0, -2, &x0, &y0);
  to_px(460, 6, &x1, &y1);
  fill_rect(cr, x0, y0, x1 - x0, y1 - y0, 0.40, 0.40, 0.40);
  cairo_set_source_rgb(cr, 0.40, 0.40, 0.40);
  // one edge of the ramp, from x = 0 to x_end (every 2 m), or back
  auto ramp_edge = [&](double side, bool forward, double x_end = m::kMergeEnd) {
    const int steps = static_cast<int>(x_end / 2.0);
    for (int k = 0; k <= steps; ++k) {
      const double x = forward ? 2.0 * k : 2.0 * (steps - k);
      double px, py;
      to_px(x, m::ramp_y(static_cast<float>(x)) + side, &px, &py);
      if (k == 0 && forward) {
        cairo_move_to(cr, px, py);
      } else {
        cairo_line_to(cr, px, py);
      }
    }
  };
  ramp_edge(-2.0, true);
  ramp_edge(2.0, false);
  cairo_close_path(cr);
  cairo_fill(cr);
  // markings: solid road edges, dashed between lanes (and beside the acceleration lane)
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 2);
  auto line = [&](double xa, double ya, double xb, double yb) {
    double pa, qa, pb, qb;
    to_px(xa, ya, &pa, &qa);
    to_px(xb, yb, &pb, &qb);
    cairo_move_to(cr, pa, qa);
    cairo_line_to(cr, pb, qb);
  };
  line(0, -2, 460, -2);
  line(0, 6, m::kMergeStart, 6);
  line(m::kMergeEnd, 6, 460, 6);
  for (double x = 0; x < 460; x += 10) line(x, 2, x + 5, 2);
  for (double x = m::kMergeStart; x < m::kMergeEnd; x += 10) line(x, 6, x + 5, 6);
  cairo_stroke(cr);
  ramp_edge(-2.0, true, m::kMergeStart);  // beside the right lane it is the dashed line
  cairo_new_sub_path(cr);
  ramp_edge(2.0, true);
  cairo_stroke(cr);
  line(m::kRoadEnd, -2, m::kRoadEnd, 6);
  cairo_set_line_width(cr, 4);
  cairo_stroke(cr);
  // the obstacle at the end of the acceleration lane
  double ox, oy;
  to_px(m::kMergeEnd - 1.0, m::kAccelLaneY - 1.0, &ox, &oy);
  fill_rect(cr, ox, oy, 2.0 * scale, 2.0 * scale, 0.85, 0.15, 0.15);
  draw_cars(cr, s, scale, to_px);
}

}  // namespace

const SceneRegistration kHighway("Highway-v0", {kWidth, kHeight, &draw_highway});
const SceneRegistration kHighwayFast("HighwayFast-v0", {kWidth, kHeight, &draw_highway});
const SceneRegistration kMerge("Merge-v0", {kWidth, kMergeHeight, &draw_merge});

}  // namespace convoy::cli
