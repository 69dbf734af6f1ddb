// convoy render: Racetrack-v0, top-down. The upper panel shows the whole loop with every car as
// a dot (the F1TENTH car is a few pixels long at that scale); the lower panel follows the ego at
// true scale with the lidar's rays and hits.
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"
#include "envs/driving/racetrack.h"

namespace convoy::cli {

namespace {
constexpr int kWidth = 800, kTopHeight = 300, kZoomHeight = 340;
constexpr int kHeight = kTopHeight + kZoomHeight;
constexpr double kZoomScale = 40.0;  // px per metre in the lower panel

using Track = envs::racetrack::Track;

// The closed curve at lateral offset d, as one path in world metres.
void track_path(cairo_t* cr, const Track& t, double d) {
  const physics::LaneChain<float> lane = t.chain();
  const int n = static_cast<int>(std::ceil(t.length / 0.5f));
  for (int k = 0; k <= n; ++k) {
    const float s = std::fmin(t.length, 0.5f * static_cast<float>(k));
    const physics::Vec2<float> p = physics::lane_position(lane, s, static_cast<float>(d));
    if (k == 0) {
      cairo_move_to(cr, p.x, p.y);
    } else {
      cairo_line_to(cr, p.x, p.y);
    }
  }
  cairo_close_path(cr);
}

// Asphalt, white edges and dashed centre line, in the current world transform; px is the
// size of one pixel in metres.
void draw_track(cairo_t* cr, const Track& t, double px) {
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_source_rgb(cr, 0.40, 0.40, 0.40);
  cairo_set_line_width(cr, t.width);
  track_path(cr, t, 0.0);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 3 * px);
  for (double side : {-0.5, 0.5}) {
    track_path(cr, t, side * t.width);
    cairo_stroke(cr);
  }
  const double dash[2] = {3.0, 3.0};
  cairo_set_dash(cr, dash, 2, 0.0);
  cairo_set_line_width(cr, 2.5 * px);
  track_path(cr, t, 0.0);
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0.0);
}

struct Car {
  double x, y, heading, length, width;
  bool ego;
};

void set_car_colour(cairo_t* cr, bool ego) {
  if (ego) {
    cairo_set_source_rgb(cr, 0.20, 0.80, 0.20);
  } else {
    cairo_set_source_rgb(cr, 0.20, 0.40, 0.90);
  }
}

// Racetrack-v0's state: the ego [x, y, delta, v, psi, psi_dot, beta, mu, length, width, laps],
// then per other car [s, d, speed, desired, length, width].
void draw_racetrack(cairo_t* cr, const VecEnv& env, const Config& config) {
  ConfigReader reader(config, "Racetrack-v0");
  const envs::racetrack::Params p = envs::racetrack::read_params(reader);
  const std::vector<double> st = env.get_state(0);
  const physics::LaneChain<float> lane = p.track.chain();
  using L = envs::racetrack::StateLayout;
  std::vector<Car> cars = {
      {st[L::kX], st[L::kY], st[L::kPsi], st[L::kLength], st[L::kWidth], true}};
  for (int k = 0; k < p.others; ++k) {
    const double* o = st.data() + L::other(k);
    const physics::Vec2<float> c =
        physics::lane_position(lane, static_cast<float>(o[L::kS]), static_cast<float>(o[L::kD]));
    cars.push_back({c.x, c.y, physics::lane_heading(lane, static_cast<float>(o[L::kS])),
                    o[L::kOtherLength], o[L::kOtherWidth], false});
  }

  // the whole loop, fitted into the upper panel
  fill_rect(cr, 0, 0, kWidth, kHeight, 0.35, 0.55, 0.30);  // grass
  double x0 = 1e30, x1 = -1e30, y0 = 1e30, y1 = -1e30;
  for (float s = 0; s < p.track.length; s += 1.0f) {
    const physics::Vec2<float> q = physics::lane_position(lane, s, 0.0f);
    x0 = std::fmin(x0, q.x);
    x1 = std::fmax(x1, q.x);
    y0 = std::fmin(y0, q.y);
    y1 = std::fmax(y1, q.y);
  }
  const double pad = p.track.width + 4.0;
  const double scale =
      std::fmin((kWidth - 20) / (x1 - x0 + 2 * pad), (kTopHeight - 20) / (y1 - y0 + 2 * pad));
  cairo_save(cr);
  cairo_translate(cr, kWidth / 2.0, kTopHeight / 2.0);
  cairo_scale(cr, scale, -scale);  // y up
  cairo_translate(cr, -(x0 + x1) / 2, -(y0 + y1) / 2);
  draw_track(cr, p.track, 1.0 / scale);
  for (auto it = cars.rbegin(); it != cars.rend(); ++it) {
    set_car_colour(cr, it->ego);
    cairo_arc(cr, it->x, it->y, 5.0 / scale, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  cairo_restore(cr);

  // the ego at true scale, north up
  using L = envs::racetrack::StateLayout;
  const double ex = st[L::kX], ey = st[L::kY];
  cairo_save(cr);
  cairo_rectangle(cr, 0, kTopHeight, kWidth, kZoomHeight);
  cairo_clip(cr);
  cairo_translate(cr, kWidth / 2.0, kTopHeight + kZoomHeight / 2.0);
  cairo_scale(cr, kZoomScale, -kZoomScale);
  cairo_translate(cr, -ex, -ey);
  draw_track(cr, p.track, 1.0 / kZoomScale);
  // lidar rays from the observation, hits marked
  const std::vector<float> obs = env.obs().to_host();
  const double px = 1.0 / kZoomScale;
  cairo_set_line_width(cr, px);
  for (int k = 0; k < p.lidar.n_rays; ++k) {
    const double a = st[L::kPsi] + physics::lidar_ray_angle(p.lidar, k);
    const double r = obs[k] * p.lidar.max_range;
    const double hx = ex + r * std::cos(a), hy = ey + r * std::sin(a);
    cairo_set_source_rgb(cr, 1.0, 0.85, 0.20);
    cairo_move_to(cr, ex, ey);
    cairo_line_to(cr, hx, hy);
    cairo_stroke(cr);
    if (obs[k] < 1.0f) {
      cairo_set_source_rgb(cr, 0.90, 0.15, 0.15);
      cairo_rectangle(cr, hx - 2 * px, hy - 2 * px, 4 * px, 4 * px);
      cairo_fill(cr);
    }
  }
  for (auto it = cars.rbegin(); it != cars.rend(); ++it) {
    cairo_save(cr);
    cairo_translate(cr, it->x, it->y);
    cairo_rotate(cr, it->heading);
    set_car_colour(cr, it->ego);
    cairo_rectangle(cr, -it->length / 2, -it->width / 2, it->length, it->width);
    cairo_fill(cr);
    // the front quarter darker, to show the heading
    cairo_set_source_rgb(cr, 0.10, 0.10, 0.10);
    cairo_rectangle(cr, it->length / 4, -it->width / 2, it->length / 4, it->width);
    cairo_fill(cr);
    cairo_restore(cr);
  }
  cairo_restore(cr);
  // panel divider
  fill_rect(cr, 0, kTopHeight - 1, kWidth, 2, 0.1, 0.1, 0.1);
}

}  // namespace

const SceneRegistration kRacetrack("Racetrack-v0", {kWidth, kHeight, &draw_racetrack});

}  // namespace convoy::cli
