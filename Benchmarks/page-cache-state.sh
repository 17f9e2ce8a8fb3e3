#!/usr/bin/env bash
# How fast `pread` of small ranges is, depending on how a file entered the page cache.
#
# Section 2 of cotar-bench divides every lookup rate by a `pread` limit. That limit is not a
# constant of the machine: the same ranges of the same bytes read at different rates when the
# file's pages sit in large folios (written in large writes, or read back sequentially) or in
# 4 KiB ones (faulted back one random page at a time). This script measures one file in three
# states, with section 2's protocol: 10,000 random 2,100-byte reads (the corpus's mean entry)
# per run, a 64 MiB sweep of the CPU caches before each of 15 runs, the median reported.
#
# Usage: bash Benchmarks/page-cache-state.sh [FILE]
#   FILE defaults to the 200k bench corpus (.build/bench-data/corpus-200000-42.tar.co).
#   A copy is made in $TMPDIR (about the file's size) and removed at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
file="${1:-$root/.build/bench-data/corpus-200000-42.tar.co}"
[ -f "$file" ] || { echo "no such file: $file (run cotar-bench --entries 200000 first, or pass a file)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/pread-rate.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  enum { reads = 10000, runs = 15, length = 2100 };
  int fd = open(argv[1], O_RDONLY);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0 || info.st_size < 64 * 512) return 2;
  static unsigned long long offsets[reads];
  unsigned long long state = 42;
  for (int i = 0; i < reads; i++) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    offsets[i] = ((state >> 20) % (unsigned long long)(info.st_size / 512 - 8)) * 512;
  }
  size_t sweep = 64u << 20;
  volatile char *cold = malloc(sweep);
  if (!cold) return 2;
  memset((char *)cold, 1, sweep);
  char buffer[4096];
  double rates[runs];
  unsigned long sum = 0;
  for (int run = 0; run < runs; run++) {
    for (size_t i = 0; i < sweep; i += 64) sum += cold[i];
    double start = now();
    for (int i = 0; i < reads; i++) {
      if (pread(fd, buffer, length, offsets[i]) != length) return 3;
      sum += (unsigned char)buffer[0];
    }
    rates[run] = reads / (now() - start);
  }
  qsort(rates, runs, sizeof rates[0], ascending);
  printf("%9.0f reads/s (runs %.0f-%.0f)%s\n", rates[runs / 2], rates[0], rates[runs - 1], sum ? "" : " ");
  return 0;
}
EOF
gcc -O2 -o "$work/pread-rate" "$work/pread-rate.c"

copy="$work/copy"
evict() { python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$1"; }

python3 - "$file" "$copy" <<'EOF'
import sys
with open(sys.argv[1], "rb") as source, open(sys.argv[2], "wb") as target:
    while chunk := source.read(1 << 20):
        target.write(chunk)
EOF
printf '%-58s' "written in 1 MiB writes:"; "$work/pread-rate" "$copy"

evict "$copy"; cat "$copy" > /dev/null
printf '%-58s' "evicted, then read back sequentially:"; "$work/pread-rate" "$copy"

evict "$copy"
python3 - "$copy" <<'EOF'
import os, random, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
pages = list(range(0, os.fstat(fd).st_size, 4096))
random.Random(1).shuffle(pages)
for page in pages:
    os.pread(fd, 1, page)
EOF
printf '%-58s' "evicted, then faulted back by random 4 KiB reads:"; "$work/pread-rate" "$copy"
