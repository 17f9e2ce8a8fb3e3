#!/usr/bin/env bash
# Regenerates every tar fixture in this folder, then the expected indexes and
# manifest.json (via reference_index.py).
#
#   bash Fixtures/make_fixtures.sh            # rebuild everything
#   bash Fixtures/make_fixtures.sh --verify   # rebuild, then list every fixture
#                                             # with GNU tar, bsdtar and python tarfile
#
# Needs: GNU tar (tested with 1.34), bsdtar (libarchive-tools, tested with 3.6.2),
# python3 (>= 3.8, stdlib only). Output is byte-for-byte deterministic.
set -euo pipefail

export TZ=UTC LC_ALL=C.UTF-8
umask 022

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE"
VERIFY=0
[ "${1:-}" = "--verify" ] && VERIFY=1

GNUTAR="${GNUTAR:-tar}"
case "$("$GNUTAR" --version 2>/dev/null || true)" in
    *"GNU tar"*) ;;
    *) echo "error: '$GNUTAR' is not GNU tar (set GNUTAR=/path/to/gnu/tar)" >&2; exit 1 ;;
esac
if ! command -v bsdtar >/dev/null 2>&1; then
    echo "error: bsdtar not found; install it with: apt-get install libarchive-tools" >&2
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 not found" >&2
    exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Deterministic GNU tar invocation.
gtar() {
    "$GNUTAR" --mtime=@0 --owner=0 --group=0 --numeric-owner --sort=name "$@"
}

# Deterministic file content: N bytes of a repeated line.
filler() { # filler N TEXT
    { yes "$2" || true; } | head -c "$1"
}

# Remove every generated file (keep the hand-written ones).
find "$OUT" -maxdepth 1 -type f \
    \( -name '*.tar' -o -name '*.bin' -o -name '*.index' -o -name '*.co' -o -name manifest.json \) \
    -delete

# ---------------------------------------------------------------------------
# Input tree 1: "basic" (GNU tar gnu format, ./-prefixed variant)
# ---------------------------------------------------------------------------
B="$WORK/basic"
mkdir -p "$B/dir/sub"
printf 'Hello, cotar!\n' > "$B/dir/hello.txt"
printf 'deep\n' > "$B/dir/sub/deep.txt"
: > "$B/empty.txt"
filler 512 'exactly one block' > "$B/b512.bin"
filler 513 'one block and a byte' > "$B/b513.bin"
ln "$B/dir/hello.txt" "$B/hard-hello.txt"
ln -s dir/hello.txt "$B/link-to-hello"
chmod 755 "$B/dir" "$B/dir/sub"
chmod 644 "$B/dir/hello.txt" "$B/dir/sub/deep.txt" "$B/empty.txt" "$B/b512.bin" "$B/b513.bin"

gtar --format=gnu -C "$B" -cf "$OUT/gnu-basic.tar" \
    b512.bin b513.bin dir empty.txt hard-hello.txt link-to-hello
gtar --format=gnu -C "$B" -cf "$OUT/gnu-dotslash.tar" .

# ---------------------------------------------------------------------------
# Input tree 2: "long" (GNU long names: ././@LongLink 'L' and 'K')
# ---------------------------------------------------------------------------
L="$WORK/long"
D100="d$(printf 'a%.0s' $(seq 1 99))"            # 100-char component
LONG1="long/$D100/file-over-100.txt"                 # > 100 bytes
C100="$(printf 'x%.0s' $(seq 1 100))"
LONG2="long/$C100/$(printf 'y%.0s' $(seq 1 100))/$(printf 'z%.0s' $(seq 1 60)).txt" # > 255 bytes
mkdir -p "$L/$(dirname "$LONG1")" "$L/$(dirname "$LONG2")"
printf 'name longer than 100 bytes\n' > "$L/$LONG1"
printf 'name longer than 255 bytes\n' > "$L/$LONG2"
printf 'short\n' > "$L/long/short.txt"
# symlink whose target is > 100 bytes (GNU 'K' record)
ln -s "$LONG2" "$L/long/symlink-long-target"
# hard link whose target is > 100 bytes (GNU 'K' record, type '1')
ln "$L/$LONG2" "$L/long/zz-hardlink-to-long"
find "$L" -type d -exec chmod 755 {} +
find "$L" -type f -exec chmod 644 {} +
gtar --format=gnu -C "$L" -cf "$OUT/gnu-longname.tar" long

# ---------------------------------------------------------------------------
# Input tree 3: "utf8" (GNU tar posix/pax, ustar with prefix, v7)
# ---------------------------------------------------------------------------
U="$WORK/utf8"
mkdir -p "$U/données" "$U/日本語" "$U/$D100"
printf 'summer\n' > "$U/données/été.txt"
printf 'naive\n' > "$U/données/naïve café.txt"
printf 'konnichiwa\n' > "$U/日本語/ファイル.txt"
printf 'pax path record\n' > "$U/$D100/long-name-needs-pax-header.txt"
ln "$U/données/été.txt" "$U/zz-hardlink-été.txt"
ln -s "données/été.txt" "$U/symlink-été"
find "$U" -type d -exec chmod 755 {} +
find "$U" -type f -exec chmod 644 {} +
gtar --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$U" -cf "$OUT/gnu-posix.tar" .

S="$WORK/ustar"
PFX="prefix-$(printf 'p%.0s' $(seq 1 80))/second-level-directory"   # ~110 bytes, fits the 155-byte prefix
mkdir -p "$S/$PFX"
printf 'split across prefix and name\n' > "$S/$PFX/file-in-prefixed-dir.txt"
printf 'plain\n' > "$S/plain.txt"
ln "$S/plain.txt" "$S/plain-hardlink.txt"
find "$S" -type d -exec chmod 755 {} +
find "$S" -type f -exec chmod 644 {} +
gtar --format=ustar -C "$S" -cf "$OUT/gnu-ustar.tar" plain.txt plain-hardlink.txt "${PFX%%/*}"

V="$WORK/v7"
mkdir -p "$V/dir"
printf 'version 7\n' > "$V/dir/file.txt"
printf 'top\n' > "$V/top.txt"
ln "$V/dir/file.txt" "$V/hardlink.txt"
ln -s top.txt "$V/symlink"
chmod 755 "$V/dir"; chmod 644 "$V/dir/file.txt" "$V/top.txt"
gtar --format=v7 -C "$V" -cf "$OUT/gnu-v7.tar" dir hardlink.txt symlink top.txt

# ---------------------------------------------------------------------------
# bsdtar: driven by an mtree spec so that no atime/ctime/uid/readdir order leaks
# ---------------------------------------------------------------------------
T="$WORK/bsd"
mkdir -p "$T"
printf 'bsdtar says hi\n' > "$T/hello"
printf 'summer\n' > "$T/ete"
printf 'long\n' > "$T/long"
filler 700 'bsdtar filler' > "$T/big"
ln "$T/hello" "$T/hello-link"
BSDLONG="bsd-long-directory-name-$(printf 'q%.0s' $(seq 1 60))"
# mtree: a bare name with type=dir descends into it; '..' goes back up.
cat > "$T/spec.mtree" <<EOF
#mtree
/set uid=0 gid=0 mode=0644 time=0.0 uname=root gname=root
big.bin type=file contents=big
bsd type=dir mode=0755
donn\\303\\251es type=dir mode=0755
\\303\\251t\\303\\251.txt type=file contents=ete
..
hello.txt type=file contents=hello
hello-hardlink.txt type=file contents=hello-link
symlink type=link link=hello.txt mode=0777
$BSDLONG type=dir mode=0755
file-under-a-long-directory.txt type=file contents=long
..
..
EOF
for fmt in pax ustar gnutar; do
    (cd "$T" && bsdtar --format=$fmt -cf "$OUT/bsdtar-$fmt.tar" @spec.mtree)
done

# ---------------------------------------------------------------------------
# Python tarfile + hand-built archives, and the broken ones
# ---------------------------------------------------------------------------
python3 - "$OUT" <<'PY'
import hashlib, io, os, sys, tarfile

OUT = sys.argv[1]
ENC = dict(encoding="utf-8", errors="surrogateescape")
BLOCK = 512

def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

def ti(name, type=tarfile.REGTYPE, size=0, mode=0o644, linkname="", **kw):
    t = tarfile.TarInfo(name)
    t.type = type
    t.size = size
    t.mode = mode
    t.mtime = 0
    t.uid = t.gid = 0
    t.uname = t.gname = "root"
    t.linkname = linkname
    for k, v in kw.items():
        setattr(t, k, v)
    return t

def tf_archive(fmt, members, pax_headers=None):
    """members: list of (TarInfo, bytes|None)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt, pax_headers=pax_headers, **ENC) as tf:
        for t, data in members:
            if data is not None:
                t.size = len(data)
                tf.addfile(t, io.BytesIO(data))
            else:
                tf.addfile(t)
    return bio.getvalue()

def pad(b):
    return b + b"\0" * (-len(b) % BLOCK)

def checksum(h):
    h = bytearray(h)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)

def header(name, typ=b"0", size=0, linkname=b"", mode=0o644, magic=b"ustar\x0000",
           size_field=None, prefix=b""):
    """A hand-built 512-byte header block (ustar layout)."""
    h = bytearray(BLOCK)
    h[0:len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = typ
    h[157:157 + len(linkname)] = linkname
    h[257:265] = magic
    if magic[:5] == b"ustar":
        h[265:269] = b"root"
        h[297:301] = b"root"
    h[345:345 + len(prefix)] = prefix
    return checksum(h)

def pax_record(key, value):
    body = b" %s=%s\n" % (key, value)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n += 1
    return str(n).encode() + body

def member(hdr, data=b""):
    return hdr + pad(data)

EOA = b"\0" * (2 * BLOCK)

# --- python-basic.tar: tarfile GNU_FORMAT ------------------------------------
basic = tf_archive(tarfile.GNU_FORMAT, [
    (ti("pydir/", tarfile.DIRTYPE, mode=0o755), None),
    (ti("pydir/alpha.txt"), b"alpha\n"),
    (ti("pydir/beta.txt"), b"beta beta\n"),
    (ti("pydir/" + "n" * 120 + ".txt"), b"gnu longname from python\n"),
    (ti("pydir/alpha-hardlink", tarfile.LNKTYPE, linkname="pydir/alpha.txt"), None),
    (ti("pydir/alpha-symlink", tarfile.SYMTYPE, mode=0o777, linkname="alpha.txt"), None),
    (ti("pydir/empty"), b""),
])
write("python-basic.tar", basic)

# --- python-pax.tar: PAX_FORMAT, global header, UTF-8, long names --------------
longpax = "paxdir/" + "/".join(["segment-%02d-%s" % (i, "w" * 40) for i in range(6)]) + "/leaf.txt"
pax_member = ti("paxdir/with-comment.txt")
pax_member.pax_headers = {"comment": "per-entry pax record"}
pax = tf_archive(tarfile.PAX_FORMAT, [
    (ti("paxdir/", tarfile.DIRTYPE, mode=0o755), None),
    (ti("paxdir/données/été.txt"), "été\n".encode()),
    (ti("paxdir/Ελληνικά.txt"), "γεια\n".encode()),
    (ti(longpax), b"pax path > 255 bytes\n"),
    (pax_member, b"comment\n"),
    (ti("paxdir/hardlink-to-long", tarfile.LNKTYPE, linkname=longpax), None),
    (ti("paxdir/symlink-to-long", tarfile.SYMTYPE, mode=0o777, linkname=longpax), None),
], pax_headers={"comment": "cotar fixture global header"})
write("python-pax.tar", pax)

# --- python-nonutf8.tar: names that are not valid UTF-8 ------------------------
bad1 = b"bad\xffname.txt".decode("utf-8", "surrogateescape")
bad2 = b"latin1-caf\xe9.txt".decode("utf-8", "surrogateescape")
bad3 = (b"nonutf8-long-" + b"\xfe" * 100 + b".txt").decode("utf-8", "surrogateescape")
nonutf8 = tf_archive(tarfile.GNU_FORMAT, [
    (ti(bad1), b"0xff in the name\n"),
    (ti(bad2), b"latin-1 e-acute\n"),
    (ti(bad3), b"long non-utf8 name\n"),
    (ti("hardlink-to-bad", tarfile.LNKTYPE, linkname=bad1), None),
])
write("python-nonutf8.tar", nonutf8)

# --- python-dup.tar: the same path several times; the last occurrence wins -----
dup = tf_archive(tarfile.GNU_FORMAT, [
    (ti("dup.txt"), b"first\n"),
    (ti("link-to-first", tarfile.LNKTYPE, linkname="dup.txt"), None),   # -> first copy
    (ti("other.txt"), b"other\n"),
    (ti("dup.txt"), b"second, longer version\n"),
    (ti("link-to-second", tarfile.LNKTYPE, linkname="dup.txt"), None),  # -> second copy
    (ti("other.txt"), b"other v2\n"),
    (ti("other.txt"), b"other v3 (final)\n"),
])
write("python-dup.tar", dup)

# --- python-special.tar: devices, FIFO, contiguous '7', NUL type, symlink ------
special = tf_archive(tarfile.USTAR_FORMAT, [
    (ti("special/", tarfile.DIRTYPE, mode=0o755), None),
    (ti("special/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3), None),
    (ti("special/loop0", tarfile.BLKTYPE, mode=0o660, devmajor=7, devminor=0), None),
    (ti("special/fifo", tarfile.FIFOTYPE), None),
    (ti("special/contiguous.bin", tarfile.CONTTYPE), b"type 7 contiguous file\n"),
    (ti("special/nul-type.txt", tarfile.AREGTYPE), b"typeflag NUL is a regular file\n"),
    (ti("special/symlink", tarfile.SYMTYPE, mode=0o777, linkname="contiguous.bin"), None),
    (ti("special/regular.txt"), b"regular\n"),
])
write("python-special.tar", special)

# --- pax-size-override.tar: 'x' size=5 while the ustar size field says 0 -------
pso = b"".join([
    member(header(b"before.txt", size=4), b"abc\n"),
    member(header(b"././@PaxHeader", b"x", size=len(pax_record(b"size", b"5"))), pax_record(b"size", b"5")),
    member(header(b"sized-by-pax.txt", size=0), b"12345"),
    member(header(b"PaxHeader/renamed", b"x", size=len(pax_record(b"path", b"renamed-by-pax.txt"))),
           pax_record(b"path", b"renamed-by-pax.txt")),
    member(header(b"ustar-name-ignored.txt", size=6), b"after\n"),
]) + EOA
write("pax-size-override.tar", pso)

# --- numeric-fields.tar: base-256 size, 12-digit octal, space-padded octal -----
b256 = b"\x80" + (600).to_bytes(11, "big")
numeric = b"".join([
    member(header(b"base256-size.bin", size_field=b256, magic=b"ustar  \0"), bytes(range(200)) * 3),
    member(header(b"octal-no-nul.bin", size_field=b"000000001000"), b"8" * 512),
    member(header(b"octal-spaces.txt", size_field=b"         14 "), b"space-padded"),
    member(header(b"after.txt", size=6), b"after\n"),
]) + EOA
write("numeric-fields.tar", numeric)

# --- v7-handmade.tar: no magic, NUL typeflags, directory as NUL + trailing '/' -
v7 = b"".join([
    member(header(b"olddir/", typ=b"\0", mode=0o755, magic=b"\0" * 8)),
    member(header(b"olddir/file.txt", typ=b"\0", size=9, magic=b"\0" * 8), b"old file\n"),
    member(header(b"olddir/link.txt", typ=b"1", linkname=b"olddir/file.txt", magic=b"\0" * 8)),
]) + EOA
write("v7-handmade.tar", v7)

# --- gnu-sparse.tar: old GNU sparse 'S' entry (must be skipped) ----------------
def gnu_sparse_header(name, regions, realsize):
    stored = sum(n for _, n in regions)
    h = bytearray(header(name, typ=b"S", size=stored, magic=b"ustar  \0"))
    for i, (off, n) in enumerate(regions):
        h[386 + 24 * i: 398 + 24 * i] = b"%011o\0" % off
        h[398 + 24 * i: 410 + 24 * i] = b"%011o\0" % n
    h[482] = 0
    h[483:495] = b"%011o\0" % realsize
    return checksum(h)

sparse = b"".join([
    member(header(b"before-sparse.txt", size=7, magic=b"ustar  \0"), b"before\n"),
    member(gnu_sparse_header(b"sparse.bin", [(0, 5), (2048, 5)], 4096), b"HELLOWORLD"),
    member(header(b"after-sparse.txt", size=6, magic=b"ustar  \0"), b"after\n"),
]) + EOA
write("gnu-sparse.tar", sparse)

# --- pax-sparse.tar: GNU PAX sparse format 1.0 (must be skipped) ---------------
recs = b"".join([pax_record(b"GNU.sparse.major", b"1"), pax_record(b"GNU.sparse.minor", b"0"),
                 pax_record(b"GNU.sparse.name", b"psparse.bin"),
                 pax_record(b"GNU.sparse.realsize", b"4096")])
sparse_data = pad(b"2\n0\n5\n2048\n5\n") + b"HELLOWORLD"
psparse = b"".join([
    member(header(b"before.txt", size=7), b"before\n"),
    member(header(b"./GNUSparseFile.0/PaxHeaders/psparse.bin", b"x", size=len(recs)), recs),
    member(header(b"./GNUSparseFile.0/psparse.bin", size=len(sparse_data)), sparse_data),
    member(header(b"after.txt", size=6), b"after\n"),
]) + EOA
write("pax-sparse.tar", psparse)

# --- archives that end early but validly -----------------------------------
noeof = member(header(b"one.txt", size=4), b"one\n") + member(header(b"two.txt", size=4), b"two\n")
write("no-eof-marker.tar", noeof)                      # EOF exactly at a header boundary
write("lone-zero-block.tar", noeof + b"\0" * BLOCK)    # a single zero block, then EOF
write("eof-only.tar", EOA)                             # just the end-of-archive marker
write("empty.tar", b"")                                # 0 bytes: not a tar (an error)

# --- probe-max.tar / probe-overflow.tar: all names share one start slot --------
def fnv1a64(b):
    h = 0xCBF29CE484222325
    for c in b:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h

def colliding(count, slots, start, prefix):
    names, i = [], 0
    while len(names) < count:
        n = "%s/%05d" % (prefix, i)
        if fnv1a64(n.encode()) % slots == start:
            names.append(n)
        i += 1
    return names

# 51 files -> ceil(51 * 1.25) = 64 slots; the 51st needs 50 probes (allowed).
write("probe-max.tar", tf_archive(tarfile.USTAR_FORMAT,
      [(ti(n), b"") for n in colliding(51, 64, 40, "probe")]))
# 52 files -> 65 slots; the 52nd needs 51 probes > maxSearch 50: index build fails.
write("probe-overflow.tar", tf_archive(tarfile.USTAR_FORMAT,
      [(ti(n), b"") for n in colliding(52, 65, 40, "probe")]))

# --- broken archives -----------------------------------------------------------
def header_offsets(data):
    """Offsets of the header blocks of a simple (no sparse) archive."""
    offs, o = [], 0
    while o + BLOCK <= len(data) and data[o:o + BLOCK] != b"\0" * BLOCK:
        h = data[o:o + BLOCK]
        offs.append(o)
        size = int(h[124:136].split(b"\0")[0].strip() or b"0", 8)
        typ = h[156:157]
        has_data = typ not in (b"1", b"2", b"3", b"4", b"5", b"6")
        o += BLOCK + (-(-size // BLOCK) * BLOCK if has_data else 0)
    return offs

gb = open(os.path.join(OUT, "gnu-basic.tar"), "rb").read()
offs = header_offsets(gb)
# the b513.bin entry is the second member: header at offs[1], 2 data blocks
write("truncated.tar", gb[:offs[1] + BLOCK + 300])         # cut inside b513.bin's data
write("truncated-header.tar", gb[:offs[2] + 200])           # cut inside the 3rd header

bc = bytearray(basic)
o2 = header_offsets(basic)[1]
bc[o2 + 2] ^= 0x01                                          # flip a bit of the 2nd header's name
write("bad-checksum.tar", bytes(bc))

g, seed = b"", b"cotar garbage"
while len(g) < 1024:
    seed = hashlib.sha256(seed).digest()
    g += seed
write("garbage.bin", g[:1024])

badpax = b"".join([
    member(header(b"ok.txt", size=3), b"ok\n"),
    member(header(b"PaxHeader/x", b"x", size=10), b"99 path=x\n"),
    member(header(b"victim.txt", size=7), b"victim\n"),
]) + EOA
write("bad-pax.tar", badpax)

hlu = b"".join([
    member(header(b"a.txt", size=2), b"a\n"),
    member(header(b"b.txt", typ=b"1", linkname=b"missing.txt")),
    member(header(b"c.txt", size=2), b"c\n"),
]) + EOA
write("hardlink-unknown.tar", hlu)
PY

# ---------------------------------------------------------------------------
# Expected indexes, .co files and manifest.json
# ---------------------------------------------------------------------------
python3 "$HERE/reference_index.py" --fixtures "$OUT"

if [ "$VERIFY" = 1 ]; then
    echo
    printf '%-26s %-8s %-8s %-8s\n' fixture gnutar bsdtar tarfile
    for f in "$OUT"/*.tar "$OUT"/*.bin "$OUT"/*.co; do
        r1=ok; r2=ok; r3=ok
        "$GNUTAR" -tvf "$f" >/dev/null 2>&1 || r1=FAIL
        bsdtar -tvf "$f" >/dev/null 2>&1 || r2=FAIL
        python3 -m tarfile -l "$f" >/dev/null 2>&1 || r3=FAIL
        printf '%-26s %-8s %-8s %-8s\n' "$(basename "$f")" "$r1" "$r2" "$r3"
    done
fi
echo "fixtures written to $OUT"
