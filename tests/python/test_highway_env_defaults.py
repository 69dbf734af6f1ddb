"""An env that carries a highway-env name has that env's defaults: for each pair (Convoy id,
highway-env id) the defaults of every setting both have, read from highway-env itself
(gymnasium.make(...).unwrapped.config), and the spaces where they compare. What still differs
is listed in DIFFERENCES, with the reason, and in docs/envs.md ("Differences from
highway-env"); a difference not listed there fails."""

import math
import pathlib
import warnings

import pytest

import convoy

highway_env = pytest.importorskip("highway_env", reason="highway-env is not installed")
gymnasium = pytest.importorskip("gymnasium")

# (Convoy id, highway-env id)
PAIRS = [
    ("Highway-v0", "highway-v0"),
    ("HighwayFast-v0", "highway-fast-v0"),
    ("Merge-v0", "merge-v0"),
    ("Intersection-v0", "intersection-v0"),
    ("Parking-v0", "parking-v0"),
]

# Convoy's key -> how to read highway-env's value from its config (None: highway-env lacks it).
DESTINATIONS = {"right": "o3", "straight": "o2", "left": "o1"}  # from arm o0, y pointing down
KEYS = {
    "lanes": lambda c: c.get("lanes_count"),
    "vehicles": lambda c: c.get("vehicles_count"),
    "ego_spacing": lambda c: c.get("ego_spacing"),
    "vehicles_density": lambda c: c.get("vehicles_density"),
    "duration": lambda c: c.get("duration"),
    "simulation_frequency": lambda c: c.get("simulation_frequency"),
    "policy_frequency": lambda c: c.get("policy_frequency"),
    "collision_reward": lambda c: c.get("collision_reward"),
    "right_lane_reward": lambda c: c.get("right_lane_reward"),
    "high_speed_reward": lambda c: c.get("high_speed_reward"),
    "lane_change_reward": lambda c: c.get("lane_change_reward"),
    "merging_speed_reward": lambda c: c.get("merging_speed_reward"),
    "arrived_reward": lambda c: c.get("arrived_reward"),
    "success_goal_reward": lambda c: c.get("success_goal_reward"),
    "reward_speed_low": lambda c: c["reward_speed_range"][0] if "reward_speed_range" in c else None,
    "reward_speed_high": lambda c: c["reward_speed_range"][1] if "reward_speed_range" in c else None,
    "normalize_reward": lambda c: c.get("normalize_reward"),
    "offroad_terminal": lambda c: c.get("offroad_terminal"),
    "spawn_probability": lambda c: c.get("spawn_probability"),
    "initial_vehicle_count": lambda c: c.get("initial_vehicle_count"),
    "agents_per_env": lambda c: c.get("controlled_vehicles"),
    "destination": lambda c: c.get("destination"),
    "observed_vehicles": lambda c: c["observation"].get("vehicles_count"),
}
# Convoy's spelling of a value, turned into highway-env's.
CONVERT = {"destination": lambda v: DESTINATIONS.get(v, v)}
# Keys highway-env lacks where its code fixes the behaviour: merge-v0 always maps its reward to
# [0, 1] (MergeEnv._reward) and never ends an episode off the road (MergeEnv._is_terminated).
IMPLIED = {
    ("merge-v0", "normalize_reward"): True,
    ("merge-v0", "offroad_terminal"): False,
}
# Kinematics' defaults when an env's observation config leaves them out (KinematicObservation).
KINEMATICS_VEHICLES = 5

# What still differs: (Convoy id, key, Convoy value, highway-env value, reason). Keys in
# parentheses are spaces, not settings. Keep in step with docs/envs.md.
DIFFERENCES = [
    ("Highway-v0", "(observation shape)", (5, 7), (5, 5),
     "Convoy's kinematics rows carry the heading (cos_h, sin_h) too; highway-env's default "
     "features are presence, x, y, vx, vy"),
    ("HighwayFast-v0", "(observation shape)", (5, 7), (5, 5),
     "as Highway-v0"),
    ("Merge-v0", "(observation shape)", (5, 7), (5, 5),
     "as Highway-v0"),
    ("Merge-v0", "duration", 40.0, None,
     "highway-env's merge-v0 has no time limit (it ends past x = 370 m or on a crash); Convoy "
     "caps episodes at 40 s so that a stopped ego cannot run forever"),
]


def _value_equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a == b and type(a) is type(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _highway_env(he_id):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gymnasium.make(he_id)
    return env


def _convoy_spec(env_id):
    return next(s for s in convoy.list_envs() if s["id"] == env_id)


def _shape_of(space_dict):
    return tuple(space_dict.get("shape", ()))


def differences(convoy_id, he_id):
    """Every (key, Convoy value, highway-env value) the two disagree on."""
    env = _highway_env(he_id)
    config = env.unwrapped.config
    ours = convoy.env_defaults(convoy_id)
    spec = _convoy_spec(convoy_id)
    out = []
    for key, read in KEYS.items():
        if key not in ours:
            continue
        theirs = read(config)
        if key == "observed_vehicles" and theirs is None and config["observation"]["type"] == "Kinematics":
            theirs = KINEMATICS_VEHICLES
        if theirs is None:
            theirs = IMPLIED.get((he_id, key))
        mine = CONVERT.get(key, lambda v: v)(ours[key])
        if theirs is None and (he_id, key) not in IMPLIED:
            # highway-env has no such setting: a difference only where it is a listed one
            if any(d[0] == convoy_id and d[1] == key for d in DIFFERENCES):
                out.append((key, mine, None))
            continue
        if not _value_equal(mine, theirs):
            out.append((key, mine, theirs))
    # the time limit: duration x policy_frequency steps, as highway-env truncates
    if "duration" in ours and "policy_frequency" in ours and "duration" in config:
        steps = math.ceil(config["duration"] * config["policy_frequency"] - 1e-9)
        if spec["max_episode_steps"] != steps:
            out.append(("(max_episode_steps)", spec["max_episode_steps"], steps))
    # spaces: discrete meta-actions by n, boxes by shape; kinematics observations by rows x
    # features (Convoy flattens them)
    act = spec["action_space"]
    if hasattr(env.action_space, "n"):
        if act.get("n") != int(env.action_space.n):
            out.append(("(action n)", act.get("n"), int(env.action_space.n)))
    elif hasattr(env.action_space, "shape"):
        if _shape_of(act) != tuple(env.action_space.shape):
            out.append(("(action shape)", _shape_of(act), tuple(env.action_space.shape)))
    obs = env.observation_space
    if config["observation"]["type"] == "Kinematics":
        rows, features = obs.shape
        mine_rows = ours["observed_vehicles"]
        flat = math.prod(_shape_of(spec["observation_space"]))
        mine = (mine_rows, flat // mine_rows)
        if mine != (rows, features):
            out.append(("(observation shape)", mine, (rows, features)))
    elif config["observation"]["type"] == "KinematicsGoal":
        dims = sum(math.prod(obs[k].shape) for k in ("observation", "achieved_goal", "desired_goal"))
        flat = math.prod(_shape_of(spec["observation_space"]))
        if flat != dims:
            out.append(("(observation size)", flat, dims))
    env.close()
    return out


@pytest.mark.parametrize("convoy_id,he_id", PAIRS)
def test_defaults_match_highway_env_but_for_the_listed_differences(convoy_id, he_id):
    found = {(key, _norm(mine), _norm(theirs)) for key, mine, theirs in differences(convoy_id, he_id)}
    listed = {(key, _norm(mine), _norm(theirs))
              for env, key, mine, theirs, _ in DIFFERENCES if env == convoy_id}
    assert found - listed == set(), f"{convoy_id} differs from {he_id} where DIFFERENCES does not say so"
    assert listed - found == set(), f"DIFFERENCES lists for {convoy_id} what no longer differs"


def _norm(v):
    return tuple(v) if isinstance(v, (list, tuple)) else v


def test_every_difference_has_a_reason_and_is_in_the_docs():
    docs = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "envs.md").read_text()
    section = docs.split("## Differences from highway-env", 1)
    assert len(section) == 2, "docs/envs.md has no 'Differences from highway-env' section"
    rows = [line for line in section[1].splitlines() if line.startswith("|")]
    for env, key, _, _, reason in DIFFERENCES:
        assert reason
        assert any(f"| {env} |" in row and f"`{key}`" in row for row in rows), (env, key)


def test_convoy_names_the_pairs():
    ids = {s["id"] for s in convoy.list_envs()}
    assert {convoy_id for convoy_id, _ in PAIRS} <= ids
    for _, he_id in PAIRS:
        assert he_id in gymnasium.registry
