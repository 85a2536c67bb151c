"""The tar reader's parts, each on its own: header numbers, PAX records, sparse maps and content,
the member iteration (extended headers applied) and the index (names checked, whiteouts sorted).

End-to-end behaviour on real and hostile archives is in test_bounds.py and test_fuzz.py.
"""

from __future__ import annotations

import io
import tarfile

import pytest

from layerscope.core.errors import CorruptArchive
from layerscope.core.kinds import EntryType
from layerscope.core.tar.extended import Pending, parse_pax, pax_int, pax_xattrs
from layerscope.core.tar.header import PAX_GLOBAL, PAX_LOCAL, checksum_ok, number, padded
from layerscope.core.tar.index import read_entries
from layerscope.core.tar.members import Members
from layerscope.core.tar.source import BufferSource, StreamSource
from layerscope.core.tar.sparse import SparseMapError, check_map, content, extents, unsparse
from layerscope.core.tar.warnings import LayerWarnings
from tests.fuzz.tarfmt import member_bytes, pax, pax_records, raw_header

END = bytes(1024)


# ---- header ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        (b"0000644\0", 0o644),
        (b"   644 \0", 0o644),
        (b"\0\0\0\0\0\0\0\0", 0),
        (b"\x80" + bytes(6) + b"\x01", 1),  # GNU base-256
        (b"\x80" + (1 << 40).to_bytes(11, "big"), 1 << 40),
        (b"\xff" * 8, -1),  # base-256, negative
    ],
)
def test_numeric_fields(field, value):
    assert number(field) == value


def test_a_number_that_is_not_one_raises_value_error():
    with pytest.raises(ValueError):
        number(b"zz\0")


def test_checksum_and_padding():
    hdr = bytearray(member_bytes("f")[:512])
    assert checksum_ok(bytes(hdr))
    hdr[0] ^= 1
    assert not checksum_ok(bytes(hdr))
    assert [padded(n) for n in (0, 1, 512, 513)] == [0, 512, 512, 1024]


# ---- extended headers --------------------------------------------------------------------------------
def test_pax_records_keep_xattrs_as_bytes_and_numbers_tolerate_fractions():
    recs = parse_pax(pax_records([b"path=a/b", b"mtime=1.5", b"SCHILY.xattr.user.k=\xff"]), "")
    assert recs == {"path": "a/b", "mtime": "1.5", "SCHILY.xattr.user.k": b"\xff"}
    assert pax_int(recs, "mtime", 0) == 1
    assert pax_int({"mtime": "nan"}, "mtime", 7) == 7
    assert pax_xattrs(recs) == ({"user.k": b"\xff"}, 0)


@pytest.mark.parametrize("body", [b"x", b"5 a=b\n", b"99 a=b\n", b"6 ab\n"])
def test_malformed_pax_records(body):
    with pytest.raises(CorruptArchive):
        parse_pax(body, "near")


def test_pending_local_records_apply_once_global_ones_stay():
    p = Pending()
    p.add(PAX_GLOBAL, pax_records([b"uname=g", b"gname=g"]))
    p.add(PAX_LOCAL, pax_records([b"uname=local"]))
    assert p.take() == ({"uname": "local", "gname": "g"}, None, None)
    assert p.active
    assert p.take() == ({"uname": "g", "gname": "g"}, None, None)


# ---- sparse maps and content --------------------------------------------------------------------------
SMAP = ((2, 3), (8, 2))  # "abc" at 2, "de" at 8, in a file of 12 bytes
WHOLE = b"\0\0abc\0\0\0de\0\0"


def test_sparse_content_three_ways_agree():
    chunks = [b"a", b"bcd", b"e"]  # chunk boundaries inside extents
    assert list(extents(chunks, SMAP)) == [(2, b"a"), (3, b"bc"), (8, b"d"), (9, b"e")]
    assert b"".join(content(chunks, SMAP, 12)) == WHOLE
    assert unsparse(b"abcde", SMAP, 12) == WHOLE
    assert unsparse(b"abcde", SMAP, 12, want=4) == WHOLE[:4]


def test_sparse_data_cut_short_reads_as_zeros():
    assert unsparse(b"ab", SMAP, 12) == b"\0\0ab" + bytes(8)
    assert b"".join(content([b"ab"], SMAP, 12)) == b"\0\0ab" + bytes(8)


@pytest.mark.parametrize("smap", [((0, 4), (2, 2)), ((8, 2), (0, 2)), ((10, 5),), ((0, -1),)])
def test_a_map_out_of_order_or_outside_the_file_is_refused_by_every_reader(smap):
    """Export (check_map) and the preview (unsparse) refuse the same maps; the preview used to
    accept overlapping or unordered extents that export skipped."""
    with pytest.raises(SparseMapError):
        check_map(smap, 12)
    with pytest.raises(CorruptArchive):
        unsparse(b"abcdefgh", smap, 12)


def test_sparse_formats_give_one_map():
    """Old GNU (header slots), PAX 0.1 (a record) and PAX 1.0 (lines before the data) all index as
    (map, stored size, full size)."""
    gnu_slots = b"%011o\0%011o\0" % (2, 3) + b"%011o\0%011o\0" % (8, 2)
    old_gnu = raw_header(b"s", b"S", b"abcde", sparse=gnu_slots.ljust(97, b"\0") + b"%011o\0" % 12)
    pax01 = pax([b"GNU.sparse.realsize=12", b"GNU.sparse.map=2,3,8,2"], raw_header(b"s", b"0", b"abcde"))
    lines = b"2\n2\n3\n8\n2\n"
    body = lines + bytes(-len(lines) % 512) + b"abcde"
    pax10 = pax(
        [b"GNU.sparse.major=1", b"GNU.sparse.minor=0", b"GNU.sparse.name=s", b"GNU.sparse.realsize=12"],
        raw_header(b"GNUSparseFile.0/s", b"0", body),
    )
    for layer in (old_gnu, pax01, pax10):
        (e,) = read_entries(BufferSource(layer + END)).entries
        assert (e.path, e.sparse, e.stored_size, e.size) == ("s", SMAP, 5, 12)


# ---- members ------------------------------------------------------------------------------------------
def _tar(members: list[tuple[tarfile.TarInfo, bytes]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in members:
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _info(name: str, **kw: object) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
@pytest.mark.parametrize("stream", [False, True])
def test_members_come_out_with_extended_headers_applied(fmt, stream):
    long = "d/" * 80 + "f"
    data = _tar(
        [
            (_info(long, uname="u", gname="g", uid=1 << 30), b"hello"),
            (_info("l", type=tarfile.SYMTYPE, linkname="t" * 200), b""),
            (_info("c", type=tarfile.CHRTYPE, devmajor=1, devminor=3), b""),
        ],
        fmt,
    )
    src = StreamSource(io.BytesIO(data).read) if stream else BufferSource(data)
    members = Members(src, LayerWarnings("layer"))
    f, link, dev = list(members)
    assert members.clean_end
    assert (f.name, f.type, f.size, f.uid) == (long, EntryType.FILE, 5, 1 << 30)
    assert f.extra is not None and f.extra.uname == "u"
    assert data[f.offset : f.offset + 5] == b"hello"
    assert (link.type, link.link) == (EntryType.SYMLINK, "t" * 200)
    assert dev.extra is not None and (dev.extra.devmajor, dev.extra.devminor) == (1, 3)


def test_owner_names_survive_pax_headers():
    """The header's user and group names stay when PAX records do not replace them (they used to be
    dropped for every member with a PAX header: all of a GNU ``--format=posix`` tar, or one behind a
    global header as ``git archive`` writes)."""
    header = raw_header(b"f", b"0", b"", uname=b"root", gname=b"wheel")
    layer = pax([b"mtime=1.5"], header) + pax([b"uname=alice"], header)
    glob = raw_header(b"pax_global_header", b"g", pax_records([b"comment=abc"]))
    for tar in (layer, glob + header):
        owners = [e.owner_names for e in read_entries(BufferSource(tar + END)).entries]
        assert owners == [("root", "wheel"), ("alice", "wheel")][: len(owners)]


def test_data_cut_short_is_corrupt_naming_the_member():
    data = member_bytes("f", b"x" * 1000)[:1024]
    with pytest.raises(CorruptArchive, match="'f' claims 1000 bytes but the stream ends after 512"):
        list(Members(BufferSource(data), LayerWarnings("layer 3")))


# ---- the index ------------------------------------------------------------------------------------------
def test_index_sorts_whiteouts_metadata_and_unsafe_names():
    layer = b"".join(
        [
            member_bytes("./a/", type=tarfile.DIRTYPE),
            member_bytes("a/.wh..wh..opq"),
            member_bytes("a/.wh.gone"),
            member_bytes(".wh..wh.plnk"),
            member_bytes(".prefetch.landmark"),
            member_bytes("stargz.index.json", b"{}"),
            member_bytes("../escape"),
            member_bytes("h", type=tarfile.LNKTYPE, linkname="/a"),
            END,
        ]
    )
    res = read_entries(BufferSource(layer))
    assert [(e.path, e.type) for e in res.entries] == [
        ("a", EntryType.DIR),
        ("a", EntryType.OPAQUE),
        ("a/gone", EntryType.WHITEOUT),
        ("h", EntryType.HARDLINK),
    ]
    assert res.entries[-1].link == "a"
    assert [e.path for e in res.metadata] == [".wh..wh.plnk", ".prefetch.landmark", "stargz.index.json"]
    assert res.members == 8
    assert res.warnings == ["layer: '../escape' points outside the image root; ignored"]
    plain = read_entries(BufferSource(layer), overlay=False)
    assert len(plain.entries) == 7 and not plain.metadata
