"""``layerscope audit``: secrets and risky files an image ships, in every layer, with the layer that
stores each and the one that hid it; exit 1 when a finding at or above ``--fail-on`` exists."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from ..audit import AuditReport, Severity, audit, load_allow_list
from ..display import human_size, plural
from ..session import load
from ..usecases.image import open_image
from .exit import EXIT_FAILED, EXIT_OK
from .image_options import add_image_options, source_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    """IMAGE, the image choice, --fail-on, the allow-list options, --all-files and --json."""
    add_image_options(p)
    p.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=Severity.HIGH.value,
        help="exit 1 when a finding of this severity or worse exists (default: high)",
    )
    p.add_argument(
        "--audit-config",
        metavar="FILE",
        help="a .layerscope-audit allow-list (default: .layerscope-audit in the current folder, if any)",
    )
    p.add_argument(
        "--allow-rule",
        action="append",
        default=[],
        metavar="RULE",
        help="do not report this rule (repeatable)",
    )
    p.add_argument(
        "--allow-path",
        action="append",
        default=[],
        metavar="GLOB",
        help="do not report findings at these paths: * within a name, ** across folders (repeatable)",
    )
    p.add_argument(
        "--all-files",
        action="store_true",
        help="scan package trees (site-packages, node_modules, /usr/share, ...) by content too",
    )
    p.add_argument("--json", action="store_true", help="one JSON object: findings, counts, warnings")


def run(args: argparse.Namespace) -> int:
    """Audit the image and print the findings. Raises LayerScopeError (bad allow-list, unreadable image)."""
    allow = load_allow_list(args.audit_config, args.allow_rule, args.allow_path)
    threshold = Severity(args.fail_on)
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        loaded = load(archive, im, keep=False)  # kept in the cache after the output
        report = audit(loaded, allow, deep=args.all_files, second_core=True)
        if args.json:
            json.dump({"image": im.name, **report.as_json()}, sys.stdout, indent=2, ensure_ascii=False)
            print()
        else:
            sys.stdout.write(f"{archive.label} ({im.describe()}): {plural(len(im.layers), 'layer')}\n\n")
            print_report(sys.stdout, report)
        for w in report.warnings:
            print(f"warning: {w}", file=sys.stderr)
        loaded.keep_in_cache()  # the next run reads the merged tree (the output is flushed at exit)
    return EXIT_FAILED if report.at_or_above(threshold) else EXIT_OK


def print_report(out: TextIO, report: AuditReport) -> None:
    """The findings as a table, most severe first, then one line of counts."""
    for sev in reversed(Severity):
        rows = [f for f in report.findings if f.severity is sev]
        if not rows:
            continue
        out.write(f"{sev.value.upper()} ({len(rows)})\n")
        rule_w = max(len(f.rule.value) for f in rows)
        path_w = min(60, max(len(f.path or "(config)") for f in rows))
        for f in rows:
            out.write(f"  {f.rule.value:<{rule_w}}  {f.path or '(config)':<{path_w}}  {f.where()}\n")
            out.write(f"  {'':<{rule_w}}  {f.detail}\n")
        out.write("\n")
    c = report.counts
    out.write(
        f"{plural(len(report.findings), 'finding')}: {c.get(Severity.HIGH, 0)} high, "
        f"{c.get(Severity.MEDIUM, 0)} medium, {c.get(Severity.LOW, 0)} low; "
        f"{plural(report.files_read, 'file')} read ({human_size(report.bytes_read)})"
        + (f"; {report.allowed} allowed" if report.allowed else "")
        + (f"; {report.fixtures} in published test fixtures, not reported" if report.fixtures else "")
        + "\n"
    )
