// `convoy render`: pictures of a scene. A top-down PNG of one env after --steps steps, or an
// animated GIF of those steps (--out ending in .gif), drawn with Cairo from the env's state
// (VecEnv::get_state), with actions from a random policy or the env's scripted baseline.
// Flat colours without antialiasing, so a GIF frame's palette is exact.
#include "cli/render.h"

#include <cairo.h>
#include <gif_lib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "envs/registry.h"
#include "sim/array.h"
#include "sim/error.h"

namespace convoy::cli {

namespace {

struct RenderOptions {
  std::string env;
  std::string policy = "random";
  std::uint64_t seed = 0;
  int steps = 0;
  std::string out;
  std::vector<std::string> config;
};

// Writes frames (ARGB32, width x height each) as a looping GIF, 5 frames per second. The
// palette is the frames' own colours (exact: they are drawn without antialiasing).
void write_gif(const std::string& path, int kWidth, int kHeight,
               const std::vector<std::vector<std::uint32_t>>& frames) {
  std::map<std::uint32_t, int> index;
  for (const auto& f : frames) {
    for (std::uint32_t px : f) {
      const std::uint32_t rgb = px & 0xffffff;
      if (!index.count(rgb)) {
        if (index.size() == 256) throw Error("render: more than 256 colours in a GIF frame");
        const int k = static_cast<int>(index.size());
        index[rgb] = k;
      }
    }
  }
  int bits = 1;
  while ((1 << bits) < static_cast<int>(index.size())) ++bits;
  std::vector<GifColorType> colours(1u << bits);
  for (const auto& [rgb, k] : index) {
    colours[k] = {static_cast<GifByteType>(rgb >> 16), static_cast<GifByteType>(rgb >> 8),
                  static_cast<GifByteType>(rgb)};
  }
  int err = 0;
  const std::string tmp = path + ".tmp";
  GifFileType* gif = EGifOpenFileName(tmp.c_str(), false, &err);
  if (!gif) throw Error("render: cannot write '" + path + "': " + GifErrorString(err));
  ColorMapObject* map = GifMakeMapObject(1 << bits, colours.data());
  EGifSetGifVersion(gif, true);  // GIF89a: needed for the loop and delay extensions
  bool ok = EGifPutScreenDesc(gif, kWidth, kHeight, bits, 0, map) == GIF_OK;
  // loop forever (NETSCAPE2.0 application extension)
  const GifByteType app[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
  const GifByteType loop[] = {1, 0, 0};
  ok = ok && EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
       EGifPutExtensionBlock(gif, sizeof(app), app) == GIF_OK &&
       EGifPutExtensionBlock(gif, sizeof(loop), loop) == GIF_OK &&
       EGifPutExtensionTrailer(gif) == GIF_OK;
  std::vector<GifPixelType> line(kWidth);
  for (const auto& f : frames) {
    GraphicsControlBlock gcb{};
    gcb.DelayTime = 20;  // centiseconds
    gcb.TransparentColor = NO_TRANSPARENT_COLOR;
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    ok = ok && EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_OK;
    ok = ok && EGifPutImageDesc(gif, 0, 0, kWidth, kHeight, false, nullptr) == GIF_OK;
    for (int y = 0; y < kHeight && ok; ++y) {
      for (int x = 0; x < kWidth; ++x) line[x] = index[f[y * kWidth + x] & 0xffffff];
      ok = EGifPutLine(gif, line.data(), kWidth) == GIF_OK;
    }
  }
  GifFreeMapObject(map);
  if (EGifCloseFile(gif, &err) != GIF_OK || !ok) {
    std::remove(tmp.c_str());
    throw Error("render: writing '" + path + "' failed");
  }
  chmod(tmp.c_str(), 0644);  // giflib creates its file owner-only
  // written under a temporary name and renamed: no half-written file is left behind
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw Error("render: cannot move the GIF into place at '" + path + "'");
  }
}

void run_render(const RenderOptions& o) {
  const auto scene_it = scenes().find(o.env);
  if (scene_it == scenes().end()) {
    std::string names;
    for (const auto& [name, scene] : scenes()) names += (names.empty() ? "" : ", ") + name;
    throw Error("render: env '" + o.env + "' has no drawing yet; allowed: " + names);
  }
  const Scene& scene = scene_it->second;
  const int kWidth = scene.width, kHeight = scene.height;
  if (o.policy != "random" && o.policy != "baseline") {
    throw Error("render: --policy " + o.policy + " is invalid; allowed: random, baseline");
  }
  if (o.steps < 0 || o.steps > 10000) {
    throw Error("render: --steps " + std::to_string(o.steps) + " is invalid; allowed: 0..10000");
  }
  const bool gif = o.out.size() > 4 && o.out.substr(o.out.size() - 4) == ".gif";
  const bool png = o.out.size() > 4 && o.out.substr(o.out.size() - 4) == ".png";
  if (!gif && !png) {
    throw Error("render: --out '" + o.out + "' is invalid; allowed: a path ending in .png or .gif");
  }
  Config config = Config::parse(o.config);
  if (o.policy == "baseline") {
    // the env's scripted baseline, as `convoy eval` runs it
    const EnvSpec& spec = env_registry().find(o.env).spec;
    if (!spec.has_baseline()) throw Error("render: " + o.env + " has no scripted baseline");
    config = with_baseline(spec, config);
  }
  // one scene: a multi-agent env (agents_per_env=k) has k rows
  std::int64_t rows = 1;
  const auto agents = config.values().find("agents_per_env");
  if (agents != config.values().end()) {
    try {
      rows = std::max<std::int64_t>(1, std::stoll(agents->second));
    } catch (const std::exception&) {
      rows = 1;  // the env reports the bad value
    }
  }
  auto env = env_registry().make(o.env, Device::cpu(), rows, config);
  DeviceArray<std::int32_t> int_actions(Device::cpu(), env->num_envs() * env->act_dim());
  DeviceArray<float> float_actions(Device::cpu(), env->num_envs() * env->act_dim());
  void* actions = env->discrete_actions() ? static_cast<void*>(int_actions.data())
                                          : static_cast<void*>(float_actions.data());
  env->reset(o.seed);

  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, kWidth, kHeight), &cairo_surface_destroy);
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()),
                                                        &cairo_destroy);
  cairo_set_antialias(cr.get(), CAIRO_ANTIALIAS_NONE);
  std::vector<std::vector<std::uint32_t>> frames;
  auto grab = [&] {
    scene.draw(cr.get(), *env, config);
    cairo_surface_flush(surface.get());
    const auto* data =
        reinterpret_cast<const std::uint32_t*>(cairo_image_surface_get_data(surface.get()));
    const int stride = cairo_image_surface_get_stride(surface.get()) / 4;
    std::vector<std::uint32_t> f(static_cast<std::size_t>(kWidth) * kHeight);
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) f[y * kWidth + x] = data[y * stride + x];
    }
    frames.push_back(std::move(f));
  };
  if (gif) grab();
  for (int t = 0; t < o.steps; ++t) {
    env->sample_actions(o.seed, static_cast<std::uint64_t>(t), actions);
    env->step_raw(actions);
    env->check_steps();
    if (gif) grab();
  }
  if (png) {
    scene.draw(cr.get(), *env, config);
    const std::string tmp = o.out + ".tmp";
    if (cairo_surface_write_to_png(surface.get(), tmp.c_str()) != CAIRO_STATUS_SUCCESS ||
        std::rename(tmp.c_str(), o.out.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw Error("render: cannot write '" + o.out + "'");
    }
  } else {
    write_gif(o.out, kWidth, kHeight, frames);
  }
  std::printf("wrote %s (%s, %d steps, policy %s, seed %llu)\n", o.out.c_str(), o.env.c_str(),
              o.steps, o.policy.c_str(), static_cast<unsigned long long>(o.seed));
}

}  // namespace

namespace {
// Filled by the SceneRegistration objects before main; built on first use, since those run in
// an order C++ leaves open.
std::map<std::string, Scene>& scene_table() {
  static std::map<std::string, Scene> all;
  return all;
}
}  // namespace

SceneRegistration::SceneRegistration(const char* name, Scene scene) { scene_table()[name] = scene; }

const std::map<std::string, Scene>& scenes() { return scene_table(); }

void add_render_command(CLI::App& app) {
  auto opts = std::make_shared<RenderOptions>();
  auto* cmd = app.add_subcommand("render", "Draw a scene (PNG) or an episode (GIF)");
  cmd->add_option("--env", opts->env, "Environment name")->required();
  cmd->add_option("--policy", opts->policy, "random or baseline")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Seed for the reset and the actions")
      ->capture_default_str();
  cmd->add_option("--steps", opts->steps, "Steps before the PNG, or frames of the GIF")
      ->capture_default_str();
  cmd->add_option("--out", opts->out, "Output file: .png or .gif")->required();
  cmd->add_option("config", opts->config, "Env settings as key=value");
  cmd->callback([opts] { run_render(*opts); });
}

}  // namespace convoy::cli
