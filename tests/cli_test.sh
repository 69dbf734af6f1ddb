#!/usr/bin/env bash
# Bad arguments to `convoy` print one clear line and exit 2; good ones work.
set -u
convoy="$1"
fail=0
expect() {  # expect CODE PATTERN -- ARGS...
  local code="$1" pattern="$2"
  shift 3
  local out rc
  out=$("$convoy" "$@" 2>&1)
  rc=$?
  if [ "$rc" != "$code" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: convoy $* -> exit $rc, output: $out (wanted exit $code and /$pattern/)"
    fail=1
  else
    echo "ok: convoy $* -> exit $rc"
  fi
  if [ "$code" = 2 ] && [ "$(wc -l <<<"$out")" != 1 ]; then
    echo "FAIL: convoy $* printed more than one line: $out"
    fail=1
  fi
}
expect 0 "CartPole-v1" -- envs
expect 0 "Discrete(2)" -- envs
expect 0 "max_episode_steps=500" -- envs --keys
expect 0 '"env_steps_per_second"' -- bench --env CartPole-v1 --num-envs 64 --steps 20 --device cpu --json
expect 0 '"threads": 1' -- bench --env Pendulum-v1 --num-envs 8 --steps 5 --device cpu --threads 1 --json
expect 0 "env-steps/s" -- bench --env Acrobot-v1 --num-envs 8 --steps 5 --device auto max_episode_steps=10
expect 2 "unknown env 'Nope-v0'" -- bench --env Nope-v0 --device cpu
expect 2 "num-envs 0" -- bench --env CartPole-v1 --num-envs 0 --device cpu
expect 2 "unknown config key 'gravity'" -- bench --env CartPole-v1 --device cpu gravity=3
expect 2 "max_episode_steps=-4" -- bench --env CartPole-v1 --device cpu max_episode_steps=-4
expect 2 "unknown device 'tpu'" -- bench --env CartPole-v1 --device tpu
expect 2 "error" -- bench --env CartPole-v1 --steps many
expect 2 "error" -- frobnicate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# train: CartPole from its preset (rl-zoo3's settings) solves it; Highway's PPO policy beats the
# IDM/MOBIL autopilot and a random policy on evaluation return
expect 0 "PPO  *500.00" -- train --env CartPole-v1 --out "$tmp/cp"
expect 0 "baseline" -- train --env Highway-v0 --out "$tmp/hw"
for f in cp/metrics.csv cp/summary.json hw/summary.json; do
  [ -s "$tmp/$f" ] || { echo "FAIL: train wrote no $f"; fail=1; }
done
python3 - "$tmp/hw/summary.json" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1]))
print(f"Highway-v0 PPO {s['mean_return']:.2f} (early ends {s['early_end_rate']:.2f}), "
      f"baseline {s['baseline_mean_return']:.2f}, random {s['random_mean_return']:.2f}")
ok = s["mean_return"] > s["baseline_mean_return"] > s["random_mean_return"]
print("ok: PPO beats the baseline and random" if ok else "FAIL: PPO does not beat both")
sys.exit(0 if ok else 1)
PY
expect 0 '"mean_return": 500' -- eval --checkpoint "$tmp/cp/checkpoint.ckpt" --episodes 20 --json
expect 0 "baseline" -- eval --checkpoint "$tmp/hw/checkpoint.ckpt" --episodes 5
expect 0 "wrote" -- plot "$tmp/cp"
head -c 8 "$tmp/cp/curves.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: curves.png is not a PNG"; fail=1; }
expect 2 "cannot read" -- plot "$tmp/nowhere"
head -c 1000 "$tmp/cp/checkpoint.ckpt" >"$tmp/truncated.ckpt"
expect 2 "truncated" -- eval --checkpoint "$tmp/truncated.ckpt"
expect 2 "not a Convoy checkpoint" -- eval --checkpoint "$tmp/cp/metrics.csv"
expect 2 "allowed: ppo" -- train --env CartPole-v1 --algo dqn
expect 2 "unknown env 'Nope-v0'" -- train --env Nope-v0
expect 2 "unknown config key 'learning_rat'" -- train --env CartPole-v1 learning_rat=1
expect 2 "unknown config key 'gravity'" -- train --env CartPole-v1 env.gravity=1
# --resume: a run stopped halfway and resumed ends with the bytes of the run made straight
# (checkpoint; metrics.csv but for the wall-clock steps_per_second column); TensorBoard files
expect 0 "stopped after iteration 6 of 16" -- train --env Highway-v0 --total-steps 2048 --num-envs 4 \
  --eval-episodes 2 --out "$tmp/half" --stop-after 6 num_steps=32 num_minibatches=4 norm_obs=true norm_reward=true
expect 0 "resuming Highway-v0 at iteration 6 of 16" -- train --resume "$tmp/half" --eval-episodes 2
expect 0 "events.out.tfevents" -- train --env Highway-v0 --total-steps 2048 --num-envs 4 \
  --eval-episodes 2 --out "$tmp/straight" num_steps=32 num_minibatches=4 norm_obs=true norm_reward=true
cmp "$tmp/half/checkpoint.ckpt" "$tmp/straight/checkpoint.ckpt" || { echo "FAIL: resumed checkpoint differs"; fail=1; }
diff <(cut -d, -f1-12 "$tmp/half/metrics.csv") <(cut -d, -f1-12 "$tmp/straight/metrics.csv") >/dev/null \
  && [ "$(wc -l <"$tmp/half/metrics.csv")" = 17 ] || { echo "FAIL: resumed metrics.csv differs"; fail=1; }
[ "$(ls "$tmp/half" | grep -c '^events.out.tfevents.')" = 2 ] || { echo "FAIL: no second event file"; fail=1; }
expect 0 "resuming Highway-v0 at iteration 16 of 16" -- train --resume "$tmp/half" --eval-episodes 2
expect 2 "no such directory" -- train --resume "$tmp/nowhere"
[ ! -e "$tmp/nowhere" ] || { echo "FAIL: --resume of a missing directory created it"; fail=1; }
mkdir -p "$tmp/foreign" && echo hello >"$tmp/foreign/notes.txt"
expect 2 "holds no checkpoint.ckpt" -- train --resume "$tmp/foreign"
[ "$(ls "$tmp/foreign")" = notes.txt ] || { echo "FAIL: --resume of a foreign directory wrote into it"; fail=1; }
cp "$tmp/cp/metrics.csv" "$tmp/foreign/checkpoint.ckpt"
expect 2 "not a Convoy checkpoint" -- train --resume "$tmp/foreign"
expect 2 "takes every setting from the checkpoint" -- train --resume "$tmp/half" --total-steps 64
expect 2 "trains Highway-v0" -- train --resume "$tmp/half" --env CartPole-v1
expect 2 "env is required" -- train
expect 0 "wrote" -- render --env Highway-v0 --policy baseline --steps 3 --out "$tmp/hw.png"
expect 0 "wrote" -- render --env Highway-v0 --steps 4 --out "$tmp/hw.gif"
expect 0 "wrote" -- render --env CartPole-v1 --steps 4 --out "$tmp/cp.png"
for f in hw.png cp.png; do
  head -c 8 "$tmp/$f" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: $f is not a PNG"; fail=1; }
done
head -c 6 "$tmp/hw.gif" | grep -q "GIF89a" || { echo "FAIL: hw.gif is not a GIF89a"; fail=1; }
expect 2 "allowed: a path ending in .png or .gif" -- render --env Highway-v0 --out "$tmp/x.jpg"
expect 2 "has no drawing yet" -- render --env Acrobot-v1 --out "$tmp/x.png"
expect 2 "no scripted baseline" -- render --env CartPole-v1 --policy baseline --out "$tmp/x.png"
if ! "$convoy" bench --env CartPole-v1 --num-envs 4 --steps 1 --device cuda >/dev/null 2>&1; then
  expect 2 "not usable" -- bench --env CartPole-v1 --num-envs 4 --steps 1 --device cuda
fi
exit $fail
