"""Fuzzing: mutated real archives never crash the engine, hang, use unbounded memory or write outside
the export folder.

The engine (seeds, mutations, plans, the worker, the runner and its checks) is :mod:`tests.fuzz`;
this is the short run of it in the test suite (deterministic, a few hundred cases, set by
``LAYERSCOPE_FUZZ_CASES``). ``benchmarks/fuzz.py`` runs the same engine for as many cases as asked.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import need_shared
from tests.fuzz import INJECT_KINDS, Runner, Seed, apply_plan, describe_failure, load_seeds, make_plan
from tests.fuzz import plain_plan as plain

SHORT_CASES = int(os.environ.get("LAYERSCOPE_FUZZ_CASES", "500"))

Fuzz = tuple[list[Seed], Runner]


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    need_shared()
    work = tmp_path_factory.mktemp("fuzz")
    seeds = load_seeds(work / "seeds")
    runner = Runner(work / "run", timeout=10.0, mem_mb=1024)
    yield seeds, runner
    runner.close()


@settings(
    max_examples=SHORT_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(case=st.integers(0, 2**32 - 1))
def test_fuzz_short_run(fuzz: Fuzz, case: int) -> None:
    """A few hundred mutated archives: every one opens and analyses, or fails with a LayerScopeError.

    Hypothesis picks the case numbers (derandomized: the same ones on every run); a case number
    seeds ``random.Random``, so that plans are spread as in the long run (hypothesis's own random
    draws favour edge values, which made most plans alike). The failure report holds the plan."""
    seeds, runner = fuzz
    plan = make_plan(random.Random(case), len(seeds))
    res = runner.run(apply_plan(plan, seeds), fork=plan["fork"])
    assert not res.failed, describe_failure(plan, seeds, res)


def test_seeds_pass_unmutated(fuzz: Fuzz) -> None:
    """The harness itself: every seed, as it is, goes through the whole engine without an error."""
    seeds, runner = fuzz
    for i in range(len(seeds)):
        plan = plain(i)
        res = runner.run(apply_plan(plan, seeds))
        assert res.outcome == "ok", describe_failure(plan, seeds, res)


def test_harness_catches_a_write_outside(fuzz: Fuzz, tmp_path: Path) -> None:
    """A case that writes next to the export folder is reported (the check is not blind)."""
    seeds, runner = fuzz
    plan = plain(0)
    runner.prepare()
    (runner.case / "stray").write_text("x")
    assert runner.check_outside(runner.case / "archive.tar") is not None
    res = runner.run(apply_plan(plan, seeds))
    assert res.outcome == "ok" and runner.check_outside(runner.case / "archive.tar") is None


@pytest.mark.parametrize("kind", range(INJECT_KINDS))
def test_every_hostile_member_kind(fuzz: Fuzz, kind: int) -> None:
    """Each kind of hostile member, spliced into a plain layer, is handled without a crash or escape."""
    seeds, runner = fuzz
    idx = next(i for i, s in enumerate(seeds) if s.name == "builder:docker-legacy-none")
    for at in (0, 1):
        plan = plain(idx, [["layer", 0, [["inject", at, kind, 7]], "same", 0]])
        res = runner.run(apply_plan(plan, seeds))
        assert not res.failed, describe_failure(plan, seeds, res)
