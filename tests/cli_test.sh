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
# bench --replay: every operation runs on a tiny buffer and reports a positive rate
replay_json=$("$convoy" bench --replay prioritized --capacity 64 --batch 16 --seconds 0.05 \
  --device cpu --threads 1 --json 2>&1)
python3 - "$replay_json" <<'PY' || fail=1
import json, math, sys
r = json.loads(sys.argv[1])
ops = ("insert", "sample", "update", "sample_update")
ok = r["replay"] == "prioritized" and r["capacity"] == 64 and r["batch"] == 16 and all(
    math.isfinite(r[op + "_per_second"]) and r[op + "_per_second"] > 0 for op in ops)
print(("ok" if ok else "FAIL") + ": convoy bench --replay prioritized --json -> " + sys.argv[1])
sys.exit(0 if ok else 1)
PY
expect 0 '"update_per_second": null' -- bench --replay uniform --capacity 64 --batch 64 --seconds 0.05 \
  --device cpu --json
expect 0 "sample+update .*M transitions/s" -- bench --replay prioritized --capacity 32 --batch 8 \
  --seconds 0.05 --device cpu
expect 2 "batch 65 is invalid" -- bench --replay uniform --capacity 64 --batch 65 --device cpu
expect 2 "replay nope is invalid" -- bench --replay nope --device cpu
expect 2 "excludes" -- bench --replay uniform --env CartPole-v1 --device cpu
expect 2 "needs --env NAME or --replay" -- bench --device cpu
expect 2 "are free on cpu" -- bench --replay prioritized --capacity 2147483648 --obs-dim 1048576 \
  --device cpu
expect 2 "error" -- frobnicate
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# train: CartPole from its preset (rl-zoo3's settings) solves it; Highway's PPO policy beats the
# IDM/MOBIL autopilot and a random policy on evaluation return
expect 0 "PPO  *500.00" -- train --env CartPole-v1 --out "$tmp/cp"
expect 0 "baseline" -- train --env HighwayFast-v0 --out "$tmp/hw"
# PPO on a setting's action space, not the registered default's: HighwayFast-v0 is Discrete by
# default, continuous with action_type=continuous (its evaluation once asked for int32 actions)
expect 0 "baseline" -- train --env HighwayFast-v0 --total-steps 2048 --num-envs 4 --eval-episodes 2 \
  --out "$tmp/hw-cont" env.action_type=continuous
for f in cp/metrics.csv cp/summary.json hw/summary.json; do
  [ -s "$tmp/$f" ] || { echo "FAIL: train wrote no $f"; fail=1; }
done
python3 - "$tmp/hw/summary.json" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1]))
print(f"HighwayFast-v0 PPO {s['mean_return']:.2f} (early ends {s['early_end_rate']:.2f}), "
      f"baseline {s['baseline_mean_return']:.2f}, random {s['random_mean_return']:.2f}")
ok = s["mean_return"] > s["baseline_mean_return"] > s["random_mean_return"]
print("ok: PPO beats the baseline and random" if ok else "FAIL: PPO does not beat both")
sys.exit(0 if ok else 1)
PY
expect 0 '"mean_return": 500' -- eval --checkpoint "$tmp/cp/checkpoint.ckpt" --episodes 20 --json
expect 0 "baseline" -- eval --checkpoint "$tmp/hw/checkpoint.ckpt" --episodes 5
# --device cpu named explicitly gives the default's numbers, and the output names the device
same_eval() {  # same_eval CHECKPOINT ARGS...: default device vs --device cpu, output for output
  local ckpt="$1" a b
  shift
  a=$("$convoy" eval --checkpoint "$ckpt" "$@" 2>&1)
  b=$("$convoy" eval --checkpoint "$ckpt" "$@" --device cpu 2>&1)
  if [ -n "$a" ] && [ "$a" = "$b" ] && grep -q 'device": "cpu"\|evaluated on cpu' <<<"$b"; then
    echo "ok: eval $* --device cpu = the default"
  else
    echo "FAIL: eval $* --device cpu differs from the default or names no device: $a / $b"
    fail=1
  fi
}
same_eval "$tmp/hw/checkpoint.ckpt" --episodes 5 --seed 3 --json
same_eval "$tmp/cp/checkpoint.ckpt" --episodes 4
expect 0 "wrote" -- plot "$tmp/cp"
head -c 8 "$tmp/cp/curves.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: curves.png is not a PNG"; fail=1; }
expect 2 "cannot read" -- plot "$tmp/nowhere"
head -c 1000 "$tmp/cp/checkpoint.ckpt" >"$tmp/truncated.ckpt"
expect 2 "truncated" -- eval --checkpoint "$tmp/truncated.ckpt"
expect 2 "not a Convoy checkpoint" -- eval --checkpoint "$tmp/cp/metrics.csv"
expect 2 "allowed: ppo, sac, dqn" -- train --env CartPole-v1 --algo a2c
expect 2 "allowed: ppo, sac, dqn" -- train --env Pendulum-v1 --algo xyz
# DQN: a short run from presets/dqn/CartPole-v1.conf evaluates from its checkpoint; a Box env is
# refused by name
expect 0 "DQN " -- train --env CartPole-v1 --algo dqn --total-steps 3000 --eval-episodes 3 --out "$tmp/dqn"
expect 0 '"algo": "dqn"' -- eval --checkpoint "$tmp/dqn/checkpoint.ckpt" --episodes 3 --json
expect 0 "wrote" -- plot "$tmp/dqn"
expect 2 "Pendulum-v1 has a Box action space" -- train --env Pendulum-v1 --algo dqn --out "$tmp/dqn_box"
# SAC: a short run from presets/sac/Pendulum-v1.conf writes PPO's outputs and its checkpoint
# evaluates; a Discrete env is refused by name
expect 0 "SAC " -- train --env Pendulum-v1 --algo sac --total-steps 3000 --eval-episodes 5 --out "$tmp/sac"
for f in sac/metrics.csv sac/summary.json sac/checkpoint.ckpt; do
  [ -s "$tmp/$f" ] || { echo "FAIL: train --algo sac wrote no $f"; fail=1; }
done
grep -q "qf1_loss" "$tmp/sac/metrics.csv" || { echo "FAIL: SAC metrics.csv has no qf1_loss"; fail=1; }
expect 0 '"algo": "sac"' -- eval --checkpoint "$tmp/sac/checkpoint.ckpt" --episodes 5 --json
expect 0 "SAC after 3000 env steps" -- eval --checkpoint "$tmp/sac/checkpoint.ckpt" --episodes 3
same_eval "$tmp/sac/checkpoint.ckpt" --episodes 3 --json
expect 0 "wrote" -- plot "$tmp/sac" --out "$tmp/sac-curves.png"
head -c 8 "$tmp/sac-curves.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: SAC curves are not a PNG"; fail=1; }
expect 2 "CartPole-v1 has a Discrete action space" -- train --env CartPole-v1 --algo sac --total-steps 100 --out "$tmp/sac-cp"
expect 2 "unknown env 'Nope-v0'" -- train --env Nope-v0
expect 2 "unknown config key 'learning_rat'" -- train --env CartPole-v1 learning_rat=1
expect 2 "unknown config key 'gravity'" -- train --env CartPole-v1 env.gravity=1
# --resume: a run stopped halfway and resumed ends with the bytes of the run made straight
# (checkpoint; metrics.csv but for the wall-clock steps_per_second column); TensorBoard files
expect 0 "stopped after iteration 6 of 16" -- train --env HighwayFast-v0 --total-steps 2048 --num-envs 4 \
  --eval-episodes 2 --out "$tmp/half" --stop-after 6 num_steps=32 num_minibatches=4 norm_obs=true norm_reward=true
expect 0 "resuming HighwayFast-v0 at iteration 6 of 16" -- train --resume "$tmp/half" --eval-episodes 2
expect 0 "events.out.tfevents" -- train --env HighwayFast-v0 --total-steps 2048 --num-envs 4 \
  --eval-episodes 2 --out "$tmp/straight" num_steps=32 num_minibatches=4 norm_obs=true norm_reward=true
cmp "$tmp/half/checkpoint.ckpt" "$tmp/straight/checkpoint.ckpt" || { echo "FAIL: resumed checkpoint differs"; fail=1; }
diff <(cut -d, -f1-12 "$tmp/half/metrics.csv") <(cut -d, -f1-12 "$tmp/straight/metrics.csv") >/dev/null \
  && [ "$(wc -l <"$tmp/half/metrics.csv")" = 17 ] || { echo "FAIL: resumed metrics.csv differs"; fail=1; }
[ "$(ls "$tmp/half" | grep -c '^events.out.tfevents.')" = 2 ] || { echo "FAIL: no second event file"; fail=1; }
expect 0 "resuming HighwayFast-v0 at iteration 16 of 16" -- train --resume "$tmp/half" --eval-episodes 2
expect 2 "no such directory" -- train --resume "$tmp/nowhere"
[ ! -e "$tmp/nowhere" ] || { echo "FAIL: --resume of a missing directory created it"; fail=1; }
mkdir -p "$tmp/foreign" && echo hello >"$tmp/foreign/notes.txt"
expect 2 "holds no checkpoint.ckpt" -- train --resume "$tmp/foreign"
[ "$(ls "$tmp/foreign")" = notes.txt ] || { echo "FAIL: --resume of a foreign directory wrote into it"; fail=1; }
cp "$tmp/cp/metrics.csv" "$tmp/foreign/checkpoint.ckpt"
expect 2 "not a Convoy checkpoint" -- train --resume "$tmp/foreign"
expect 2 "takes every setting from the checkpoint" -- train --resume "$tmp/half" --total-steps 64
expect 2 "trains HighwayFast-v0" -- train --resume "$tmp/half" --env CartPole-v1
# SAC resumes the same way (replay buffer, three Adam groups, counters in the checkpoint);
# the checkpoint says its algorithm, so --resume needs no --algo
expect 0 "stopped after iteration 37 of 100" -- train --env Pendulum-v1 --algo sac --total-steps 3000 \
  --eval-episodes 2 --out "$tmp/sac-half" --stop-after 37 learning_starts=1000
expect 0 "resuming Pendulum-v1 at iteration 37 of 100" -- train --resume "$tmp/sac-half" --eval-episodes 2
expect 0 "events.out.tfevents" -- train --env Pendulum-v1 --algo sac --total-steps 3000 \
  --eval-episodes 2 --out "$tmp/sac-straight" learning_starts=1000
cmp "$tmp/sac-half/checkpoint.ckpt" "$tmp/sac-straight/checkpoint.ckpt" || { echo "FAIL: resumed SAC checkpoint differs"; fail=1; }
diff <(cut -d, -f1-15 "$tmp/sac-half/metrics.csv") <(cut -d, -f1-15 "$tmp/sac-straight/metrics.csv") >/dev/null \
  && [ "$(wc -l <"$tmp/sac-half/metrics.csv")" = 101 ] || { echo "FAIL: resumed SAC metrics.csv differs"; fail=1; }
[ "$(ls "$tmp/sac-half" | grep -c '^events.out.tfevents.')" = 2 ] || { echo "FAIL: no second SAC event file"; fail=1; }
expect 2 "holds a sac run; allowed: ppo" -- train --resume "$tmp/sac-half" --algo ppo
expect 2 "env is required" -- train
# the learners' settings, listed from their one declaration
expect 0 "clip_coef=0.2" -- train --help
expect 0 "policy_frequency=2" -- train --help
expect 0 "wrote" -- render --env Highway-v0 --policy baseline --steps 3 --out "$tmp/hw.png"
expect 0 "wrote" -- render --env HighwayFast-v0 --steps 4 --out "$tmp/hw.gif"
expect 0 "wrote" -- render --env CartPole-v1 --steps 4 --out "$tmp/cp.png"
expect 0 "wrote" -- render --env Intersection-v0 --steps 3 --out "$tmp/ix.png"
expect 0 "wrote" -- render --env Intersection-v0 --policy baseline --steps 3 --out "$tmp/ix4.png" agents_per_env=4
expect 0 "wrote" -- render --env Intersection-v0 --steps 4 --out "$tmp/ix.gif" agents_per_env=2
expect 0 "wrote" -- render --env Intersection-v0 --policy baseline --steps 4 --out "$tmp/ixb.gif" agents_per_env=3 destination=random
expect 2 "agents_per_env=5" -- render --env Intersection-v0 --out "$tmp/x.png" agents_per_env=5
expect 0 "wrote" -- render --env Racetrack-v0 --policy baseline --steps 3 --out "$tmp/rt.png"
expect 0 "wrote" -- render --env Racetrack-v0 --policy random --steps 3 --out "$tmp/rt_random.png"
expect 0 "wrote" -- render --env Racetrack-v0 --policy baseline --steps 4 --out "$tmp/rt.gif" other_vehicles=3
expect 0 "wrote" -- render --env Racetrack-v0 --policy random --steps 4 --out "$tmp/rt_random.gif" action=accel_steer
for f in rt.gif rt_random.gif ix.gif ixb.gif; do
  head -c 6 "$tmp/$f" | grep -q "GIF89a" || { echo "FAIL: $f is not a GIF89a"; fail=1; }
done
expect 2 "other_vehicles=99" -- render --env Racetrack-v0 --out "$tmp/x.png" other_vehicles=99
expect 0 "wrote" -- render --env Merge-v0 --policy baseline --steps 6 --out "$tmp/mg.png"
expect 0 "wrote" -- render --env Merge-v0 --steps 4 --out "$tmp/mg.gif"
# PointNav-v0 (the example env, docs/new-env.md): its drawing registers itself
expect 0 "wrote" -- render --env PointNav-v0 --steps 10 --out "$tmp/pn.png" goal_radius=0.3
expect 0 "wrote" -- render --env PointNav-v0 --steps 4 --out "$tmp/pn.gif"
for f in hw.png cp.png mg.png rt.png rt_random.png ix.png ix4.png pn.png; do
  head -c 8 "$tmp/$f" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: $f is not a PNG"; fail=1; }
done
for f in hw.gif mg.gif pn.gif; do
  head -c 6 "$tmp/$f" | grep -q "GIF89a" || { echo "FAIL: $f is not a GIF89a"; fail=1; }
done
# Parking-v0 and DiffDriveNav-v0: pictures with both policies, and success/collision rates
for env in Parking-v0 DiffDriveNav-v0; do
  for policy in random baseline; do
    expect 0 "wrote" -- render --env $env --policy $policy --seed 3 --steps 20 --out "$tmp/$env-$policy.png"
    expect 0 "wrote" -- render --env $env --policy $policy --seed 3 --steps 6 --out "$tmp/$env-$policy.gif"
    head -c 8 "$tmp/$env-$policy.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "FAIL: $env-$policy.png is not a PNG"; fail=1; }
    head -c 6 "$tmp/$env-$policy.gif" | grep -q "GIF89a" || { echo "FAIL: $env-$policy.gif is not a GIF89a"; fail=1; }
  done
done
expect 0 "wrote" -- render --env Parking-v0 --policy baseline --steps 5 --out "$tmp/pk.png" vehicles=20 length_low=4 length_high=6
expect 2 "obstacles_max=1" -- render --env DiffDriveNav-v0 --out "$tmp/x.png" obstacles_min=3 obstacles_max=1
expect 0 "success, collisions" -- train --env DiffDriveNav-v0 --num-envs 8 --total-steps 1024 --eval-episodes 20 --out "$tmp/dd"
python3 - "$tmp/dd/summary.json" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1]))
ok = s["baseline_success_rate"] > 0.5 > s["random_success_rate"] and s["collision_rate"] is not None
print("ok: DiffDriveNav-v0 success rates in the summary" if ok else f"FAIL: summary {s}")
sys.exit(0 if ok else 1)
PY
expect 0 '"success_rate": null' -- eval --checkpoint "$tmp/cp/checkpoint.ckpt" --episodes 3 --json
expect 2 "allowed: a path ending in .png or .gif" -- render --env HighwayFast-v0 --out "$tmp/x.jpg"
expect 2 "has no drawing yet" -- render --env Acrobot-v1 --out "$tmp/x.png"
expect 2 "no scripted baseline" -- render --env CartPole-v1 --policy baseline --out "$tmp/x.png"
if ! "$convoy" bench --env CartPole-v1 --num-envs 4 --steps 1 --device cuda >/dev/null 2>&1; then
  expect 2 "not usable" -- bench --env CartPole-v1 --num-envs 4 --steps 1 --device cuda
  # PPO takes cuda now: without a usable GPU the device's own error, before any file
  expect 2 "not usable" -- train --env CartPole-v1 --device cuda --out "$tmp/gpu"
  [ ! -e "$tmp/gpu" ] || { echo "FAIL: train --device cuda without a GPU wrote $tmp/gpu"; fail=1; }
  # and so does SAC
  expect 2 "not usable" -- train --env Pendulum-v1 --algo sac --device cuda --out "$tmp/gpu-sac"
  [ ! -e "$tmp/gpu-sac" ] || { echo "FAIL: train --algo sac --device cuda without a GPU wrote $tmp/gpu-sac"; fail=1; }
  # eval too: the device's error (checked before the checkpoint is read), one line, exit 2;
  # auto falls back to the CPU and says so
  expect 2 "device 'cuda:0' is not usable" -- eval --checkpoint "$tmp/cp/checkpoint.ckpt" --device cuda
  expect 2 "device 'cuda:1' is not usable" -- eval --checkpoint "$tmp/nowhere.ckpt" --device cuda:1
  expect 0 '"device": "cpu"' -- eval --checkpoint "$tmp/cp/checkpoint.ckpt" --episodes 2 --device auto --json
else
  # with a GPU: short PPO and SAC runs on it
  expect 0 "PPO" -- train --env CartPole-v1 --device cuda --total-steps 2048 --eval-episodes 2 --out "$tmp/gpu"
  expect 0 "with SAC on cuda" -- train --env Pendulum-v1 --algo sac --device cuda --total-steps 1500 --eval-episodes 2 --out "$tmp/gpu-sac"
  # and evaluations on it (both learners' forward on the GPU)
  expect 0 '"device": "cuda:0"' -- eval --checkpoint "$tmp/cp/checkpoint.ckpt" --episodes 5 --device cuda --json
  expect 0 "evaluated on cuda:0" -- eval --checkpoint "$tmp/hw/checkpoint.ckpt" --episodes 3 --device auto
  expect 0 '"device": "cuda:0"' -- eval --checkpoint "$tmp/sac/checkpoint.ckpt" --episodes 3 --device cuda:0 --json
fi
exit $fail
