"""Benchmark of the measure's hot paths: corpus load, signatures and distances.

Usage (from the repository root):

  python -m benchmarks.bench_measure [--repeats 5] [--naive_repeats 3]
      [--corpus ../shared/data/beethoven_piano] [--out BENCHMARKS.md]

It measures, on a folder of MIDI files:
  (a) a cold corpus load: `load_corpus` with `DRAW_MUSIC_CACHE` pointed at a fresh, empty
      temporary folder for every repeat (parse every file, write the cache);
  (b) a cached reload: `load_corpus` again on a warm cache (goal: < 0.1 s);
  (c) signatures and Mahalanobis distances of 6000 chunks of 104 steps, sampled with
      replacement (fixed seed) from the corpus's own 104-step chunks, against the reference
      built from all those chunks: the vectorised `draw_music` path against the per-note loop
      of `benchmarks/naive_features.py`. Both results are checked equal (assert_allclose,
      rtol 1e-9) and the speedup is measured in the same run (goal: >= 20x).

Each number is the median of several repeats. It prints a report and writes it as the section
"## Measure: corpus load, signatures and distances" of the output Markdown file (replacing
that section if present, creating the file if absent).
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import statistics
import sys
import tempfile
import time

import numpy as np

from benchmarks import common
from benchmarks import naive_features
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features
from draw_music.metric import measure

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "beethoven_piano"
DEFAULT_OUT = REPO / "BENCHMARKS.md"
SECTION = "## Measure: corpus load, signatures and distances"
CHUNK_STEPS = 104
NUM_SAMPLES = 6000
SEED = 0


def _median_time(fn, repeats):
  """Median wall time of `repeats` calls of `fn()`, and the last result."""
  times, result = [], None
  for _ in range(repeats):
    start = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times), times, result


class _CacheDir:
  """Points `DRAW_MUSIC_CACHE` at a fresh temporary folder; restores it on exit."""

  def __enter__(self):
    self._tmp = tempfile.TemporaryDirectory(prefix="draw_music_bench_cache_")
    self._old = os.environ.get("DRAW_MUSIC_CACHE")
    os.environ["DRAW_MUSIC_CACHE"] = self._tmp.name
    return self._tmp.name

  def __exit__(self, *exc):
    if self._old is None:
      os.environ.pop("DRAW_MUSIC_CACHE", None)
    else:
      os.environ["DRAW_MUSIC_CACHE"] = self._old
    self._tmp.cleanup()


def bench_corpus_load(folder, repeats):
  """Cold-load and cached-reload timings of `load_corpus(folder)`."""
  cold_times = []
  for _ in range(repeats):
    with _CacheDir():
      start = time.perf_counter()
      corpus = corpus_lib.load_corpus(folder)
      cold_times.append(time.perf_counter() - start)
      assert not corpus.from_cache
  with _CacheDir():
    corpus_lib.load_corpus(folder)  # fills the cache
    warm, warm_times, cached = _median_time(lambda: corpus_lib.load_corpus(folder), repeats)
    assert cached.from_cache
  return {"cold_s": statistics.median(cold_times), "cold_times": cold_times,
          "cached_s": warm, "cached_times": warm_times, "corpus": cached}


def _vectorised(chunks, ref):
  start = time.perf_counter()
  sig = features.signatures(chunks)
  mid = time.perf_counter()
  dist = ref.distance(sig)
  end = time.perf_counter()
  return sig, dist, mid - start, end - mid


def _naive(chunks, ref):
  start = time.perf_counter()
  sig = naive_features.signatures(chunks)
  mid = time.perf_counter()
  dist = naive_features.distances(sig, ref.mean, ref.precision)
  end = time.perf_counter()
  return np.array(sig), np.array(dist), mid - start, end - mid


def bench_signatures(rolls, repeats, naive_repeats):
  """Vectorised vs naive signatures + distances of NUM_SAMPLES sampled chunks."""
  chunks, _ = corpus_lib.corpus_chunks(rolls, CHUNK_STEPS)
  ref = measure.Reference.from_signatures(features.signatures(chunks))
  sample = chunks[np.random.default_rng(SEED).integers(0, len(chunks), NUM_SAMPLES)]
  _vectorised(sample, ref)  # warm-up, untimed
  fast = [_vectorised(sample, ref) for _ in range(repeats)]
  slow = [_naive(sample, ref) for _ in range(naive_repeats)]
  np.testing.assert_allclose(fast[-1][0], slow[-1][0], rtol=1e-9, atol=0)
  np.testing.assert_allclose(fast[-1][1], slow[-1][1], rtol=1e-9, atol=0)
  med = lambda runs, i: statistics.median(r[i] for r in runs)
  totals_fast = [r[2] + r[3] for r in fast]
  totals_slow = [r[2] + r[3] for r in slow]
  return {
      "num_chunks": len(chunks), "rank": ref.rank, "constant": ref.constant_features,
      "active_cells": float(sample.sum(axis=(1, 2)).mean()),
      "median_distance": float(np.median(fast[-1][1])),
      "fast_sig_s": med(fast, 2), "fast_dist_s": med(fast, 3),
      "fast_total_s": statistics.median(totals_fast), "fast_totals": totals_fast,
      "slow_sig_s": med(slow, 2), "slow_dist_s": med(slow, 3),
      "slow_total_s": statistics.median(totals_slow), "slow_totals": totals_slow,
  }


def _fmt_times(times):
  return ", ".join(f"{t:.3f}" for t in times)


def report(command, folder, load, sig, repeats, naive_repeats):
  """The Markdown section, as a list of lines."""
  corpus = load["corpus"]
  speedup = sig["slow_total_s"] / sig["fast_total_s"]
  sig_speedup = sig["slow_sig_s"] / sig["fast_sig_s"]
  lines = [
      SECTION, "",
      f"Command: `{command}`  ",
      f"Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}  ",
      f"Machine: {common.machine_line()}  ",
      f"Corpus: `{os.path.relpath(folder, REPO)}` (relative to the repository): {len(corpus)} pieces read, {len(corpus.skipped)} skipped, "
      f"{sum(r.shape[0] for r in corpus.rolls)} steps.", "",
      f"Medians of {repeats} repeats ({naive_repeats} for the naive loop, which is slow); "
      "every repeat's time in seconds is in the last column.", "",
      "| what | median | goal | repeats (s) |",
      "|---|---|---|---|",
      f"| (a) cold corpus load (parse + write cache, fresh cache dir) | "
      f"{load['cold_s']:.3f} s | | {_fmt_times(load['cold_times'])} |",
      f"| (b) cached reload | {load['cached_s'] * 1e3:.1f} ms | < 100 ms "
      f"{'(met)' if load['cached_s'] < 0.1 else '(NOT met)'} | "
      f"{_fmt_times(load['cached_times'])} |",
      f"| (c) vectorised: signatures | {sig['fast_sig_s']:.3f} s | | |",
      f"| (c) vectorised: distances | {sig['fast_dist_s'] * 1e3:.2f} ms | | |",
      f"| (c) vectorised: signatures + distances | {sig['fast_total_s']:.3f} s | | "
      f"{_fmt_times(sig['fast_totals'])} |",
      f"| (c) naive loop: signatures | {sig['slow_sig_s']:.3f} s | | |",
      f"| (c) naive loop: distances | {sig['slow_dist_s']:.3f} s | | |",
      f"| (c) naive loop: signatures + distances | {sig['slow_total_s']:.3f} s | | "
      f"{_fmt_times(sig['slow_totals'])} |",
      f"| (c) speedup, signatures + distances | {speedup:.1f}x | >= 20x "
      f"{'(met)' if speedup >= 20 else '(NOT met)'} | |",
      f"| (c) speedup, signatures only | {sig_speedup:.1f}x | | |",
      "",
      f"(c) works on {NUM_SAMPLES} chunks of {CHUNK_STEPS} steps drawn with replacement "
      f"(seed {SEED}) from the corpus's {sig['num_chunks']} non-empty {CHUNK_STEPS}-step "
      f"chunks (mean {sig['active_cells']:.0f} active cells a chunk); the reference is all "
      f"{sig['num_chunks']} chunks (covariance rank {sig['rank']}, constant features: "
      f"{', '.join(sig['constant']) or 'none'}); median distance of the sample "
      f"{sig['median_distance']:.2f}. The vectorised path is `features.signatures` + "
      "`Reference.distance` (one untimed warm-up call first); the naive one is "
      "`benchmarks/naive_features.py` (a Python loop over pieces, pitches and notes, and a "
      "plain double loop for each distance). Both gave equal signatures and distances "
      "(`assert_allclose`, rtol 1e-9) in this run.",
      "",
  ]
  return lines


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--repeats", type=int, default=5,
                      help="repeats of the fast parts (median reported)")
  parser.add_argument("--naive_repeats", type=int, default=3,
                      help="repeats of the naive loop (median reported)")
  parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="folder of MIDI files")
  parser.add_argument("--out", default=str(DEFAULT_OUT),
                      help="Markdown file whose section is written ('' to skip)")
  args = parser.parse_args(argv)
  for name in ("repeats", "naive_repeats"):
    if getattr(args, name) < 1:
      parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
  command = common.command_line("benchmarks.bench_measure", argv)
  folder = pathlib.Path(args.corpus)
  load = bench_corpus_load(folder, args.repeats)
  if not len(load["corpus"]):
    sys.exit(f"no readable MIDI file under {folder}")
  sig = bench_signatures(load["corpus"].rolls, args.repeats, args.naive_repeats)
  lines = report(command.strip(), folder, load, sig, args.repeats, args.naive_repeats)
  print("\n".join(lines))
  if args.out:
    common.write_section(args.out, lines)
    print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
