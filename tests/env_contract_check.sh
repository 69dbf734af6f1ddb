#!/bin/bash
# Compiles tests/env_contract/contract_env.cpp once as a keeper of the env contract and once per
# way of breaking it; each broken case must fail with the static_assert that names the member.
# Usage: env_contract_check.sh CXX SOURCE_DIR
set -u
cxx=$1
src=$2
fail=0
check() {  # check CASE EXPECTED_MESSAGE (empty: must compile)
  local out
  out=$("$cxx" -std=c++17 -fsyntax-only -I"$src" -DCONTRACT_CASE="$1" \
    "$src/tests/env_contract/contract_env.cpp" 2>&1)
  local rc=$?
  if [ -z "$2" ]; then
    if [ $rc -ne 0 ]; then
      echo "case $1: a keeper of the contract failed to compile:"
      echo "$out"
      fail=1
    fi
  elif [ $rc -eq 0 ]; then
    echo "case $1: compiled, expected: $2"
    fail=1
  elif ! grep -qF -- "$2" <<<"$out"; then
    echo "case $1: failed without the expected message: $2"
    echo "$out" | head -20
    fail=1
  fi
}
check 0 ""
check 1 "E::reset(const Params&, const View&, std::int64_t, PhiloxStream&) missing or mistyped"
check 2 "E::kHasOutcome is declared: E::outcome missing"
check 3 "E::outcome is declared without E::kHasOutcome = true"
check 4 "E::step_batch and E::step_batch_enabled(const Params&, const Device&) come together"
check 5 "E::kAchievedGoalOffset and E::kDesiredGoalOffset come together"
check 6 "E::step(const Params&, const View&, std::int64_t, Action, float* reward, bool* terminated) missing or mistyped"
[ $fail -eq 0 ] && echo "env contract check: all cases as expected"
exit $fail
