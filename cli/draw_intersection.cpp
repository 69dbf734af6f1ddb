// convoy render: Intersection-v0, top-down over the crossing: the four arms with their lane
// markings and stop lines, traffic, each agent in its own colour with its route and
// destination (the point where it counts as arrived).
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"
#include "envs/driving/intersection.h"
#include "sim/config.h"

namespace convoy::cli {

namespace {
constexpr int kSize = 600;         // pixels, square
constexpr double kScale = 5.0;     // pixels per metre: the view spans +-60 m
constexpr double kHalfRoad = 4.0;  // m, one lane each way
constexpr double kAgentColours[4][3] = {
    {0.15, 0.75, 0.15}, {0.95, 0.55, 0.05}, {0.85, 0.15, 0.75}, {0.05, 0.80, 0.85}};

void to_px(double x, double y, double* px, double* py) {
  *px = kSize / 2.0 + x * kScale;
  *py = kSize / 2.0 - y * kScale;  // world y up, screen y down
}

void line(cairo_t* cr, double x0, double y0, double x1, double y1) {
  double a, b, c, d;
  to_px(x0, y0, &a, &b);
  to_px(x1, y1, &c, &d);
  cairo_move_to(cr, a, b);
  cairo_line_to(cr, c, d);
}

// The roads: both arms' asphalt, edge lines, dashed centre lines and a stop line per approach.
void draw_roads(cairo_t* cr) {
  const double corner = 11.0;  // the crossing's half width: right-turn radius + half a lane
  const double far = kSize / kScale;
  fill_rect(cr, 0, 0, kSize, kSize, 0.35, 0.55, 0.30);  // grass
  cairo_set_source_rgb(cr, 0.40, 0.40, 0.40);
  double a, b;
  to_px(-kHalfRoad, far, &a, &b);
  cairo_rectangle(cr, a, b, 2 * kHalfRoad * kScale, 2 * far * kScale);
  to_px(-far, kHalfRoad, &a, &b);
  cairo_rectangle(cr, a, b, 2 * far * kScale, 2 * kHalfRoad * kScale);
  to_px(-corner, corner, &a, &b);
  cairo_rectangle(cr, a, b, 2 * corner * kScale, 2 * corner * kScale);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 2);
  for (int arm = 0; arm < 4; ++arm) {
    // in arm 0's frame (south arm, traffic coming in heading +y), rotated by 90 degrees each
    const double c = std::cos(arm * M_PI / 2), s = std::sin(arm * M_PI / 2);
    auto seg = [&](double x0, double y0, double x1, double y1) {
      line(cr, c * x0 - s * y0, s * x0 + c * y0, c * x1 - s * y1, s * x1 + c * y1);
    };
    seg(-kHalfRoad, -corner, -kHalfRoad, -far);  // edges
    seg(kHalfRoad, -corner, kHalfRoad, -far);
    seg(0.0, -corner, kHalfRoad, -corner);  // stop line across the approach lane
    cairo_stroke(cr);
    for (double y = -corner - 2.0; y > -far; y -= 6.0) seg(0.0, y, 0.0, y - 3.0);  // centre
    cairo_stroke(cr);
  }
}

void draw_car(cairo_t* cr, double x, double y, double heading, double r, double g, double b) {
  double px, py;
  to_px(x, y, &px, &py);
  cairo_save(cr);
  cairo_translate(cr, px, py);
  cairo_rotate(cr, -heading);
  cairo_set_source_rgb(cr, r, g, b);
  cairo_rectangle(cr, -2.5 * kScale, -1.0 * kScale, 5.0 * kScale, 2.0 * kScale);
  cairo_fill(cr);
  // a dark windscreen marks the front
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_rectangle(cr, 1.0 * kScale, -0.8 * kScale, 0.8 * kScale, 1.6 * kScale);
  cairo_fill(cr);
  cairo_restore(cr);
}

// Intersection-v0: per slot [route, s, speed, target_speed, delta, time_gap], agents first.
void draw_intersection(cairo_t* cr, const VecEnv& env, const Config& config) {
  namespace ix = envs::intersection;
  ConfigReader reader(config, "Intersection-v0");
  const ix::Params p = ix::read_params(reader);
  draw_roads(cr);
  const std::vector<double> st = env.get_state(0);
  const int slots = static_cast<int>(st.size()) / ix::kStateFields;
  auto pose = [&](int route, double s, double* x, double* y, double* h) {
    const auto lane = ix::route_lane(p, route);
    const auto q = physics::lane_position(lane, static_cast<float>(s));
    *x = q.x;
    *y = q.y;
    *h = physics::lane_heading(lane, static_cast<float>(s));
  };
  // each agent's remaining route and its destination
  for (int a = 0; a < p.agents && a < slots; ++a) {
    const int route = static_cast<int>(st[ix::StateLayout::route(a)]);
    if (route < 0) continue;
    const double* col = kAgentColours[a % 4];
    const double goal = p.entry + p.turn_length[route] + ix::kExitDistance;
    cairo_set_source_rgb(cr, col[0], col[1], col[2]);
    cairo_set_line_width(cr, 2);
    double x, y, h, px, py;
    for (double s = st[ix::StateLayout::s(a)]; s <= goal; s += 1.0) {
      pose(route, s, &x, &y, &h);
      to_px(x, y, &px, &py);
      if (s == st[ix::StateLayout::s(a)]) {
        cairo_move_to(cr, px, py);
      } else {
        cairo_line_to(cr, px, py);
      }
    }
    cairo_stroke(cr);
    pose(route, goal, &x, &y, &h);
    to_px(x, y, &px, &py);
    cairo_arc(cr, px, py, 1.6 * kScale, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_arc(cr, px, py, 0.7 * kScale, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  for (int u = slots - 1; u >= 0; --u) {
    const int route = static_cast<int>(st[ix::StateLayout::route(u)]);
    if (route < 0) continue;
    double x, y, h;
    pose(route, st[ix::StateLayout::s(u)], &x, &y, &h);
    if (u < p.agents) {
      const double* col = kAgentColours[u % 4];
      draw_car(cr, x, y, h, col[0], col[1], col[2]);
    } else {
      draw_car(cr, x, y, h, 0.20, 0.40, 0.90);
    }
  }
}

}  // namespace

const SceneRegistration kIntersection("Intersection-v0", {kSize, kSize, &draw_intersection});

}  // namespace convoy::cli
