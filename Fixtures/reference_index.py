#!/usr/bin/env python3
"""Independent reference implementation of the @cotar/builder v2 hash index.

Stdlib only. Two modes:

  reference_index.py ARCHIVE.tar [-o OUT.index] [--packing 25] [--max-search 50]
      Build the index of one tar and write it (default: ARCHIVE.tar.index).

  reference_index.py --fixtures DIR
      (Re)generate DIR/*.index, the DIR/*.co files and DIR/manifest.json for the
      fixture archives listed in FIXTURES below (make_fixtures.sh calls this).

Index algorithm (must match @cotar/builder exactly):
  * entries come from Python tarfile (PAX path/size, GNU 'L'/'K', ustar prefix);
    regular files (isreg(): '0', NUL, '7') and hard links ('1') are indexed; hard
    links take the data offset/size of the latest earlier occurrence of their
    target path (error if none). Directories, symlinks, devices, FIFOs and sparse
    files (GNU 'S' or PAX GNU.sparse.*) are skipped. A path seen twice: the
    LAST occurrence wins.
  * hash = FNV-1a 64 of the raw path bytes.
  * slotCount = ceil(len(files) * (1 + packing/100)); start = hash % slotCount;
    sort by (start, dataOffset, hash); linear probing, error after maxSearch probes.
  * record = u64le hash, u32le dataOffset/512, u32le size;
    output = b'COT\\x02' + u32le slotCount, records, same 8 bytes again.

On top of tarfile (which is lenient: it silently stops at a bad checksum or a
truncated header in the middle of an archive) a strict raw scan classifies broken
archives as: truncated, checksum, garbage, pax, hardlink, empty (see scan()).
"""
import argparse
import base64
import hashlib
import json
import math
import os
import re
import struct
import sys
import tarfile

BLOCK = 512
ZERO_BLOCK = b"\0" * BLOCK
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------
def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for c in data:
        h ^= c
        h = (h * FNV_PRIME) & MASK64
    return h


class IndexError_(Exception):
    pass


def header_bytes(slot_count: int) -> bytes:
    return b"COT" + bytes([2]) + struct.pack("<I", slot_count)


def build_index(files, packing=25, max_search=50) -> bytes:
    """files: list of (hash, data_offset, size)."""
    packing_factor = 1 + packing / 100          # IEEE double, as in JavaScript
    slot_count = math.ceil(len(files) * packing_factor)
    table = [None] * slot_count
    if slot_count:
        order = sorted(files, key=lambda f: (f[0] % slot_count, f[1], f[0]))
    else:
        order = []
    for h, off, size in order:
        i = h % slot_count
        search = 0
        while True:
            if table[i] is None:
                table[i] = (h, off, size)
                break
            search += 1
            i = (i + 1) % slot_count
            if search > max_search:
                raise IndexError_("max_search: no free slot within %d probes" % max_search)
    out = bytearray(header_bytes(slot_count))
    for rec in table:
        if rec is None:
            out += b"\0" * 16
        else:
            h, off, size = rec
            out += struct.pack("<QII", h, off // BLOCK, size)
    out += header_bytes(slot_count)
    return bytes(out)


def lookup(index: bytes, path: bytes, max_search=50):
    """Reader side: (data_offset, size) for path, or None. Probes linearly from
    hash % slotCount until the hash matches or an empty slot is reached."""
    assert index[:4] == b"COT\x02" and index[-8:] == index[:8]
    slots = struct.unpack("<I", index[4:8])[0]
    assert len(index) == 16 + 16 * slots
    if slots == 0:
        return None
    h = fnv1a64(path)
    i = h % slots
    for _ in range(max_search + 1):
        rh, off, size = struct.unpack_from("<QII", index, 8 + 16 * i)
        if rh == h:
            return off * BLOCK, size
        if rh == 0:
            return None
        i = (i + 1) % slots
    return None


def self_test():
    assert fnv1a64(b"tiles/0/0/0.pbf.gz") == 0xA7B488B45B076326
    files = [(fnv1a64(b"tiles/0/0/0.pbf.gz"), 0, 1),
             (fnv1a64(b"tiles/1/1/1.pbf.gz"), 512, 4),
             (fnv1a64(b"tiles/1/1/2.pbf.gz"), 1024, 8)]
    table = bytearray(16 * 4)
    for h, off, size in files:
        s = h % 4
        assert table[s * 16:(s + 1) * 16] == b"\0" * 16
        table[s * 16:(s + 1) * 16] = struct.pack("<QII", h, off // BLOCK, size)
    direct = header_bytes(4) + bytes(table) + header_bytes(4)
    expected = base64.b64decode(
        "Q09UAgQAAAB0wPmDP22WfQIAAAAIAAAAAAAAAAAAAAAAAAAAAAAAACZjB1u0iLSnAAAAAAEAAAC/I5YiYFMq"
        "NwEAAAAEAAAAQ09UAgQAAAA=")
    assert direct == expected, "self-test: direct table mismatch"
    # the general builder gives 4 slots for 3 files and must agree
    assert math.ceil(3 * (1 + 25 / 100)) == 4
    assert build_index(files) == expected, "self-test: build_index mismatch"
    assert build_index([]) == header_bytes(0) * 2


# ---------------------------------------------------------------------------
# Strict raw scan (error classification)
# ---------------------------------------------------------------------------
class TarError(Exception):
    def __init__(self, kind, offset, msg=""):
        super().__init__("%s at %s%s" % (kind, offset, (": " + msg) if msg else ""))
        self.kind = kind
        self.offset = offset


def _nts(b):
    return b.split(b"\0", 1)[0]


def parse_number(field: bytes) -> int:
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    if field[:1] == b"\xff":
        raise ValueError("negative base-256 number")
    s = _nts(field).strip(b" ")
    return int(s, 8) if s else 0


def padded(n):
    return -(-n // BLOCK) * BLOCK


def parse_pax(buf: bytes):
    """Strict PAX record parser: 'LEN key=value\\n' records filling the block."""
    recs, pos = {}, 0
    while pos < len(buf):
        if buf[pos:].strip(b"\0") == b"":
            break
        m = re.match(rb"([0-9]+) ", buf[pos:])
        if not m:
            raise ValueError("no length at %d" % pos)
        length = int(m.group(1))
        if length < len(m.group(0)) + 2 or pos + length > len(buf):
            raise ValueError("bad record length %d at %d" % (length, pos))
        rec = buf[pos + len(m.group(0)):pos + length]
        if not rec.endswith(b"\n") or b"=" not in rec:
            raise ValueError("malformed record at %d" % pos)
        k, v = rec[:-1].split(b"=", 1)
        recs[k] = v
        pos += length
    return recs


NO_DATA_TYPES = (b"1", b"2", b"3", b"4", b"5", b"6")


def scan(data: bytes):
    """Walk the raw header blocks. Returns [(entry_offset, data_offset, type)] for
    every real (non-meta) entry, or raises TarError(kind, offset) where kind is
    truncated | checksum | garbage | pax | header | empty. EOF exactly at a header
    boundary, and a zero block, both end the archive."""
    n, o = len(data), 0
    if n == 0:
        raise TarError("empty", 0, "a 0-byte file is not a tar")
    entries = []
    pending, meta_start = {}, None
    while o < n:
        if n - o < BLOCK:
            raise TarError("truncated", o, "partial header block")
        blk = data[o:o + BLOCK]
        if blk == ZERO_BLOCK:
            break
        try:
            stored = parse_number(blk[148:156])
        except ValueError:
            stored = -1
        unsigned = sum(blk[:148]) + 8 * 32 + sum(blk[156:])
        signed = sum(c - 256 if c > 127 else c for c in blk[:148] + blk[156:]) + 8 * 32
        if stored not in (unsigned, signed):
            raise TarError("garbage" if o == 0 else "checksum", o)
        try:
            size = parse_number(blk[124:136])
        except ValueError:
            raise TarError("header", o, "bad size field")
        typ = blk[156:157]
        if typ in (b"x", b"g", b"L", b"K"):
            if meta_start is None:
                meta_start = o
            end = o + BLOCK + padded(size)
            if end > n:
                raise TarError("truncated", o, "meta header data")
            body = data[o + BLOCK:o + BLOCK + size]
            if typ in (b"x", b"g"):
                try:
                    recs = parse_pax(body)
                except ValueError as e:
                    raise TarError("pax", o, str(e))
                if typ == b"x":
                    pending.update(recs)
                elif meta_start == o:
                    meta_start = None       # a global header is not part of an entry
            o = end
            continue
        if b"size" in pending:
            try:
                size = int(pending[b"size"])
            except ValueError:
                raise TarError("pax", meta_start, "bad size record")
        start = meta_start if meta_start is not None else o
        o += BLOCK
        if typ == b"S" and blk[482]:                # old GNU sparse extension blocks
            while True:
                if o + BLOCK > n:
                    raise TarError("truncated", o, "sparse extension")
                ext = data[o:o + BLOCK]
                o += BLOCK
                if not ext[504]:
                    break
        data_off = o
        if typ not in NO_DATA_TYPES:
            if o + padded(size) > n:
                raise TarError("truncated", start, "entry data")
            o += padded(size)
        entries.append((start, data_off, typ))
        pending, meta_start = {}, None
    if meta_start is not None:
        raise TarError("truncated", meta_start, "meta header without entry")
    return entries


# ---------------------------------------------------------------------------
# Entries via tarfile
# ---------------------------------------------------------------------------
def path_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def read_entries(path):
    """Returns (indexed, skipped) where indexed is an ordered list of dicts (one
    per unique path, archive order of the winning occurrence)."""
    if os.path.getsize(path) == 0:
        return [], 0, []
    latest = {}          # path bytes -> (offset, size) of latest indexed occurrence
    winners = {}         # path bytes -> entry dict (insertion order = winner order)
    skipped = 0
    with tarfile.open(path, "r:", encoding="utf-8", errors="surrogateescape") as tf:
        members = tf.getmembers()
    for m in members:
        name = path_bytes(m.name)
        if m.issparse():
            skipped += 1
            continue
        if m.isreg():
            e = dict(path=name, kind="file", offset=m.offset_data, size=m.size,
                     header=m.offset)
        elif m.islnk():
            target = path_bytes(m.linkname)
            if target not in latest:
                raise TarError("hardlink", m.offset, "unknown target %r" % target)
            off, size = latest[target]
            e = dict(path=name, kind="hardlink", offset=off, size=size, target=target,
                     header=m.offset)
        else:
            skipped += 1
            continue
        latest[name] = (e["offset"], e["size"])
        winners.pop(name, None)
        winners[name] = e
    return list(winners.values()), skipped, members


def index_archive(path, packing=25, max_search=50):
    data = open(path, "rb").read()
    raw = scan(data)
    if not data:
        return data, [], 0, build_index([], packing, max_search)
    entries, skipped, members = read_entries(path)
    # cross-check the raw scan against tarfile: same entries at the same offsets
    # (sparse members excluded: tarfile's offset_data skips the PAX 1.0 sparse map)
    sparse_starts = {m.offset for m in members if m.issparse()}
    raw_pos = [(s, d) for (s, d, _) in raw if s not in sparse_starts]
    tf_pos = [(m.offset, m.offset_data) for m in members if not m.issparse()]
    assert raw_pos == tf_pos, "raw scan and tarfile disagree in %s: %r vs %r" % (
        path, raw_pos, tf_pos)
    files = [(fnv1a64(e["path"]), e["offset"], e["size"]) for e in entries]
    return data, entries, skipped, build_index(files, packing, max_search)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
GNU = "GNU tar 1.34"
BSD = "bsdtar 3.6.2 (libarchive)"
PY = "Python tarfile"
HAND = "hand-built (Python, raw 512-byte blocks)"

# name: producer, co (write .co), absent paths, expected error (None = valid),
#       index_error (valid tar whose index cannot be built with default options)
FIXTURES = {
    "gnu-basic.tar": dict(producer=GNU + " --format=gnu", co=True,
                          absent=["dir", "dir/", "dir/sub", "link-to-hello", "./empty.txt",
                                  "hello.txt", "/empty.txt"]),
    "gnu-dotslash.tar": dict(producer=GNU + " --format=gnu -C tree . (./ prefixed names)",
                             co=True,
                             absent=["empty.txt", "dir/hello.txt", ".", "./", "./dir", "./dir/",
                                     "./link-to-hello"]),
    "gnu-longname.tar": dict(producer=GNU + " --format=gnu (././@LongLink L and K)",
                             absent=["long", "long/", "long/symlink-long-target", "././@LongLink"]),
    "gnu-posix.tar": dict(producer=GNU + " --format=posix (PAX)",
                          absent=["./données", "./données/", "./symlink-été", "données/été.txt",
                                  "./PaxHeaders/zz-hardlink-été.txt"]),
    "gnu-ustar.tar": dict(producer=GNU + " --format=ustar (155-byte prefix)",
                          absent=["file-in-prefixed-dir.txt"]),
    "gnu-v7.tar": dict(producer=GNU + " --format=v7",
                       absent=["dir", "dir/", "symlink"]),
    "bsdtar-pax.tar": dict(producer=BSD + " --format=pax (from an mtree spec)",
                           absent=["bsd", "bsd/", "bsd/symlink", "bsd/données"]),
    "bsdtar-ustar.tar": dict(producer=BSD + " --format=ustar (from an mtree spec)",
                             absent=["bsd", "bsd/", "bsd/symlink"]),
    "bsdtar-gnutar.tar": dict(producer=BSD + " --format=gnutar (from an mtree spec)",
                              absent=["bsd", "bsd/", "bsd/symlink"]),
    "python-basic.tar": dict(producer=PY + " GNU_FORMAT", co=True,
                             absent=["pydir", "pydir/", "pydir/alpha-symlink", "alpha.txt"]),
    "python-pax.tar": dict(producer=PY + " PAX_FORMAT (global 'g' header, UTF-8, long names)",
                           absent=["paxdir", "paxdir/", "paxdir/symlink-to-long",
                                   "././@PaxHeader", "pax_global_header"]),
    "python-nonutf8.tar": dict(producer=PY + " GNU_FORMAT, errors=surrogateescape",
                               absent=["badname.txt", "bad\ufffdname.txt", "latin1-café.txt"]),
    "python-dup.tar": dict(producer=PY + " GNU_FORMAT (duplicate paths, last wins)",
                           absent=[]),
    "python-special.tar": dict(producer=PY + " USTAR_FORMAT (devices, FIFO, '7', NUL type)",
                               absent=["special", "special/", "special/null", "special/loop0",
                                       "special/fifo", "special/symlink"]),
    "pax-size-override.tar": dict(producer=HAND + ": PAX size and path override ustar fields",
                                  absent=["ustar-name-ignored.txt", "PaxHeader/renamed",
                                          "././@PaxHeader"]),
    "numeric-fields.tar": dict(producer=HAND + ": base-256 and unusual octal size fields",
                               absent=[]),
    "v7-handmade.tar": dict(producer=HAND + ": v7 (no magic), NUL typeflags",
                            absent=["olddir", "olddir/"]),
    "gnu-sparse.tar": dict(producer=HAND + ": old GNU sparse 'S' entry (skipped)",
                           absent=["sparse.bin"]),
    "pax-sparse.tar": dict(producer=HAND + ": GNU PAX sparse 1.0 (skipped)",
                           absent=["psparse.bin", "./GNUSparseFile.0/psparse.bin",
                                   "GNUSparseFile.0/psparse.bin"]),
    "no-eof-marker.tar": dict(producer=HAND + ": ends at a header boundary, no zero blocks",
                              absent=[]),
    "lone-zero-block.tar": dict(producer=HAND + ": a single zero block then EOF", absent=[]),
    "eof-only.tar": dict(producer=HAND + ": only the two zero blocks", absent=["", "a.txt"]),
    "empty.tar": dict(producer="0-byte file (not a tar, as GNU tar and tarfile say)", error="empty"),
    "probe-max.tar": dict(producer=PY + " USTAR_FORMAT (51 names with one start slot: 50 probes)",
                          absent=[]),
    "probe-overflow.tar": dict(producer=PY + " USTAR_FORMAT (52 names with one start slot)",
                               absent=[], index_error="max_search"),
    "truncated.tar": dict(producer="gnu-basic.tar cut inside the 2nd entry's data",
                          error="truncated"),
    "truncated-header.tar": dict(producer="gnu-basic.tar cut inside the 3rd header",
                                 error="truncated"),
    "bad-checksum.tar": dict(producer="python-basic.tar with one bit of the 2nd header flipped",
                             error="checksum"),
    "garbage.bin": dict(producer="1024 pseudo-random bytes (sha256 chain)", error="garbage"),
    "bad-pax.tar": dict(producer=HAND + ": 'x' record '99 path=x\\n' in a 10-byte header",
                        error="pax"),
    "hardlink-unknown.tar": dict(producer=HAND + ": type '1' to a path not earlier in the archive",
                                 error="hardlink"),
}


def text_or_none(b: bytes):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def run_fixtures(folder):
    manifest = []
    names_on_disk = sorted(f for f in os.listdir(folder) if f.endswith((".tar", ".bin")))
    missing = set(FIXTURES) - set(names_on_disk)
    extra = set(names_on_disk) - set(FIXTURES)
    if missing or extra:
        raise SystemExit("fixture list mismatch: missing %s, unlisted %s"
                         % (sorted(missing), sorted(extra)))
    for name in sorted(FIXTURES):
        meta = FIXTURES[name]
        path = os.path.join(folder, name)
        item = {"name": name, "producer": meta["producer"]}
        try:
            data, entries, skipped, index = index_archive(path)
            error = None
        except TarError as e:
            error = e
        except IndexError_ as e:
            error = e
        expected_error = meta.get("error")
        if isinstance(error, TarError):
            if error.kind != expected_error:
                raise SystemExit("%s: expected %r, got %s" % (name, expected_error, error))
            item.update(valid=False, error=error.kind, error_offset=error.offset)
            manifest.append(item)
            continue
        if expected_error:
            raise SystemExit("%s: expected error %r but it indexed fine" % (name, expected_error))
        if isinstance(error, IndexError_):
            if meta.get("index_error") != "max_search":
                raise SystemExit("%s: unexpected %s" % (name, error))
            data = open(path, "rb").read()
            entries, skipped, _ = read_entries(path)
            index = None
        elif meta.get("index_error"):
            raise SystemExit("%s: expected index error" % name)
        item["valid"] = True
        if index is not None:
            item["index"] = name + ".index"
            with open(os.path.join(folder, item["index"]), "wb") as f:
                f.write(index)
            item["index_sha256"] = hashlib.sha256(index).hexdigest()
            item["slots"] = struct.unpack("<I", index[4:8])[0]
        else:
            item["index"] = None
            item["index_error"] = meta["index_error"]
            item["slots"] = math.ceil(len(entries) * (1 + 25 / 100))
        item["co"] = None
        if meta.get("co"):
            item["co"] = name + ".co"
            with open(os.path.join(folder, item["co"]), "wb") as f:
                f.write(data + index)
        item["skipped"] = skipped
        out = []
        for e in entries:
            d = {"path_hex": e["path"].hex(), "path": text_or_none(e["path"]),
                 "kind": e["kind"], "offset": e["offset"], "size": e["size"],
                 "sha256": hashlib.sha256(data[e["offset"]:e["offset"] + e["size"]]).hexdigest()}
            if e["kind"] == "hardlink":
                d["target_hex"] = e["target"].hex()
                d["target"] = text_or_none(e["target"])
            out.append(d)
        item["entries"] = out
        present = {e["path"] for e in entries}
        for a in meta.get("absent", []):
            assert a.encode() not in present, "%s: absent path %r is indexed" % (name, a)
            assert index is None or lookup(index, a.encode()) is None, (name, a)
        for e in entries:
            assert index is None or lookup(index, e["path"]) == (e["offset"], e["size"]), (name, e)
        item["absent"] = meta.get("absent", [])
        manifest.append(item)
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"options": {"packing": 25, "max_search": 50, "hash": "fnv1a64"},
                   "fixtures": manifest}, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    print("reference_index: %d fixtures, manifest.json written" % len(manifest))


def main(argv=None):
    self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", nargs="?")
    ap.add_argument("-o", "--output")
    ap.add_argument("--packing", type=float, default=25)
    ap.add_argument("--max-search", type=int, default=50)
    ap.add_argument("--fixtures", metavar="DIR")
    a = ap.parse_args(argv)
    if a.fixtures:
        run_fixtures(a.fixtures)
        return 0
    if not a.archive:
        ap.error("give an archive or --fixtures DIR")
    packing = int(a.packing) if a.packing == int(a.packing) else a.packing
    try:
        _, entries, skipped, index = index_archive(a.archive, packing, a.max_search)
    except (TarError, IndexError_) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    out = a.output or a.archive + ".index"
    with open(out, "wb") as f:
        f.write(index)
    print("%s: %d entries, %d skipped, %d slots -> %s"
          % (a.archive, len(entries), skipped, struct.unpack("<I", index[4:8])[0], out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
