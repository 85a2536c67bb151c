"""Index layers: stream each once, keep lean entry records, open content lazily.

Plain (uncompressed) layers are indexed straight from the memory-mapped archive by reading headers
and skipping data arithmetically. Compressed layers are decompressed once, in parallel threads
(zlib and zstd release the GIL), and their data is read and dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import blobs
from .archive import Archive, ImageRecord, LayerDesc
from .container import Blob
from .errors import Cancelled, CorruptArchive, LayerScopeError, MissingBlob, UnsupportedFormat
from .tarindex import BufferSource, Entry, StreamSource, iter_member_data, read_entries

LayerProgress = Callable[[str, int, int], None]  # (stage text, done, total)


@dataclass(slots=True)
class LayerIndex:
    desc: LayerDesc
    entries: list[Entry]
    members: int
    metadata: list[Entry]
    uncompressed_size: int
    warnings: list[str]

    @property
    def index(self) -> int:
        return self.desc.index

    @property
    def tar_size(self) -> int:
        """Sum of the member sizes in the layer's headers (what dive calls the layer size)."""
        return sum(e.size for e in self.entries)


def _blob(archive: Archive, desc: LayerDesc) -> Blob:
    if desc.blob_name is None:
        raise MissingBlob(
            f"layer {desc.index} ({(desc.digest or '?')[:19]}) is not in the archive", archive.path
        )
    return archive.container.blob(desc.blob_name)


def layer_source(archive: Archive, desc: LayerDesc) -> BufferSource | StreamSource:
    """A source over the layer's uncompressed tar stream."""
    blob = _blob(archive, desc)
    comp = desc.compression
    if comp in (blobs.PLAIN, blobs.EMPTY):
        return BufferSource(blob.buf, release=blob.release)
    if comp in (blobs.GZIP, blobs.ZSTD):
        return StreamSource(blobs.decompressed_reader(blob.open(), comp, f"layer {desc.index}", archive.path))
    if comp == "unknown":
        raise CorruptArchive(
            f"layer {desc.index} ({(desc.digest or '?')[:19]}) is neither a tar nor gzip/zstd data",
            archive.path,
        )
    raise UnsupportedFormat(
        f"layer {desc.index} is {comp}-compressed; only gzip and zstd are supported", archive.path
    )


def index_layer(
    archive: Archive,
    desc: LayerDesc,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LayerIndex:
    """Index one layer (cached per archive). Raises MissingBlob, CorruptArchive, Cancelled."""
    cached = archive.indexes.get(desc.key)
    if isinstance(cached, LayerIndex):
        return LayerIndex(
            desc, cached.entries, cached.members, cached.metadata, cached.uncompressed_size, cached.warnings
        )
    label = f"layer {desc.index}"
    src = layer_source(archive, desc)
    total = desc.size

    def prog(done: int) -> None:
        if progress is not None:
            # for compressed layers report progress through the stored bytes when we can
            progress(min(done, total) if isinstance(src, BufferSource) else done, total)

    try:
        res = read_entries(
            src, estargz=desc.estargz, progress=prog, cancelled=cancelled, label=label, budget=archive.budget
        )
    except (CorruptArchive, UnsupportedFormat) as exc:
        if exc.path is not None:
            raise
        raise type(exc)(exc.message, archive.path) from exc
    if desc.compression == blobs.EMPTY and not res.entries:
        res.warnings.append(f"{label}: the layer blob is empty (0 bytes)")
    idx = LayerIndex(desc, res.entries, res.members, res.metadata, res.size, res.warnings)
    archive.indexes[desc.key] = idx
    return idx


def load_image(
    archive: Archive,
    image: ImageRecord,
    progress: LayerProgress | None = None,
    cancelled: Callable[[], bool] | None = None,
    workers: int = 2,
    fork: bool = False,
) -> list[LayerIndex]:
    """Index every layer of ``image``; compressed layers run in parallel threads. Progress reports bytes.

    With ``fork`` (command line only), about half of the plain layers are indexed in a forked child
    on the other core; their records come back pickled.
    """
    layers = image.layers
    if fork:
        _index_plain_in_child(archive, layers)
    total = sum(max(d.size, 1) for d in layers)
    done_per = [0] * len(layers)
    done_sum = [0]  # the running sum of done_per (summing the list each time is quadratic in layers)
    lock = threading.Lock()
    stop = threading.Event()

    def is_cancelled() -> bool:
        return stop.is_set() or (cancelled is not None and cancelled())

    def one(d: LayerDesc) -> LayerIndex:
        def prog(done: int, _tot: int) -> None:
            with lock:
                now = min(done, max(d.size, 1))
                done_sum[0] += now - done_per[d.index]
                done_per[d.index] = now
                s = done_sum[0]
            if progress is not None:
                progress(f"reading layer {d.index + 1} of {len(layers)}", s, total)

        idx = index_layer(archive, d, prog, is_cancelled)
        prog(max(d.size, 1), 0)
        return idx

    compressed = [d for d in layers if d.compression in (blobs.GZIP, blobs.ZSTD)]
    results: dict[int, LayerIndex] = {}
    if len(compressed) > 1 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futs = {d.index: pool.submit(one, d) for d in compressed}
            try:
                for d in layers:
                    if d.index not in futs:
                        results[d.index] = one(d)
                for i, f in futs.items():
                    results[i] = f.result()
            except BaseException:
                stop.set()
                for f in futs.values():
                    f.cancel()
                raise
    else:
        for d in layers:
            results[d.index] = one(d)
    return [results[d.index] for d in layers]


def _index_plain_in_child(archive: Archive, layers: list[LayerDesc]) -> None:
    """Split the plain layers not indexed yet in two by size; a child indexes one half meanwhile."""
    from .parallel import fork_call

    todo = [d for d in layers if d.compression in (blobs.PLAIN, blobs.EMPTY) and d.key not in archive.indexes]
    todo = list({d.key: d for d in todo}.values())
    if len(todo) < 2:
        return
    mine: list[LayerDesc] = []
    theirs: list[LayerDesc] = []
    load_mine = load_theirs = 0
    for d in sorted(todo, key=lambda d: -d.size):
        if load_mine <= load_theirs:
            mine.append(d)
            load_mine += d.size
        else:
            theirs.append(d)
            load_theirs += d.size * 1.25  # the records still have to be pickled and sent back

    def child() -> list[tuple[str, list[Entry], int, list[Entry], int, list[str]]]:
        out = []
        for d in theirs:
            li = index_layer(archive, d)
            out.append((d.key, li.entries, li.members, li.metadata, li.uncompressed_size, li.warnings))
        return out

    wait = fork_call(child)
    for d in mine:
        index_layer(archive, d)
    by_key = {d.key: d for d in theirs}
    for key, entries, members, metadata, size, warnings in wait():
        archive.indexes[key] = LayerIndex(by_key[key], entries, members, metadata, size, warnings)


def iter_contents(
    archive: Archive, desc: LayerDesc, entries: list[Entry]
) -> Iterator[tuple[Entry, Iterator[bytes]]]:
    """Yield (entry, chunks) for regular-file entries of one layer, in one sequential pass."""
    wanted = sorted({e.offset: e for e in entries}.values(), key=lambda e: e.offset)
    src = layer_source(archive, desc)
    yield from iter_member_data(src, wanted, label=f"layer {desc.index}", path=archive.path)


def read_content(archive: Archive, desc: LayerDesc, entry: Entry, limit: int | None = None) -> bytes:
    """The bytes of one file entry (at most ``limit`` of them). Sparse holes are filled with zeros."""
    if entry.type != "file":
        raise LayerScopeError(f"/{entry.path} is a {entry.type}, not a file", archive.path)
    want = entry.size if limit is None else min(limit, entry.size)
    parts: list[bytes] = []
    got = 0
    for _e, chunks in iter_contents(archive, desc, [entry]):
        for c in chunks:
            parts.append(c)
            got += len(c)
            if got >= want and not (entry.extra and "sparse" in entry.extra):
                break
    data = b"".join(parts)
    if entry.extra and "sparse" in entry.extra:
        try:
            data = _unsparse(data, entry.extra["sparse"], entry.size, want)  # type: ignore[arg-type]
        except CorruptArchive as exc:
            raise CorruptArchive(f"layer {desc.index}: /{entry.path}: {exc.message}", archive.path) from exc
    return data[:want]


def _unsparse(stored: bytes, smap: list[tuple[int, int]], size: int, want: int | None = None) -> bytes:
    """The first ``want`` bytes (default: all ``size``) of a sparse file: stored extents, zero holes."""
    want = size if want is None else min(want, size)
    if want > 1 << 31:
        raise CorruptArchive(f"sparse file of {size} bytes is too large to read into memory")
    out = bytearray(want)
    pos = 0
    for off, ln in smap:
        if off < 0 or ln < 0 or off + ln > size:
            raise CorruptArchive("sparse map points outside the file")
        if off < want:
            n = min(ln, want - off)
            out[off : off + n] = stored[pos : pos + n].ljust(n, b"\0")
        pos += ln
    return bytes(out)


def verify_image(
    archive: Archive,
    image: ImageRecord,
    progress: LayerProgress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[str]:
    """Check every layer's blob digest and diff_id (reads all bytes).

    Returns warnings; a mismatch never raises. Raises Cancelled.
    """
    out: list[str] = []
    total = sum(d.size for d in image.layers) or 1
    base = 0
    for d in image.layers:
        if d.blob_name is None:
            out.append(f"layer {d.index}: not in the archive; cannot verify")
            continue
        blob = _blob(archive, d)

        def prog(n: int, b: int = base, i: int = d.index, size: int = blob.size) -> None:
            if progress is not None:
                progress(f"verifying layer {i + 1} of {len(image.layers)}", b + min(n, size), total)

        if d.digest and d.digest.startswith("sha256:"):
            got, _n = blobs.sha256_stream(blob.open().read, prog, cancelled)
            if got != d.digest:
                out.append(f"layer {d.index}: blob digest is {got}, manifest says {d.digest}")
        if d.diff_id and d.diff_id.startswith("sha256:"):
            if d.compression in (blobs.PLAIN, blobs.EMPTY) and d.digest == d.diff_id:
                pass  # same bytes, checked above
            else:
                try:
                    read = blobs.decompressed_reader(
                        blob.open(), d.compression, f"layer {d.index}", archive.path
                    )
                    got, _n = blobs.sha256_stream(read, None, cancelled)
                except Cancelled:
                    raise
                except LayerScopeError as exc:
                    out.append(f"layer {d.index}: cannot verify diff_id ({exc.message})")
                    continue
                if got != d.diff_id:
                    out.append(
                        f"layer {d.index}: uncompressed digest is {got}, config diff_id says {d.diff_id}"
                    )
        base += d.size
    return out
