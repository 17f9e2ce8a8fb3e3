#!/usr/bin/env bash
# Would a memory-mapped scan make index builds faster? (issue 15, item 3)
#
# Section 1 of cotar-bench compares the builder with a header walk that reads the tar in
# 1 MiB `pread`s. A scan over a read-only mapping would skip the copy into the buffer (a
# third to a half of the build's CPU is `_copy_to_iter`), but pays page faults instead. This
# script times the two walks on the same file, in C so that only the I/O differs: each walk
# parses the size field and sums every header's 512 bytes (what the checksum check costs).
# Mapped windows are 64 MiB at 2 MiB-aligned offsets, the window size the builder would use.
# Two states are measured: the file as the page cache holds it now, and a fresh copy written
# in 1 MiB writes (large folios, as a freshly generated corpus). Seven alternating runs of
# each walk per state; the median is printed.
#
# Usage: bash Benchmarks/mapped-walk.sh [TAR]
#   TAR defaults to the 200k bench corpus (.build/bench-data/corpus-200000-42.tar).
#   A copy is made in $TMPDIR (about the file's size) and removed at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
file="${1:-$root/.build/bench-data/corpus-200000-42.tar}"
[ -f "$file" ] || { echo "no such file: $file (run cotar-bench --entries 200000 first, or pass a tar)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/walk.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The octal size field, as the bench's header-walk limit parses it. */
static long long size_field(const unsigned char *h) {
  long long size = 0;
  for (int i = 124; i < 136; i++) {
    unsigned char b = h[i];
    if (b == 0 || b == ' ') { if (size == 0) continue; else break; }
    size = size * 8 + (b - '0');
  }
  return size;
}

static unsigned block_sum(const unsigned char *h) {
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += h[i];
  return sum;
}

/* Walks with 1 MiB preads into one buffer; returns the members seen. */
static long walk_pread(int fd, unsigned *sum) {
  const long capacity = 1 << 20;
  unsigned char *buffer = aligned_alloc(4096, capacity);
  long long start = 0, length = 0, offset = 0;
  long members = 0;
  for (;;) {
    if (offset < start || offset + 512 > start + length) {
      ssize_t n = pread(fd, buffer, capacity, offset);
      if (n < 512) break;
      start = offset;
      length = n;
    }
    const unsigned char *h = buffer + (offset - start);
    if (h[0] == 0) break;
    *sum += block_sum(h);
    members++;
    offset += 512 + ((size_field(h) + 511) & ~511LL);
  }
  free(buffer);
  return members;
}

/* Walks through read-only mappings of 64 MiB windows; returns the members seen. */
static long walk_mapped(int fd, long long size, unsigned *sum) {
  const long long window = 64LL << 20, align = 2LL << 20;
  long long start = -1, end = -1, offset = 0;
  unsigned char *map = NULL;
  long members = 0;
  for (;;) {
    if (offset + 512 > size) break;
    if (offset < start || offset + 512 > end) {
      if (map) munmap(map, end - start);
      start = offset & ~(align - 1);
      end = start + window < size ? start + window : size;
      map = mmap(NULL, end - start, PROT_READ, MAP_PRIVATE, fd, start);
      if (map == MAP_FAILED) { perror("mmap"); exit(1); }
    }
    const unsigned char *h = map + (offset - start);
    if (h[0] == 0) break;
    *sum += block_sum(h);
    members++;
    offset += 512 + ((size_field(h) + 511) & ~511LL);
  }
  if (map) munmap(map, end - start);
  return members;
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: walk TAR\n"); return 2; }
  int fd = open(argv[1], O_RDONLY);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0) { perror(argv[1]); return 1; }
  enum { runs = 7 };
  double pread_rates[runs], mapped_rates[runs];
  unsigned sum = 0;
  for (int run = 0; run < runs; run++) {
    double t0 = now();
    long a = walk_pread(fd, &sum);
    double t1 = now();
    long b = walk_mapped(fd, info.st_size, &sum);
    double t2 = now();
    if (a != b) { fprintf(stderr, "the walks disagree: %ld vs %ld members\n", a, b); return 1; }
    pread_rates[run] = a / (t1 - t0);
    mapped_rates[run] = b / (t2 - t1);
  }
  qsort(pread_rates, runs, sizeof(double), ascending);
  qsort(mapped_rates, runs, sizeof(double), ascending);
  printf("  pread walk   %10.0f members/s\n", pread_rates[runs / 2]);
  printf("  mapped walk  %10.0f members/s  (%.2fx the pread walk; checksum %u)\n", mapped_rates[runs / 2],
         mapped_rates[runs / 2] / pread_rates[runs / 2], sum);
  return 0;
}
EOF
cc -O2 -o "$work/walk" "$work/walk.c"

echo "$file, as the page cache holds it now:"
"$work/walk" "$file"
dd if="$file" of="$work/copy.tar" bs=1M status=none
echo "a fresh copy written in 1 MiB writes:"
"$work/walk" "$work/copy.tar"
