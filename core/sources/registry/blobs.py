"""Blobs from a registry: streamed into the store with progress, bounded by the size the manifest
gives, verified against their digest, resumed with a Range request after an interruption.

A blob whose bytes do not hash to its digest, or that is longer than its descriptor says, is an
error and nothing of it is kept; an interrupted download (a dropped connection, a timeout, a cancel)
leaves its partial file for the next attempt to resume.
"""

from __future__ import annotations

import os
from contextlib import closing
from typing import Any

import httpx

from ...digest import split_digest
from ...errors import Cancelled
from ...progress import BytesProgress, CancelCheck, check_cancelled
from ..reference import ImageName
from .client import RegistryClient, totals
from .errors import RegistryError
from .manifests import HASHES, repo_scope
from .store import BlobFile, BlobStore, Partial

MAX_CONFIG = 16 << 20
"""Bytes of an image config (the distribution spec's bound for documents a client parses)."""
_INTERRUPTED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout, httpx.WriteError)


class _Interrupted(RegistryError):
    """The transfer stopped before the end; what arrived is kept for a resume."""


def fetch_blob(
    client: RegistryClient,
    store: BlobStore,
    name: ImageName,
    digest: str,
    size: int,
    what: str,
    *,
    limit: int | None = None,
    progress: BytesProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> BlobFile:
    """The blob ``digest`` of ``size`` bytes: from the store, else downloaded and verified.

    Raises RegistryError (too large, mismatch, unknown blob, network), AuthRequired, Cancelled."""
    parts = split_digest(digest)
    if parts is None or parts[0] not in HASHES:
        raise client.fail(f"{what}: digest {digest[:80]!r} is not one LayerScope verifies (sha256, sha512)")
    if limit is not None and size > limit:
        raise client.too_large(what, limit, size)
    found = store.lookup(digest, size)
    if found is not None:
        if progress is not None:
            progress(size)
        return found
    part = store.begin(digest)
    try:
        _download(client, store, part, name, parts[0], size, what, progress, cancelled)
    except (_Interrupted, Cancelled):
        store.keep_for_resume(part)
        raise
    except BaseException:
        store.discard(part)
        raise
    try:
        return store.commit(part, size)
    except OSError as exc:
        raise client.fail(f"{what}: cannot keep it in {store.folder} ({exc.strerror})") from exc


def _download(
    client: RegistryClient,
    store: BlobStore,
    part: Partial,
    name: ImageName,
    algorithm: str,
    size: int,
    what: str,
    progress: BytesProgress | None,
    cancelled: CancelCheck | None,
) -> None:
    """Fill ``part`` with the blob's ``size`` bytes and check their digest (resuming as needed)."""
    if part.have > size:
        store.restart(part)
    h = _hash_existing(part, algorithm)
    resumed = part.have > 0
    attempts = 0
    while True:
        if part.have < size:
            try:
                h = _transfer(client, store, part, name, algorithm, h, size, what, progress, cancelled)
            except _Interrupted:
                attempts += 1
                if attempts > client.config.resume_attempts:
                    raise
                continue
            if part.have < size:  # the body ended early without an error
                attempts += 1
                if attempts > client.config.resume_attempts:
                    got = f"{what}: the registry sent {part.have:,} of {size:,} bytes"
                    raise _Interrupted(got, client.where)
                continue
        got = f"{algorithm}:{h.hexdigest()}"
        if got == part.digest:
            return
        if resumed:  # the bytes kept from an earlier attempt may be what is wrong: once more, whole
            resumed = False
            store.restart(part)
            h = HASHES[algorithm]()
            continue
        raise client.fail(
            f"{what}: the bytes received do not match its digest ({got[:19]}…, expected "
            f"{part.digest[:19]}…); nothing was kept"
        )


def _hash_existing(part: Partial, algorithm: str) -> Any:
    """A hash over the bytes ``part`` already holds, positioned at their end."""
    h = HASHES[algorithm]()
    os.lseek(part.fd, 0, os.SEEK_SET)
    left = part.have
    while left > 0:
        b = os.read(part.fd, min(left, 1 << 20))
        if not b:
            break
        h.update(b)
        left -= len(b)
    part.have -= left
    os.ftruncate(part.fd, part.have)
    os.lseek(part.fd, part.have, os.SEEK_SET)
    return h


def _transfer(
    client: RegistryClient,
    store: BlobStore,
    part: Partial,
    name: ImageName,
    algorithm: str,
    h: Any,
    size: int,
    what: str,
    progress: BytesProgress | None,
    cancelled: CancelCheck | None,
) -> Any:
    """One request for the rest of the blob (a Range request past the bytes already held); the hash
    over what ``part`` holds after it."""
    headers = {"Range": f"bytes={part.have}-"} if part.have else {}
    resp = client.request(
        "GET",
        f"/v2/{name.repository}/blobs/{part.digest}",
        what,
        scope=repo_scope(name),
        headers=headers,
        ok=frozenset({200, 206, 416}),
    )
    with closing(resp):
        if part.have and not _continues(resp, part.have):
            store.restart(part)  # the registry sends the whole blob (or cannot resume): from the start
            h = HASHES[algorithm]()
            if resp.status_code != 200:
                return h
        elif resp.status_code == 416:
            raise client.fail(f"{what}: the registry cannot serve it (416 Range Not Satisfiable)")
        length = resp.headers.get("content-length")
        if length is not None and length.isdigit() and part.have + int(length) > size:
            raise client.fail(f"{what}: the registry sends more than the {size:,} bytes the manifest gives")
        try:
            for chunk in client.chunks(resp, what):
                if part.have + len(chunk) > size:
                    raise client.fail(
                        f"{what}: the registry sent more than the {size:,} bytes the manifest gives; "
                        "nothing was kept"
                    )
                _write_all(client, store, part.fd, chunk, what)
                h.update(chunk)
                part.have += len(chunk)
                client.counters.blob_bytes += len(chunk)
                totals.blob_bytes += len(chunk)
                if progress is not None:
                    progress(part.have)
                check_cancelled(cancelled)
        except RegistryError as exc:
            if isinstance(exc.__cause__, _INTERRUPTED):
                raise _Interrupted(exc.message, client.where) from exc
            raise
    return h


def _continues(resp: httpx.Response, offset: int) -> bool:
    """Whether a 206 answer continues at ``offset`` (``Content-Range: bytes offset-...``)."""
    if resp.status_code != 206:
        return False
    cr = str(resp.headers.get("content-range", ""))
    return cr.startswith(f"bytes {offset}-")


def _write_all(client: RegistryClient, store: BlobStore, fd: int, data: bytes, what: str) -> None:
    view = memoryview(data)
    try:
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError as exc:
        raise client.fail(f"{what}: cannot write it to {store.folder} ({exc.strerror})") from exc
