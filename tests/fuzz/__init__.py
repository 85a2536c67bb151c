"""The fuzz engine: mutated real archives must never crash LayerScope's core, hang, use unbounded memory
or write outside the export folder.

A case is a small real archive (shared/corpus/real, shared/corpus/peer) or one made by the test-image
builder, changed by a random *plan*: tar header fields altered (checksum fixed or not), bytes
flipped, the file cut anywhere, JSON documents parsed and changed (keys removed, values retyped to
list/int/null/str/bool, huge numbers, deep nesting, invalid text), blobs swapped, dropped, duplicated
or turned into links, layers decompressed, damaged or given hostile members and compressed again,
the whole archive gzipped or zstd-compressed, or unpacked to a folder. The plan is plain JSON, so a
failure is reproduced from it (or from the case file the long run keeps).

Each case runs in a worker process, under a time and an address-space bound, through the whole
pipeline (open -> index -> merge -> both figure sets -> views -> export); only LayerScopeError (one
line, naming the file) is an acceptable failure, and the case folder is checked for writes outside
the export folder.

One idea per module:

* :mod:`~tests.fuzz.tarfmt` -- tar at the byte level (header fields, hand-made headers, PAX records);
* :mod:`~tests.fuzz.members` -- an archive as a list of members, and back to tar bytes;
* :mod:`~tests.fuzz.seeds` -- the seed archives;
* :mod:`~tests.fuzz.bytemut` -- byte mutations (header fields, flips, truncations, zeroed blocks);
* :mod:`~tests.fuzz.jsonmut` -- JSON mutations;
* :mod:`~tests.fuzz.hostile` -- hostile members spliced into layers;
* :mod:`~tests.fuzz.compression` -- layer (re)compression;
* :mod:`~tests.fuzz.plans` -- random plans (plain JSON);
* :mod:`~tests.fuzz.cases` -- a plan applied to a seed, written to a folder;
* :mod:`~tests.fuzz.pipeline` -- the only door into ``layerscope.core`` (fix imports there);
* :mod:`~tests.fuzz.worker` -- the child process running the pipeline;
* :mod:`~tests.fuzz.runner` -- the parent side: bounds, timeouts and the write-outside checks.

``tests/core/test_fuzz.py`` runs a short deterministic run in the test suite; ``benchmarks/fuzz.py``
runs the same engine for as many cases as asked.
"""

from __future__ import annotations

from tests.fuzz.cases import Case, apply_plan, read_case, write_case
from tests.fuzz.hostile import INJECT_KINDS, hostile_members
from tests.fuzz.members import Member, read_dir, read_tar
from tests.fuzz.plans import Plan, make_plan, plain_plan
from tests.fuzz.runner import Outcome, Runner, describe_failure, force_rmtree
from tests.fuzz.seeds import Seed, load_seeds

__all__ = [
    "INJECT_KINDS",
    "Case",
    "Member",
    "Outcome",
    "Plan",
    "Runner",
    "Seed",
    "apply_plan",
    "describe_failure",
    "force_rmtree",
    "hostile_members",
    "load_seeds",
    "make_plan",
    "plain_plan",
    "read_case",
    "read_dir",
    "read_tar",
    "write_case",
]
