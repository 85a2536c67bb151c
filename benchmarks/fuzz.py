#!/usr/bin/env python3
"""The long fuzz run: mutated real archives through the whole engine, as many cases as asked.

usage: python benchmarks/fuzz.py [--cases N] [--seed S] [--jobs J] [--timeout SECONDS]
                                 [--mem-mb MB] [--out DIR] [--keep-per-kind K] [--progress S]
                                 [--top-messages K]
       python benchmarks/fuzz.py --replay DIR     (run one saved case again, same bounds and checks)

The engine, the mutations and the checks are those of the test suite's short run
(tests/core/test_fuzz.py), imported from the engine package tests/fuzz/ (no copies here): each
case is a plan (JSON) applied to a small archive of shared/corpus or the test-image builder, run in a
worker process with a time bound (--timeout) and an address-space bound (--mem-mb); the case folder
is checked for writes outside the export folder (as root the worker is chrooted into it). Case i of
seed S is ``random.Random(f"{S}:{i}")``, so any case can be made again from (S, i).

Progress goes to stderr; at the end a summary: outcomes by error type, time, the worker's peak
memory, the slowest cases, and every failure with its reproducer folder under --out (default
bench-out/fuzz, which git ignores): the archive as it was run, plan.json, report.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz import (  # noqa: E402
    Outcome,
    Plan,
    Runner,
    Seed,
    apply_plan,
    force_rmtree,
    load_seeds,
    make_plan,
    read_case,
    write_case,
)


def case_plan(seed: int, i: int, n_seeds: int) -> Plan:
    """Case ``i`` of run seed ``seed``: its plan, which also records (seed, i)."""
    plan = make_plan(random.Random(f"{seed}:{i}"), n_seeds)
    plan["case"] = i
    plan["run_seed"] = seed
    return plan


def message_shape(res: Outcome) -> str:
    """An accepted error's message without the file, numbers and quoted names: what kind it is."""
    msg = res.message.split(": ", 1)[-1] if res.message.startswith("/") else res.message
    msg = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", msg)
    msg = re.sub(r"sha256:[0-9a-f]+|[0-9a-f]{12,}", "<digest>", msg)
    return re.sub(r"\d+", "N", msg)[:120]


def signature(res: Outcome) -> str:
    """What makes two failures the same bug: the outcome and the last line of the traceback."""
    lines = [ln for ln in res.message.strip().splitlines() if ln.strip()]
    where = ""
    for ln in reversed(lines):
        if ln.strip().startswith("File "):
            where = ln.strip()
            break
    return f"{res.outcome} | {lines[-1][:160] if lines else ''} | {where[:160]}"


class Lane(threading.Thread):
    """One worker process and the cases it runs, taken from a shared counter."""

    def __init__(self, job: int, args: argparse.Namespace, seeds: list[Seed], shared: Shared) -> None:
        super().__init__(daemon=True)
        self.job = job
        self.args = args
        self.seeds = seeds
        self.shared = shared
        self.base = Path(tempfile.mkdtemp(prefix=f"layerscope-fuzz-{job}-"))
        self.runner = Runner(self.base, timeout=args.timeout, mem_mb=args.mem_mb)

    def run(self) -> None:
        try:
            while True:
                i = self.shared.take()
                if i is None:
                    break
                plan = case_plan(self.args.seed, i, len(self.seeds))
                try:
                    case = apply_plan(plan, self.seeds)
                except Exception:  # a harness bug: report it, do not count it as the engine's
                    self.shared.record(i, plan, Outcome("harness-error", traceback.format_exc()), None)
                    continue
                res = self.runner.run(case, fork=bool(plan["fork"]))
                self.shared.record(i, plan, res, self.runner)
        finally:
            self.runner.close()
            force_rmtree(self.base)


class Shared:
    """The case counter, the tallies and the failure folder, shared by the lanes."""

    def __init__(self, args: argparse.Namespace, seeds: list[Seed]) -> None:
        self.args = args
        self.seeds = seeds
        self.lock = threading.Lock()
        self.next = 0
        self.done = 0
        self.outcomes: Counter[str] = Counter()
        self.messages: dict[str, Counter[str]] = {}
        self.by_seed: Counter[str] = Counter()
        self.failures: dict[str, list[dict[str, object]]] = {}
        self.slowest: list[tuple[float, int, str]] = []
        self.total_engine = 0.0
        self.peak_mb = 0
        self.t0 = time.perf_counter()
        self.last_print = 0.0

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.args.cases:
                return None
            self.next += 1
            return self.next - 1

    def record(self, i: int, plan: Plan, res: Outcome, runner: Runner | None) -> None:
        with self.lock:
            self.done += 1
            self.outcomes[res.outcome] += 1
            self.total_engine += res.seconds
            self.peak_mb = max(self.peak_mb, res.maxrss_mb)
            seed_name = self.seeds[int(plan["seed"]) % len(self.seeds)].name
            self.by_seed[seed_name] += 1
            self.slowest.append((res.seconds, i, res.outcome))
            self.slowest.sort(reverse=True)
            del self.slowest[10:]
            if res.failed or res.outcome == "harness-error":
                self._keep(i, plan, res, runner, seed_name)
            elif res.outcome != "ok":
                self.messages.setdefault(res.outcome, Counter())[message_shape(res)] += 1
            now = time.perf_counter()
            if now - self.last_print >= self.args.progress or self.done == self.args.cases:
                self.last_print = now
                rate = self.done / (now - self.t0)
                bad = sum(v for k, v in self.outcomes.items() if k.startswith(("failure:", "harness")))
                eta = (self.args.cases - self.done) / rate if rate else 0
                print(
                    f"[{now - self.t0:7.0f} s] {self.done:>7}/{self.args.cases} cases, {rate:5.1f}/s, "
                    f"ok {self.outcomes['ok']}, failures {bad}, eta {eta / 60:.0f} min",
                    file=sys.stderr,
                    flush=True,
                )

    def _keep(self, i: int, plan: Plan, res: Outcome, runner: Runner | None, seed: str) -> None:
        sig = signature(res)
        kept = self.failures.setdefault(sig, [])
        entry: dict[str, object] = {"case": i, "outcome": res.outcome, "seed_archive": seed, "folder": None}
        if len(kept) < self.args.keep_per_kind:
            folder = self.args.out / f"case-{i:07d}-{res.outcome.replace(':', '-')}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            case = apply_plan(plan, self.seeds)
            written = write_case(case, folder)
            (folder / "plan.json").write_text(json.dumps(plan, indent=1) + "\n")
            (folder / "report.txt").write_text(
                f"case {i} of seed {self.args.seed}, on {seed}\noutcome: {res.outcome}\n\n{res.message}\n\n"
                f"reproduce: python benchmarks/fuzz.py --replay {folder}\n"
                f"       or: layerscope inspect {written}\n"
            )
            entry["folder"] = str(folder)
        kept.append(entry)


def replay(folder: Path, args: argparse.Namespace) -> int:
    """Run a saved case again through a worker, with the same bounds and checks; print the outcome."""
    archive = next((p for p in sorted(folder.iterdir()) if p.name.startswith("archive")), None)
    if archive is None:
        print(f"{folder}: no archive* in it", file=sys.stderr)
        return 2
    case = read_case(archive)
    base = Path(tempfile.mkdtemp(prefix="layerscope-replay-"))
    runner = Runner(base, timeout=args.timeout, mem_mb=args.mem_mb)
    try:
        res = runner.run(case)
    finally:
        runner.close()
        force_rmtree(base)
    print(f"{res.outcome} ({res.seconds:.2f} s)\n{res.message}")
    return 1 if res.failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds a case may take (default 10)")
    ap.add_argument("--mem-mb", type=int, default=1024, help="worker address space limit (default 1024)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "fuzz")
    ap.add_argument("--keep-per-kind", type=int, default=3, help="reproducers kept per distinct failure")
    ap.add_argument("--progress", type=float, default=30.0, help="seconds between progress lines")
    ap.add_argument("--top-messages", type=int, default=3, help="commonest messages shown per error type")
    ap.add_argument("--replay", type=Path, help="run one saved case folder again and exit")
    args = ap.parse_args(argv)
    if args.replay:
        return replay(args.replay, args)

    args.out.mkdir(parents=True, exist_ok=True)
    seed_dir = Path(tempfile.mkdtemp(prefix="layerscope-fuzz-seeds-"))
    seeds = load_seeds(seed_dir)
    shutil.rmtree(seed_dir)
    print(
        f"{len(seeds)} seed archives; {args.cases} cases, seed {args.seed}, {args.jobs} jobs", file=sys.stderr
    )
    shared = Shared(args, seeds)
    lanes = [Lane(j, args, seeds, shared) for j in range(args.jobs)]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()
    wall = time.perf_counter() - shared.t0

    failures = sum(v for k, v in shared.outcomes.items() if k.startswith(("failure:", "harness")))
    summary = {
        "cases": shared.done,
        "seed": args.seed,
        "jobs": args.jobs,
        "wall_seconds": round(wall, 1),
        "cases_per_second": round(shared.done / wall, 2) if wall else None,
        "engine_seconds": round(shared.total_engine, 1),
        "worker_peak_rss_mb": shared.peak_mb,
        "timeout_seconds": args.timeout,
        "memory_limit_mb": args.mem_mb,
        "outcomes": dict(shared.outcomes.most_common()),
        "messages": {k: dict(c.most_common(15)) for k, c in shared.messages.items()},
        "failures": failures,
        "distinct_failures": {sig: kept for sig, kept in shared.failures.items()},
        "slowest": [{"seconds": round(s, 2), "case": i, "outcome": o} for s, i, o in shared.slowest],
        "cases_per_seed_archive": dict(shared.by_seed.most_common()),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")

    print(f"\n{shared.done} cases in {wall / 60:.1f} min ({summary['cases_per_second']}/s, {args.jobs} jobs)")
    print(
        f"worker peak RSS {shared.peak_mb} MB (limit: {args.mem_mb} MB of address space); "
        f"timeout {args.timeout} s"
    )
    print("outcomes:")
    for k, v in shared.outcomes.most_common():
        print(f"  {k:<28} {v:>8}  {100 * v / max(shared.done, 1):5.1f} %")
        for shape, n in shared.messages.get(k, Counter()).most_common(args.top_messages):
            print(f"      {n:>7}  {shape}")
    print("slowest cases: " + ", ".join(f"#{i} {s:.1f} s ({o})" for s, i, o in shared.slowest[:5]))
    if failures:
        print(f"\n{failures} FAILURES, {len(shared.failures)} distinct:")
        for sig, kept in shared.failures.items():
            folders = [str(k["folder"]) for k in kept if k["folder"]]
            print(f"  {len(kept)} x {sig}")
            for f in folders:
                print(f"      {f}")
    else:
        print("\nno failures")
    print(f"summary: {args.out / 'summary.json'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
