// What `convoy render` knows how to draw: one Scene per env, each group's drawing in its own
// cli/draw_<group>.cpp, which registers it (SceneRegistration). A Scene draws the first env of a
// VecEnv (from get_state(0), and its observation where it shows sensors) on a canvas of its
// own size, with flat colours and no antialiasing so GIF palettes stay exact.
#pragma once

#include <cairo.h>

#include <map>
#include <string>

#include "sim/config.h"
#include "sim/vec_env.h"

namespace convoy::cli {

struct Scene {
  int width = 0, height = 0;  // pixels
  // Draws the whole canvas; config holds the env's settings as given on the command line.
  void (*draw)(cairo_t* cr, const VecEnv& env, const Config& config) = nullptr;
};

inline void fill_rect(cairo_t* cr, double x, double y, double w, double h, double r, double g,
                      double b) {
  cairo_set_source_rgb(cr, r, g, b);
  cairo_rectangle(cr, x, y, w, h);
  cairo_fill(cr);
}

// Adds `scene` as the drawing of env `name`: one static object per env at the end of its
// cli/draw_<group>.cpp, constructed before main, so a drawing needs no line elsewhere (CMake
// globs cli/draw_*.cpp into the convoy executable, where every such object is kept).
struct SceneRegistration {
  SceneRegistration(const char* name, Scene scene);
};

// Every drawable env by name.
const std::map<std::string, Scene>& scenes();

}  // namespace convoy::cli
