"""Export chosen items to a destination: plan them once, then write the plan to a folder or a tar."""

from __future__ import annotations

from pathlib import Path

from ..archive.records import Archive
from ..merge import ImageTree
from ..progress import CancelCheck, CountProgress
from .destination import check_destination, replacing
from .folder import write_folder
from .items import Item
from .plan import plan_export
from .result import ExportResult
from .tarball import GZIP_SUFFIXES, TAR_SUFFIXES, write_tar


def export(
    archive: Archive,
    tree: ImageTree,
    items: list[Item],
    dest: Path,
    *,
    deletes: list[str] | None = None,
    force: bool = False,
    keep_special_bits: bool = False,
    progress: CountProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> ExportResult:
    """Write ``items`` to ``dest``: a folder, or a tar when the name ends in .tar, .tar.gz or .tgz.

    ``deletes`` (a layer export) are listed in a WHITEOUTS.txt at the top. Raises ExportError
    (destination exists, disk full, ...), Cancelled; the destination is left as it was in both cases.
    """
    dest = Path(dest).absolute()
    check_destination(dest, force)
    plan = plan_export(tree, items, deletes)
    result = ExportResult(dest, skipped=list(plan.skipped), warnings=list(plan.warnings))
    if plan.deletions is not None:
        result.deletions, result.deletions_file = len(deletes or ()), plan.deletions.name
    as_tar = dest.name.endswith(TAR_SUFFIXES)
    with replacing(dest, folder=not as_tar) as tmp:
        if as_tar:
            compressed = dest.name.endswith(GZIP_SUFFIXES)
            write_tar(
                archive, plan, tmp, result, compressed=compressed, progress=progress, cancelled=cancelled
            )
        else:
            write_folder(
                archive,
                plan,
                tmp,
                result,
                keep_special_bits=keep_special_bits,
                progress=progress,
                cancelled=cancelled,
            )
    return result
