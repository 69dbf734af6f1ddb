#!/usr/bin/env python3
"""One definition per launch template in a CUDA-enabled build (DESIGN.md 1, sim/parallel.h).

for_each_index / count_if_index_async have a body that depends on the compiler pass: nvcc's
launches a kernel, g++'s could only throw. If both kinds of object emit the same symbol, the
linker keeps one at random. This check fails when
  - an object compiled by g++ (per compile_commands.json) defines one of them, or
  - a linked binary holds a copy that is not nvcc's (its symbol lacks `nvcc_pass::`).

usage: check_one_definition.py BUILD_DIR [BINARY ...]
       check_one_definition.py --objects OBJ ... (each object taken as compiled by g++)
"""
import json
import os
import re
import shlex
import subprocess
import sys

LAUNCH = re.compile(r"\bconvoy::(?:\w+::)*(for_each_index|count_if_index(?:_async)?)<")


def defined_symbols(path):
    out = subprocess.run(["nm", "-C", "--defined-only", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "TtWwVv" and LAUNCH.search(parts[2]):
            yield parts[2]


def objects(build_dir):
    """(object path, compiled by nvcc) for every entry of compile_commands.json."""
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        entries = json.load(f)
    for e in entries:
        args = e.get("arguments") or shlex.split(e["command"])
        if "-o" not in args:
            continue
        obj = args[args.index("-o") + 1]
        obj = obj if os.path.isabs(obj) else os.path.join(e["directory"], obj)
        nvcc = any(os.path.basename(a).startswith("nvcc") for a in args[:3])
        if os.path.exists(obj):
            yield obj, nvcc


def main(argv):
    problems = []
    if argv[:1] == ["--objects"]:
        objs, binaries = [(o, False) for o in argv[1:]], []
    else:
        objs, binaries = list(objects(argv[0])), argv[1:]
    checked = 0
    for obj, nvcc in objs:
        checked += 1
        if nvcc:
            continue
        for sym in defined_symbols(obj):
            problems.append(f"{obj}: g++ object defines {sym[:160]}")
    for binary in binaries:
        for sym in defined_symbols(binary):
            if "nvcc_pass::" not in sym:
                problems.append(f"{binary}: linked copy is not nvcc's: {sym[:160]}")
    for p in problems:
        print(p)
    print(f"one-definition check: {checked} objects, {len(binaries)} binaries, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
