"""``layerscope cache``: where the persistent cache is, how full, and emptying it."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..cache import settings
from ..cache.folder import CacheFolder, CacheInfo
from ..display import human_size
from .exit import EXIT_OK


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``info [--json]`` or ``clear``."""
    sub = p.add_subparsers(dest="action", required=True)
    info = sub.add_parser("info", help="folder, entries, total size, limit, oldest and newest use")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("clear", help="remove every cached layer index and figure set")


def _stamp(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _as_json(i: CacheInfo) -> dict[str, object]:
    return {
        "folder": str(i.folder),
        "entries": i.entries,
        "total_bytes": i.total_bytes,
        "limit_bytes": i.limit,
        "enabled": i.limit > 0,
        "oldest_use": _stamp(i.oldest_use),
        "newest_use": _stamp(i.newest_use),
    }


def run(args: argparse.Namespace) -> int:
    """Show or clear the cache folder."""
    folder = CacheFolder(settings.cache_dir(), settings.max_size())
    if args.action == "clear":
        n = folder.clear()
        print(f"removed {n} cache entr{'y' if n == 1 else 'ies'} from {folder.path}")
        return EXIT_OK
    i = folder.info()
    if args.json:
        sys.stdout.write(json.dumps(_as_json(i)) + "\n")
        return EXIT_OK
    limit = human_size(i.limit) if i.limit > 0 else f"0 (off; {settings.MAX_ENV})"
    print(f"folder:   {i.folder}")
    print(f"entries:  {i.entries}")
    print(f"size:     {human_size(i.total_bytes)} of {limit}")
    print(f"oldest:   {_stamp(i.oldest_use) or '-'}")
    print(f"newest:   {_stamp(i.newest_use) or '-'}")
    return EXIT_OK
