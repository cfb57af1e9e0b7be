#!/usr/bin/env python3
"""Compares two builds of one Google Benchmark binary, interleaved, and prints median ratios.

A change's cost is measured against the commit before it: build the benchmark at both commits
(e.g. a `git worktree` for the old one), then

    python3 benchmarks/ab_bench.py OLD/benchmarks/training_bench NEW/benchmarks/training_bench \
        --filter 'BM_CnnTrainStep' --threads 2 --rounds 7

Each round runs both binaries once (alternating which goes first, so that a drift in the
machine's load hits both sides alike) and records every benchmark's real time. Prints, per
benchmark, the median of each side over the rounds and new / old. Standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys


def run(binary, pattern, min_time, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                          f"--benchmark_min_time={min_time}"],
                         env=env, check=True, capture_output=True, text=True).stdout
    return {b["name"]: b["real_time"] for b in json.loads(out)["benchmarks"]
            if b.get("run_type", "iteration") == "iteration"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", help="benchmark binary built from the baseline")
    parser.add_argument("new", help="the same benchmark built from the change")
    parser.add_argument("--filter", default=".", help="--benchmark_filter regex")
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS of both sides")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per benchmark run")
    args = parser.parse_args()
    if args.rounds < 1:
        sys.exit("ab_bench: --rounds must be at least 1")

    times = {"old": {}, "new": {}}
    for r in range(args.rounds):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for side in order:
            binary = args.old if side == "old" else args.new
            for name, t in run(binary, args.filter, args.min_time, args.threads).items():
                times[side].setdefault(name, []).append(t)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"{'benchmark':40} {'old (median)':>14} {'new (median)':>14} {'new/old':>8}")
    for name in times["old"]:
        if name not in times["new"]:
            continue
        old, new = statistics.median(times["old"][name]), statistics.median(times["new"][name])
        print(f"{name:40} {old:14.4f} {new:14.4f} {new / old:8.3f}")


if __name__ == "__main__":
    main()
