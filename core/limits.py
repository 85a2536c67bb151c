"""Every bound LayerScope puts on what it reads and writes, in one place.

Each is far beyond what a real image needs, so that a hostile or broken one costs bounded memory
and time and is refused (or trimmed, with a warning) in one clear line.
"""

from __future__ import annotations

# ---- tar members ----------------------------------------------------------------------------------
MAX_PATH = 16384
"""Characters in a member name or link target. Linux addresses at most 4096 bytes (PATH_MAX), so no
runtime unpacks a longer path; tar can hold one, and LayerScope keeps up to four times that (a 4096
levels deep path takes about 8 KB). Longer members are left out of the index with a warning. This
also bounds the folders one name implies (at most 8192 levels)."""
MAX_EXTENDED_HEADER = 16 << 20
"""Bytes of one PAX or GNU long-name header; a larger one is a corrupt archive."""
MAX_XATTR_BYTES = 64 << 10
"""Bytes of extended attributes kept per member (Linux's own limit per file); the rest are dropped."""
MAX_SPARSE_MAP_BYTES = 16 << 20
"""Bytes of one PAX 1.0 sparse map at the start of a member's data."""
MAX_SPARSE_EXTENSIONS = 100_000
"""Extension blocks of one old GNU sparse header."""
MAX_UNSPARSE_BYTES = 1 << 31
"""Bytes of a sparse file rebuilt in memory at once (a preview asks for far fewer)."""
AFTER_END = 16 << 20
"""Bytes of a compressed stream read after the tar's end-of-archive marker only to learn its size.
Beyond this (e.g. a gzip of zeros, which expands 1000-fold) the rest is not decompressed: the size
is reported as at least what was read, with a warning."""
SKIP_STEP = 64 << 20
"""A large member's data is skipped in steps of this size, with progress and a cancel check between."""

# ---- the index of one archive ---------------------------------------------------------------------
MAX_ENTRIES = 4_000_000
"""Entries indexed per archive, all layers together. A very large real image has about 1 million
(measured: 345 MB to index a million entries, 710 MB at the peak of the full analysis); an archive
with more is refused."""
MAX_INDEX_BYTES = 1536 << 20
"""Estimated memory of the index per archive: entries, names, link targets, xattrs, and the folders
that deep names imply (the merge creates them). The merge and the figures need about as much again.
Past it the archive is refused rather than exhausting memory: many distinct chains of deep folders
cost far more than the bytes that name them."""
MAX_WARNINGS = 20
"""Warnings of one kind kept per layer; the rest are counted in one summary line."""

# ---- archive metadata -----------------------------------------------------------------------------
MAX_JSON_BYTES = 16 << 20
"""Bytes of one manifest, index or config. Real ones are kilobytes (an index of 10,000 tags is a few
MB); parsing costs up to 25 times the size in memory."""
MAX_JSON_DEPTH = 100
"""Nesting of a JSON document (real ones nest less than 10). Deeper documents are refused, so that no
later step (repr, the GUI's JSON view, json.dump) can hit Python's recursion limit."""
MAX_JSON_COST = 1 << 30
"""Estimated memory of all the JSON documents one archive makes LayerScope parse."""
MAX_LAYERS = 10_000
"""Layers of one image. Container runtimes stop at 128 (overlayfs), so this is far beyond any image
that runs; past it the image is refused rather than making every step slow."""
MAX_MANIFESTS = 100_000
"""Manifest descriptors walked in index.json and the indexes it nests, counting repeats (a few
indexes naming each other many times would otherwise multiply)."""

# ---- decompression --------------------------------------------------------------------------------
MAX_DECOMPRESS_STEP = 4 << 20
"""Output of one decompression step: a bomb never lands in memory whole."""

# ---- export ---------------------------------------------------------------------------------------
EXPORT_PATH_MAX = 4000
"""Bytes of a path written to a folder; Linux refuses longer ones (PATH_MAX 4096): such items are skipped."""
EXPORT_NAME_MAX = 255
"""Bytes of one name written to a folder (NAME_MAX)."""
SPARSE_TAR_HOLES = 1 << 30
"""Zero bytes a tar export writes for the holes of one sparse file; a larger one is skipped."""

# ---- preview --------------------------------------------------------------------------------------
PREVIEW_TEXT_CAP = 256 * 1024
"""Bytes of a file shown as text."""
PREVIEW_HEX_CAP = 16 * 1024
"""Bytes of a file shown as a hex dump."""
PREVIEW_IMAGE_CAP = 32 * 1024 * 1024
"""Bytes of a file shown as an image."""

# ---- package databases (core/packages) ------------------------------------------------------------
MAX_PACKAGE_DB_BYTES = 256 << 20
"""Bytes of one whole package database read at once (dpkg's status, apk's installed, rpmdb.sqlite).
Real ones are a few MB (a large Fedora rpmdb.sqlite is about 60 MB); a larger one is skipped with a
warning, and the packages it would list are missing from that layer on."""
MAX_PACKAGE_FILE_BYTES = 16 << 20
"""Bytes of one per-package file (a package.json, a METADATA or RECORD, a dpkg ``.list``). Real ones
are kilobytes, the largest RECORDs and file lists about 2 MB; a larger one is skipped with a warning."""
MAX_PACKAGE_READ_BYTES = 4 << 30
"""Bytes of package metadata read for one image, all layers together: an image that rewrites a huge
database in every layer stops being re-read past this (with a warning), instead of costing hours."""
MAX_PACKAGES = 500_000
"""Packages of one database (a real distribution lists at most tens of thousands); the rest of a
database past this is left out with a warning."""
MAX_RPM_HEADER_BYTES = 64 << 20
"""Bytes of one RPM header blob in rpmdb.sqlite (real ones are up to a few MB: the file lists)."""

# ---- audit (core/audit) ---------------------------------------------------------------------------
MAX_AUDIT_FILE_BYTES = 4 << 20
"""Bytes of one file the audit scans for secrets. A text file larger than this is not scanned by
content (real configs and scripts are kilobytes; larger text is data, logs or minified code), except a
file whose name makes it a candidate (a .env, an id_rsa): only its first this many bytes are read."""
MAX_AUDIT_FINDINGS_PER_FILE = 20
"""Secrets reported per file; the rest are one warning (a file of a million assignments stays one
screen, and the scan of that file stops there)."""
MAX_AUDIT_FINDINGS = 10_000
"""Findings reported per image; past it the audit reports a warning and stops adding more."""
