"""Open an image in a registry (``docker://REGISTRY/REPO[:TAG|@DIGEST]``) as an ``Archive``.

The manifest (the platform's, from an index) is fetched, its config and layers are downloaded into
the blob store (verified; a second open finds them there), and the OCI layout reader that reads
files reads them: the store is served as an OCI layout whose ``index.json`` names that one manifest
(with the tag as ``org.opencontainers.image.ref.name`` and the index's platform), so everything
after this step treats a registry image exactly as the same image saved to a file.

For the GUI: ``list_platforms`` for its platform picker; ``AuthRequired`` (with ``.registry``) when
it should ask for credentials and retry with ``SourceOptions.creds``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...archive.formats import ArchiveFormat
from ...archive.jsondoc import platform_of
from ...archive.mediatypes import OCI_INDEX, OCI_MANIFEST, is_layer_type
from ...archive.open import open_container
from ...archive.records import Archive
from ...digest import blob_path, is_content_digest
from ...errors import Cancelled, LayerScopeError
from ...progress import BytesProgress, CancelCheck, StageProgress, check_cancelled
from ..open import SourceOptions
from ..reference import ImageName, Reference
from .auth import Authenticator, find_credentials, parse_creds
from .blobs import MAX_CONFIG, fetch_blob
from .client import ClientConfig, RegistryClient
from .errors import AuthRequired, RegistryError
from .manifests import MAX_MANIFEST, Manifest, choose, fetch_manifest, platforms_of
from .store import BlobFile, BlobStore, RegistryContainer

__all__ = ["AuthRequired", "RegistryError", "list_platforms", "open_registry_image"]

MAX_INDEX_DEPTH = 3
"""Indexes followed inside an index (real ones nest none)."""
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True, slots=True)
class _Picked:
    """The image manifest chosen, the index entry that led to it (None for a plain manifest), and
    the indexes on the way."""

    manifest: Manifest
    entry: dict[str, Any] | None
    indexes: tuple[Manifest, ...]


def open_registry_image(
    ref: Reference,
    opts: SourceOptions,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
    *,
    config: ClientConfig | None = None,
) -> Archive:
    """The image ``ref`` names in its registry, downloaded (or found in the cache) and opened.

    Raises AuthRequired (credentials wanted or refused), RegistryError (unreachable, TLS, unknown
    tag or blob, digest mismatch, too large, timeout, rate limit, ...), any LayerScopeError the
    layout reader raises, Cancelled: always one line naming ``ref.text``."""
    name = _name(ref)
    store = BlobStore.open()
    try:
        with _session(ref, name, opts, config, store) as session:
            picked = _pick(session, name, opts.platform)
            blobs = _download(session, store, name, picked.manifest, progress, cancelled)
        container = RegistryContainer(store, _layout(name, picked), blobs)
        try:
            return open_container(container, store.folder, ArchiveFormat.REGISTRY)
        except LayerScopeError as exc:
            raise _renamed(exc, ref.text) from exc
    except BaseException:
        store.close()
        raise


def list_platforms(ref: Reference, opts: SourceOptions, *, config: ClientConfig | None = None) -> list[str]:
    """The platforms (``linux/arm64``...) the reference offers: an index's, or the one image's
    (``[]`` when its config names none). Raises what ``open_registry_image`` raises."""
    name = _name(ref)
    store = BlobStore.open()
    try:
        with _session(ref, name, opts, config, store) as session:
            top = session.manifest(name.reference, _what(name))
            if top.is_index:
                return platforms_of(top.doc)
            cfg = _config_blob(session, store, name, top, None)
            p = platform_of(_json_object(ref.text, cfg.data(), "the image config"))
            return [str(p)] if p is not None else []
    finally:
        store.close()


# ---- a session: the client, made when the first request is needed ---------------------------------


class _Session:
    """What one open talks to: the client (made lazily, so that an image found whole in the cache
    by digest needs no network) and the store's manifests."""

    def __init__(self, ref: Reference, name: ImageName, opts: SourceOptions, config: ClientConfig) -> None:
        self.ref = ref
        self.name = name
        self.opts = opts
        self.config = config
        self.store: BlobStore | None = None
        self._client: RegistryClient | None = None

    @property
    def client(self) -> RegistryClient:
        if self._client is None:
            self._client = _client(self.ref, self.name, self.opts, self.config)
        return self._client

    def manifest(self, reference: str, what: str) -> Manifest:
        """A manifest by tag (always asked for: tags move) or by digest (the store's copy if any)."""
        if self.store is not None and is_content_digest(reference):
            kept = self.store.lookup(reference, None, MAX_MANIFEST)
            if kept is not None:
                try:
                    return _manifest_from(kept.digest, kept.data())
                except ValueError:
                    pass
        m = fetch_manifest(self.client, self.name, reference, what)
        if self.store is not None:
            self.store.put(m.digest, m.raw)
        return m

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@contextmanager
def _session(
    ref: Reference, name: ImageName, opts: SourceOptions, config: ClientConfig | None, store: BlobStore
) -> Iterator[_Session]:
    s = _Session(ref, name, opts, config or ClientConfig.from_env())
    s.store = store
    try:
        yield s
    finally:
        s.close()


def _client(ref: Reference, name: ImageName, opts: SourceOptions, config: ClientConfig) -> RegistryClient:
    insecure = bool({name.registry, name.api_host} & opts.insecure)
    client = RegistryClient(
        name.api_host,
        ref.text,
        insecure=insecure,
        tls_verify=opts.tls_verify,
        config=config,
        insecure_hosts=opts.insecure,
    )
    if opts.creds is not None:
        creds = parse_creds(opts.creds)
        if creds is None:
            client.close()
            raise RegistryError("--creds must be USER:PASS", ref.text)
    else:
        creds = find_credentials(name.registry, name.repository)
    client.auth = Authenticator(name.registry, name.repository, creds)
    return client


def _manifest_from(digest: str, raw: bytes) -> Manifest:
    """A manifest kept in the store (verified when it was fetched). Raises ValueError if unusable."""
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    mt = str(doc.get("mediaType") or "")
    if not mt:
        mt = OCI_INDEX if "manifests" in doc and "layers" not in doc else OCI_MANIFEST
    return Manifest(digest, mt, raw, doc)


# ---- the steps -------------------------------------------------------------------------------------


def _name(ref: Reference) -> ImageName:
    if ref.name is None:
        raise LayerScopeError("not a registry reference", ref.text)
    return ref.name


def _what(name: ImageName) -> str:
    if name.digest:
        return f"manifest {name.digest[:19]}… of {name.repository}"
    return f"tag {name.tag or 'latest'!r} of {name.repository}"


def _pick(session: _Session, name: ImageName, platform: str | None) -> _Picked:
    """The image manifest the reference and the platform choose (through indexes)."""
    m = session.manifest(name.reference, _what(name))
    entry: dict[str, Any] | None = None
    indexes: list[Manifest] = []
    while m.is_index:
        if len(indexes) >= MAX_INDEX_DEPTH:
            deep = f"{_what(name)}: indexes nest deeper than {MAX_INDEX_DEPTH} levels"
            raise RegistryError(deep, session.ref.text)
        indexes.append(m)
        entry = choose(session.client, m.doc, platform, _what(name))
        digest = str(entry["digest"])
        plat = platforms_of({"manifests": [entry]})
        label = f"the {plat[0]} manifest" if plat else "the manifest"
        m = session.manifest(digest, f"{label} ({digest[:19]}…) of {name.repository}")
    return _Picked(m, entry, tuple(indexes))


def _descriptor(where: str, d: object, what: str) -> tuple[str, int, str]:
    """(digest, size, media type) of a descriptor. Raises RegistryError when it has none usable."""
    if not isinstance(d, dict):
        raise RegistryError(f"the manifest's {what} is not a descriptor", where)
    digest, size, mt = d.get("digest"), d.get("size"), d.get("mediaType")
    if not isinstance(digest, str) or not is_content_digest(digest) or blob_path(digest) is None:
        raise RegistryError(f"the manifest's {what} has no valid digest", where)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 1 << 50:
        raise RegistryError(f"the manifest's {what} has no valid size", where)
    return digest, size, mt if isinstance(mt, str) else ""


def _config_blob(
    session: _Session, store: BlobStore, name: ImageName, m: Manifest, cancelled: CancelCheck | None
) -> BlobFile:
    digest, size, _mt = _descriptor(session.ref.text, m.doc.get("config"), "config")
    return _blob(session, store, name, digest, size, "the image config", MAX_CONFIG, None, cancelled)


def _blob(
    session: _Session,
    store: BlobStore,
    name: ImageName,
    digest: str,
    size: int,
    what: str,
    limit: int | None,
    progress: BytesProgress | None,
    cancelled: CancelCheck | None,
) -> BlobFile:
    found = store.lookup(digest, size)
    if found is not None:
        if progress is not None:
            progress(size)
        return found
    return fetch_blob(
        session.client, store, name, digest, size, what, limit=limit, progress=progress, cancelled=cancelled
    )


def _download(
    session: _Session,
    store: BlobStore,
    name: ImageName,
    m: Manifest,
    progress: StageProgress | None,
    cancelled: CancelCheck | None,
) -> dict[str, BlobFile]:
    """The config and every layer blob of manifest ``m``, by their member names in the layout."""
    cfg_digest, cfg_size, _mt = _descriptor(session.ref.text, m.doc.get("config"), "config")
    wanted = [(cfg_digest, cfg_size, "the image config")]
    layers = m.doc.get("layers")
    if not isinstance(layers, list):
        raise RegistryError("the manifest has no 'layers' list", session.ref.text)
    for i, d in enumerate(layers):
        digest, size, mt = _descriptor(session.ref.text, d, f"layer {i}")
        if mt and (not is_layer_type(mt) or "foreign" in mt or "nondistributable" in mt):
            continue  # not pulled: the reader names it (unknown type, or a foreign layer)
        if isinstance(d, dict) and d.get("urls"):
            continue
        wanted.append((digest, size, f"layer {i} ({digest[:19]}…)"))
    total = sum(size for _d, size, _w in {w[0]: w for w in wanted}.values())
    done = 0
    out: dict[str, BlobFile] = {}
    for digest, size, what in wanted:
        member = blob_path(digest)
        assert member is not None
        if member in out:
            continue
        check_cancelled(cancelled)
        base = done

        def prog(n: int, base: int = base) -> None:
            if progress is not None:
                progress(f"downloading {name.short}", base + n, total)

        limit = MAX_CONFIG if what == "the image config" else None
        out[member] = _blob(session, store, name, digest, size, what, limit, prog, cancelled)
        done += size
    return out


def _layout(name: ImageName, picked: _Picked) -> dict[str, bytes]:
    """``oci-layout``, ``index.json`` naming the chosen manifest, and the manifests' own bytes."""
    m = picked.manifest
    desc: dict[str, Any] = {"mediaType": m.media_type, "digest": m.digest, "size": len(m.raw)}
    if picked.entry is not None and isinstance(picked.entry.get("platform"), dict):
        desc["platform"] = picked.entry["platform"]
    annotations: dict[str, str] = {}
    if picked.entry is not None and isinstance(picked.entry.get("annotations"), dict):
        annotations.update({str(k): str(v) for k, v in picked.entry["annotations"].items()})
    if name.tag:
        annotations[REF_NAME] = ImageName(name.registry, name.repository, name.tag).short
    if annotations:
        desc["annotations"] = annotations
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc]}
    docs = {
        "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        "index.json": json.dumps(index).encode(),
    }
    for doc in (*picked.indexes, m):
        member = blob_path(doc.digest)
        assert member is not None
        docs[member] = doc.raw
    return docs


def _json_object(where: str, raw: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"{what} is not valid JSON", where) from exc
    if not isinstance(doc, dict):
        raise RegistryError(f"{what} is not a JSON object", where)
    return doc


def _renamed(exc: LayerScopeError, where: str) -> LayerScopeError:
    """``exc`` naming the reference instead of the store's folder."""
    if isinstance(exc, Cancelled):
        return exc
    try:
        return type(exc)(exc.message, where)
    except TypeError:
        return LayerScopeError(exc.message, where)
