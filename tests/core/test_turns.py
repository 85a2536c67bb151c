"""core/turns.py: the work done in turns gives exactly what the single C call gives."""

from __future__ import annotations

import random

import pytest

from layerscope.core.turns import TURN, dict_in_turns, sorted_in_turns, update_in_turns


@pytest.mark.parametrize("n", [0, 1, TURN - 1, TURN, TURN + 1, 3 * TURN + 17])
@pytest.mark.parametrize("reverse", [False, True])
def test_sorted_in_turns_is_sorted_and_as_stable(n, reverse):
    rng = random.Random(n)
    # few distinct keys: many ties, where stability shows; the second field tells equals apart
    items = [(rng.randrange(50), i) for i in range(n)]
    got = sorted_in_turns(items, lambda t: t[0], reverse=reverse)
    assert got == sorted(items, key=lambda t: t[0], reverse=reverse)


def test_sorted_in_turns_takes_any_sequence():
    r = range(3 * TURN, 0, -1)
    assert sorted_in_turns(r, lambda i: i % 7) == sorted(r, key=lambda i: i % 7)


@pytest.mark.parametrize("n", [0, 5, TURN, 2 * TURN + 3])
def test_update_in_turns_is_update(n):
    base = {f"k{i}": i for i in range(0, 3 * n, 3)}
    more = {f"k{i}": -i for i in range(0, 2 * n, 2)}
    want = dict(base)
    want.update(more)
    update_in_turns(base, more)
    assert base == want and list(base) == list(want)


@pytest.mark.parametrize("n", [0, 1, TURN, 3 * TURN + 7])
def test_dict_in_turns_and_update_from_pairs_are_dict_and_update(n):
    pairs = [(f"k{i % (n // 2 + 1)}", i) for i in range(n)]  # repeated keys: the last value wins
    assert list(dict_in_turns(iter(pairs)).items()) == list(dict(pairs).items())
    d = {"k0": -1, "x": 0}
    want = dict(d)
    want.update(pairs)
    update_in_turns(d, iter(pairs))
    assert list(d.items()) == list(want.items())
