#!/usr/bin/env python3
"""Writes raw seed inputs for every fuzz target into OUT/<target>/ (stdlib only, deterministic).

Seeds come from the archives and indexes in Fixtures/ plus small hand-made cases. They are
not checked in as they are: Fuzz/make_corpus.sh minimises them with libFuzzer (-merge=1)
into Fuzz/corpus/<target>/.

    python3 Fuzz/seeds.py OUT
"""
import hashlib
import io
import json
import os
import struct
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def fixtures(suffix):
    return sorted(n for n in os.listdir(FIXTURES) if n.endswith(suffix))


def trim_tar(data):
    """Drops the record padding after the end-of-archive blocks (keeps two zero blocks)."""
    end = len(data.rstrip(b"\0"))
    end = (end + 511) // 512 * 512
    return data[: min(len(data), end + 1024)]


def member_names(data):
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            return [m.name.encode("utf-8", "surrogateescape") for m in tar.getmembers()][:8]
    except (tarfile.TarError, ValueError, EOFError):
        return []


def with_paths(body, paths):
    """The index targets' layout: body, newline-separated paths, then their byte count."""
    tail = b"\n".join(paths)[:255]
    return body + tail + bytes([len(tail)])


def pax_data(data):
    """The data of every PAX (x/g) header in a tar."""
    out = []
    pos = 0
    while pos + 512 <= len(data):
        block = data[pos : pos + 512]
        if block == b"\0" * 512:
            break
        try:
            size = int(block[124:136].strip(b"\0 ") or b"0", 8)
        except ValueError:
            break
        typeflag = block[156:157]
        if typeflag in (b"x", b"g"):
            out.append(data[pos + 512 : pos + 512 + size])
        pos += 512 + (size + 511) // 512 * 512 if typeflag not in b"123456" or typeflag == b"" else 512
    return out


def pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length += 1
    return str(length).encode() + body


def manifest(shards):
    return json.dumps(
        {
            "format": "cotar-shards",
            "version": 1,
            "lookup": "sorted-path-range",
            "path_order": "bytewise",
            "shard_size_limit": 1048576,
            "shards": shards,
        },
        indent=2,
    ).encode()


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def svarint(n):
    return uvarint(((n << 1) ^ (n >> 63)) & ((1 << 64) - 1))


def name_table(entries, block_records=64, compress=True):
    """A version-2 name table (SPEC §12): column-wise blocks, block index, trailer.

    entries: (path bytes, kind, size, data offset, mode, mtime, link bytes or None).
    """
    import zlib

    entries = sorted({e[0]: e for e in entries}.values())
    blocks, index = b"", b""
    for start in range(0, len(entries), block_records):
        chunk = entries[start:start + block_records]
        cols = [bytearray() for _ in range(8)]
        prev, pred, mt = b"", 0, [0, 0]
        for path, kind, size, offset, mode, mtime, link in chunk:
            shared = 0
            while shared < min(len(path), len(prev)) and path[shared] == prev[shared]:
                shared += 1
            cols[0] += uvarint(shared)
            cols[1] += uvarint(len(path) - shared) + path[shared:]
            cols[2].append(kind)
            if kind in (0, 3, 4):
                cols[3] += uvarint(size)
            if kind in (0, 3):
                cols[4] += svarint(offset // 512 - pred)
                pred = offset // 512 + (size + 511) // 512 + 1
            cols[5] += uvarint(mode)
            c = 1 if kind == 1 else 0
            cols[6] += svarint(mtime - mt[c])
            mt[c] = mtime
            if kind in (2, 3):
                cols[7] += uvarint(len(link)) + link
            prev = path
        crc = 0
        for col in cols:
            crc = zlib.crc32(bytes(col), crc)
        block = struct.pack("<I", crc)
        for col in cols:
            packed = zlib.compress(bytes(col), 9) if compress and col else bytes(col)
            method = 1 if compress and col and len(packed) < len(col) else 0
            stored = packed if method else bytes(col)
            block += bytes([method]) + uvarint(len(col)) + uvarint(len(stored)) + stored
        first = chunk[0][0]
        index += struct.pack("<QIII", len(blocks), len(block), len(chunk), len(first)) + first
        blocks += block
    trailer = b"COTN" + bytes([2, 0, 0, 0]) + struct.pack("<QQIII", len(entries), len(blocks), len(index),
                                                           (len(entries) + block_records - 1) // block_records,
                                                           zlib.crc32(index))
    return blocks + index + trailer + struct.pack("<I", zlib.crc32(trailer))


def name_model(entries):
    """The name_table target's build-mode records for `entries` (see Targets/name_table.swift)."""
    out = b""
    for path, kind, size, offset, mode, mtime, link in entries:
        link = link or b""
        out += bytes([kind, len(path)]) + path + struct.pack("<HH", size & 0xFFFF, (offset // 512) & 0xFFFF)
        out += bytes([mode // 7 & 0xFF, (mtime // 1000) & 0xFF, len(link)]) + link
    return out


def main():
    out = sys.argv[1]
    seeds = {}

    def add(target, data):
        seeds.setdefault(target, []).append(data)

    tars = {name: trim_tar(fixture(name)) for name in fixtures(".tar")}
    for name, data in tars.items():
        add("tar_scanner", data)
        if name.startswith("gnu-") or name in ("v7-handmade.tar", "numeric-fields.tar"):
            add("gnu_headers", data)
        for record in pax_data(data):
            add("pax_records", b"\0\0" + record)
    for key, value in [
        (b"path", b"a/very/long/path/name.txt"),
        (b"linkpath", b"target"),
        (b"size", b"12345678901"),
        (b"size", b""),
        (b"path", b""),
        (b"GNU.sparse.major", b"1"),
        (b"mtime", b"1700000000.5"),
    ]:
        add("pax_records", b"\1\0" + pax_record(key, value))
    add("pax_records", b"\0\0" + pax_record(b"path", b"x") + pax_record(b"size", b"7") + b"\0" * 20)

    for name in fixtures(".tar.index"):
        names = member_names(fixture(name[: -len(".index")]))
        add("index_reader", with_paths(b"\0\x10\0" + fixture(name), names))
        add("index_reader", with_paths(b"\2\x01\1" + fixture(name), names))
    for name in fixtures(".tar.co"):
        data = fixture(name)
        names = member_names(data)
        add("tarco_locator", with_paths(b"\0\x10\0" + data, names))
        add("tarco_locator", with_paths(b"\3\x02\1" + data, names))
        add("tarco_locator", with_paths(b"\6\x00\2" + data, names))

    for text in [b"bytes 0-99/1000", b"bytes 5-5/*", b"bytes */1234", b" bytes 1-2/3 ", b"bytes 0-100/100"]:
        add("content_range", b"\0" + text)
    add("content_range", b"\1" + struct.pack("<QQQ", 10, 20, 30) + b"\0")

    for text in [b"bytes=0-99", b"bytes=-5", b"bytes=5-", b"bytes=1-2,3-4", b"items=1-2", b" BYTES = 7 - 9 "]:
        add("range_header", struct.pack("<Q", 1000) + b"\0" + text)
    add("range_header", struct.pack("<Q", 1000) + b"\1" + b"\0" + struct.pack("<Q", 5) + b"\0" + struct.pack("<Q", 9) + b"\0")

    for text in [
        b"/v1/file/a%20b.txt",
        b"/v1/a.tar.co/file/dir/x%2E%2E",
        b"/v1/b%20c.tar/list/dir",
        b"/v1/list",
        b"/archive/b%20c.tar.index",
        b"/health",
        b"/v1/file/%00",
        b"/v1/file/caf\xc3\xa9/../%zz",
    ]:
        add("route", b"\3" + text)

    for text in [
        b"GET /v1/file/a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /v1/file/a%20b HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET /next HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.0\r\nUser-Agent: ab\r\n\r\n",
        b"GET /x HTTP/1.1\r\nRange: bytes=0-1\r\nIf-None-Match: \"a\"\r\n\r\n",
        b"GET /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        b"GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET /x HTTP/1.1\r\n folded\r\n\r\n",
        b"POST /x HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\nb\r\n\r\n",
        b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHo",
    ]:
        add("raw_request_head", text)

    digest = hashlib.sha256(b"").hexdigest()
    add(
        "shard_manifest",
        manifest(
            [
                {"name": "p-00000.tar.co", "size": 10240, "entries": 2, "members": 3, "sha256": digest,
                 "first": "a.txt", "last": "dir/b.txt"},
                {"name": "p-00001.tar", "size": 20480, "entries": 1, "members": 1, "sha256": digest,
                 "index": "p-00001.tar.index", "index_size": 48, "index_sha256": digest,
                 "first_hex": "64ff", "last_hex": "7a7a"},
            ]
        )
        + b"\0a.txt\ndir/c\nzz",
    )
    add("shard_manifest", manifest([]))
    add("shard_manifest", b'{"format":"cotar-shards","version":1,"lookup":"sorted-path-range","shard_size_limit":1,'
        b'"shards":[{"name":"\\u00e9\\ud83d\\ude00","size":1e3,"entries":-1,"sha256":"","first":"","last":"\\/"}],'
        b'"x":[true,false,null,{}]}')

    # name_table: raw tables (mode 0) and build-mode models (mode 1, with and without flips).
    sample = [
        (b"docs/", 1, 0, 0, 0o755, 1000, None),
        (b"docs/a.txt", 0, 13, 512, 0o644, 2000, None),
        (b"docs/b.txt", 0, 6, 1536, 0o644, 2000, None),
        (b"docs/hard", 3, 6, 1536, 0o644, 2000, b"docs/b.txt"),
        (b"docs/link", 2, 0, 0, 0o777, 2000, b"a.txt"),
        (b"docs/up", 2, 0, 0, 0o777, 2000, b"../../x"),
        (b"docs/loop", 2, 0, 0, 0o777, 2000, b"loop"),
        (b"docs/sub/c.txt", 0, 7, 3072, 0o644, -5000, None),
        (b"dev/null", 4, 0, 0, 0o666, 0, None),
        (b"top.txt", 0, 3, 4096, 0o600, 3000, None),
    ]
    many = [(b"tiles/%d/%d.pbf" % (i % 13, i), 0, 100 + i * 37 % 4000, 512 * (i * 7919 % 5000), 0o644, 0, None)
            for i in range(300)]
    for speculative in (0, 3, 5):
        add("name_table", bytes([speculative, 0]) + name_table(sample))
        add("name_table", bytes([speculative, 0]) + name_table(many, block_records=40))
    add("name_table", bytes([0, 0]) + name_table(sample, block_records=2, compress=False))
    add("name_table", bytes([0, 0]) + name_table([]))
    add("name_table", bytes([0, 0]) + b"\0" * 40)
    for mode in (1, 3, 5, 7, 9, 15):
        add("name_table", bytes([mode % 6, mode, 0]) + name_model(sample))
        add("name_table", bytes([mode % 6, mode, 0]) + name_model(many[:120]))
    add("name_table", bytes([1, 3, 2, 40, 0, 0xFF, 7, 0, 0x10]) + name_model(sample))

    for target, items in seeds.items():
        folder = os.path.join(out, target)
        os.makedirs(folder, exist_ok=True)
        for data in items:
            with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
