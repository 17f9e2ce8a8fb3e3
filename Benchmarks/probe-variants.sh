#!/usr/bin/env bash
# Can the in-memory probe be made cheaper than one cache miss? (issue 15, item 2)
#
# Section 2 of cotar-bench sweeps 64 MiB before each contender, so every probe of a 200k
# table (4 MB) misses the caches. At the default packing 41 % of the probes for a present
# path run past the home slot's 64-byte line, which suggests fetching more than one line at
# once. This script times four probes of the same slots in C, so only the probe differs:
#   serial    the probe Cotar uses (`CotarIndex.probe`): load a slot, compare, go on;
#   group8    the hashes of 8 slots from the home slot loaded before any comparison (their
#             2-3 lines are fetched together), masks, first stop;
#   prefetch  `serial` plus a prefetch of the line after the home slot's;
#   fastmod   `serial` with the home slot computed by multiplication (Lemire's fastmod)
#             instead of a 64-bit division.
# 10,000 random present paths per run, an `lfence` after each lookup (as a `pread` would
# stand between two lookups), a 64 MiB sweep before each run, 31 runs per probe interleaved,
# thread CPU time; the median ns per lookup is printed. Slots are laid out twice: 64-byte
# aligned (as Cotar's in-memory copy) and at 8 bytes past a line (as a mapped index file).
#
# Usage: bash Benchmarks/probe-variants.sh [INDEX]
#   INDEX defaults to the 200k bench corpus's sidecar (.build/bench-data/corpus-200000-42.tar.index).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
file="${1:-$root/.build/bench-data/corpus-200000-42.tar.index}"
[ -f "$file" ] || { echo "no such file: $file (run cotar-bench --entries 200000 first, or pass a .tar.index)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/probe.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t (*probe_fn)(const uint8_t *slots, size_t count, uint64_t hash);
static __uint128_t fastmod_magic;

static uint64_t cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static inline uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Linear probing from `slot`; returns the record's second word (offset and size), 0 if absent. */
static inline uint64_t scan_from(const uint8_t *s, size_t n, uint64_t h, size_t slot, size_t done) {
  for (size_t i = done; i < n; i++) {
    uint64_t x = load64(s + slot * 16);
    if (x == h) return load64(s + slot * 16 + 8);
    if (x == 0) return 0;
    if (++slot == n) slot = 0;
  }
  return 0;
}
__attribute__((noinline)) static uint64_t serial(const uint8_t *s, size_t n, uint64_t h) {
  return scan_from(s, n, h, h % n, 0);
}
__attribute__((noinline)) static uint64_t group8(const uint8_t *s, size_t n, uint64_t h) {
  size_t home = h % n, slot = home;
  uint32_t match = 0, empty = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t x = load64(s + slot * 16);
    match |= (uint32_t)(x == h) << i;
    empty |= (uint32_t)(x == 0) << i;
    if (++slot == n) slot = 0;
  }
  uint32_t stop = match | empty;
  if (stop == 0) return scan_from(s, n, h, slot, 8);
  int first = __builtin_ctz(stop);
  if (!(match & (1u << first))) return 0;
  size_t found = home + (size_t)first;
  if (found >= n) found -= n;
  return load64(s + found * 16 + 8);
}
__attribute__((noinline)) static uint64_t prefetch(const uint8_t *s, size_t n, uint64_t h) {
  size_t slot = h % n;
  __builtin_prefetch((const void *)((((uintptr_t)(s + slot * 16)) | 63) + 1));
  return scan_from(s, n, h, slot, 0);
}
static inline uint64_t fastmod(uint64_t a, uint64_t d) {
  __uint128_t low = fastmod_magic * a;
  __uint128_t bottom = ((low & UINT64_MAX) * d) >> 64, top = (low >> 64) * d;
  return (uint64_t)((bottom + top) >> 64);
}
__attribute__((noinline)) static uint64_t fastmod_probe(const uint8_t *s, size_t n, uint64_t h) {
  return scan_from(s, n, h, fastmod(h, n), 0);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  long length = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (length < 32 || (length - 16) % 16) { fprintf(stderr, "not a v2 index\n"); return 1; }
  uint8_t *file = malloc((size_t)length);
  if (fread(file, 1, (size_t)length, f) != (size_t)length) { perror("read"); return 1; }
  size_t n = (size_t)(length - 16) / 16;
  fastmod_magic = ((__uint128_t)-1) / n + 1;
  const char *names[] = {"serial", "group8", "prefetch", "fastmod"};
  probe_fn probes[] = {serial, group8, prefetch, fastmod_probe};
  enum { kinds = 4, runs = 31, lookups = 10000 };
  size_t sweep_bytes = 64u << 20;
  uint8_t *sweep = malloc(sweep_bytes);
  memset(sweep, 1, sweep_bytes);
  volatile uint64_t sink = 0;
  for (int skew = 0; skew <= 8; skew += 8) {
    uint8_t *raw = aligned_alloc(64, n * 16 + 128);
    uint8_t *slots = raw + skew;
    memcpy(slots, file + 8, n * 16);
    uint64_t *present = malloc(n * 8), *queries = malloc(lookups * 8);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) if (load64(slots + i * 16)) present[count++] = load64(slots + i * 16);
    uint64_t state = 42;
    for (int i = 0; i < lookups; i++) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      queries[i] = present[(state >> 17) % count];
    }
    for (int i = 0; i < lookups; i++)
      for (int k = 1; k < kinds; k++)
        if (probes[k](slots, n, queries[i]) != serial(slots, n, queries[i])) { fprintf(stderr, "%s disagrees\n", names[k]); return 1; }
    double ns[kinds][runs];
    for (int run = 0; run < runs; run++)
      for (int k = 0; k < kinds; k++) {
        for (size_t i = 0; i < sweep_bytes; i += 64) sink += sweep[i];
        uint64_t start = cpu_ns(), total = 0;
        for (int i = 0; i < lookups; i++) {
          total += probes[k](slots, n, queries[i]);
          __asm__ volatile("lfence" ::: "memory");
        }
        ns[k][run] = (double)(cpu_ns() - start) / lookups;
        sink += total;
      }
    printf("%zu slots, %s:", n, skew ? "8 bytes past a line (mapped file)" : "64-byte aligned (in-memory copy)");
    for (int k = 0; k < kinds; k++) {
      qsort(ns[k], runs, sizeof(double), by_value);
      printf("  %s %.1f ns", names[k], ns[k][runs / 2]);
    }
    printf("\n");
    free(raw); free(present); free(queries);
  }
  return 0;
}
EOF
gcc -O2 -o "$work/probe" "$work/probe.c"
"$work/probe" "$file"
