#!/usr/bin/env bash
# Regenerates the "real-world input" fixtures in Fixtures/realworld/ (issue 10): tars that
# third-party tools write and that once broke Cotar. They are not in manifest.json (a
# subfolder, so reference_index.py does not list them); the tests that use them state what
# they expect.
#
#   bash Fixtures/make_realworld_fixtures.sh
#
# Needs GNU tar 1.34, gzip, bzip2, xz, zstd, lz4 and python3. Output is deterministic
# (sparse detection needs a file system with SEEK_HOLE, e.g. ext4 or tmpfs).
set -euo pipefail
export TZ=UTC LC_ALL=C.UTF-8
umask 022
FIXTURES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HERE="$FIXTURES/realworld"
mkdir -p "$HERE"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
gtar() { tar --mtime=@0 --owner=0 --group=0 --numeric-owner --sort=name "$@"; }

# --- gnu-hardlink-symlink.tar: a hard link whose target is a symlink -------------------
# 'h' and 's' are one inode (a symlink to a.txt): GNU tar stores 'h' as the symlink and
# 's' as a hard link to 'h'. 'z.txt' is an ordinary hard link to 'a.txt'.
mkdir "$WORK/hl"
printf 'hello\n' > "$WORK/hl/a.txt"
ln -s a.txt "$WORK/hl/h"
ln -P "$WORK/hl/h" "$WORK/hl/s"
ln "$WORK/hl/a.txt" "$WORK/hl/z.txt"
(cd "$WORK/hl" && gtar --format=gnu -cf "$HERE/gnu-hardlink-symlink.tar" a.txt h s z.txt)

# --- gnu-oldsparse-ext.tar: an old GNU sparse member ('S') with extension blocks ------
# Ten data regions: four fit in the header's sparse map, the other six need one
# extension block (isextended = 1), which the scanner must skip. 'after.txt' follows.
mkdir "$WORK/sp"
python3 - "$WORK/sp/sparse.bin" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(10):
        f.seek(i * 65536)
        f.write(b"D%d" % i * 100)
    f.truncate(10 * 65536)
PY
printf 'after\n' > "$WORK/sp/after.txt"
(cd "$WORK/sp" && gtar --format=gnu -S -cf "$HERE/gnu-oldsparse-ext.tar" sparse.bin after.txt)
python3 - "$HERE/gnu-oldsparse-ext.tar" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert d[156:157] == b"S" and d[482] == 1, "GNU tar did not write an extended old-sparse header (no SEEK_HOLE?)"
PY

# --- compressed copies of gnu-basic.tar --------------------------------------------
gzip -9 -n -c "$FIXTURES/gnu-basic.tar" > "$HERE/gnu-basic.tar.gz"
bzip2 -9 -c "$FIXTURES/gnu-basic.tar" > "$HERE/gnu-basic.tar.bz2"
xz -6 -c "$FIXTURES/gnu-basic.tar" > "$HERE/gnu-basic.tar.xz"
zstd -q -19 -c "$FIXTURES/gnu-basic.tar" > "$HERE/gnu-basic.tar.zst"
lz4 -q -9 -c "$FIXTURES/gnu-basic.tar" > "$HERE/gnu-basic.tar.lz4"
echo "real-world fixtures written to $HERE"
