// convoy render: the classic-control envs.
#include <cairo.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli/render.h"

namespace convoy::cli {

namespace {
constexpr int kWidth = 800, kHeight = 240;

// CartPole-v1: [x, x_dot, theta, theta_dot], the track 4.8 m wide.
void draw_cartpole(cairo_t* cr, const VecEnv& env, const Config&) {
  const std::vector<double> s = env.get_state(0);
  fill_rect(cr, 0, 0, kWidth, kHeight, 1, 1, 1);
  const double scale = kWidth / 4.8 / 1.2, ground = kHeight * 0.75;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, 0, ground);
  cairo_line_to(cr, kWidth, ground);
  cairo_stroke(cr);
  const double cx = kWidth / 2.0 + s[0] * scale;
  fill_rect(cr, cx - 25, ground - 15, 50, 30, 0.1, 0.1, 0.1);
  cairo_set_source_rgb(cr, 0.8, 0.6, 0.4);
  cairo_set_line_width(cr, 8);
  cairo_move_to(cr, cx, ground - 5);
  cairo_line_to(cr, cx + std::sin(s[2]) * 1.0 * scale, ground - 5 - std::cos(s[2]) * 1.0 * scale);
  cairo_stroke(cr);
}

}  // namespace

const SceneRegistration kCartPole("CartPole-v1", {kWidth, kHeight, &draw_cartpole});

}  // namespace convoy::cli
