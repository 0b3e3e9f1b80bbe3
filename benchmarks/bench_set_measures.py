"""Times the set-level measures on two sets of 1,500 signatures; records it in BENCHMARKS.md.

  python -m benchmarks.bench_set_measures

Sets: 1,500 Beethoven chunks (`../shared/data/beethoven_piano`, 104 steps) against 1,500
Chopin chunks (`../shared/data/other`; it has 1,115 non-overlapping chunks, so its chunks
overlap by half, stride 52), each drawn at random without replacement (seed 0). Without the
shared data, two synthetic Gaussian sets of 1,500 x 17. Timed: `frechet_distance`,
`mmd_permutation_test` with 1,000 permutations and `ks_tests`, each and together (median of
5 runs, after one warm-up run), and `compare_sets` as a whole. Goal: under 2 s together.

Writes (or replaces) the "## Set-level measures" section of BENCHMARKS.md at the repository
root, leaving the other sections as they are.
"""

from __future__ import annotations

import datetime
import pathlib
import sys

import numpy as np

from benchmarks import common
from draw_music.metric import set_measures

REPO = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS_FILE = REPO / "BENCHMARKS.md"
SHARED_DATA = REPO.parent / "shared" / "data"
SECTION = "## Set-level measures"
COMMAND = "python -m benchmarks.bench_set_measures"
NUM_SIGNATURES = 1500
NUM_PERMUTATIONS = 1000
NUM_RUNS = 5
GOAL_S = 2.0


def _chunk_signatures(folder, stride):
  from draw_music.corpora import corpus as corpus_lib  # pylint: disable=g-import-not-at-top
  from draw_music.metric import features  # pylint: disable=g-import-not-at-top
  corpus = corpus_lib.load_corpus(folder)
  chunks, _ = corpus_lib.corpus_chunks(corpus.rolls, stride=stride)
  return features.signatures(chunks), len(corpus)


def load_sets(num_signatures=NUM_SIGNATURES, seed=0):
  """Two `[num_signatures, 17]` signature sets, feature names and a description."""
  from draw_music.metric import features  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  names = features.feature_names()
  beethoven, chopin = SHARED_DATA / "beethoven_piano", SHARED_DATA / "other"
  if beethoven.is_dir() and chopin.is_dir():
    ref, ref_pieces = _chunk_signatures(beethoven, None)
    other, other_pieces = _chunk_signatures(chopin, 52)
    if min(len(ref), len(other)) >= num_signatures:
      description = (
          f"real: {num_signatures} of {len(ref)} Beethoven chunks ({ref_pieces} pieces, 104 "
          f"steps, no overlap) vs {num_signatures} of {len(other)} Chopin chunks "
          f"({other_pieces} pieces, 104 steps, stride 52), drawn with seed {seed}")
      ref = ref[rng.choice(len(ref), num_signatures, replace=False)]
      other = other[rng.choice(len(other), num_signatures, replace=False)]
      return ref, other, names, description
  ref = rng.normal(size=(num_signatures, len(names)))
  other = rng.normal(size=(num_signatures, len(names))) + 0.05
  return ref, other, names, (f"synthetic: two Gaussian sets of {num_signatures} x "
                             f"{len(names)} (shared data not found)")



def run_benchmark(ref, other, names):
  """Median seconds of each measure, of the three together and of `compare_sets`."""
  parts = {
      "frechet_distance": lambda: set_measures.frechet_distance(ref, other),
      f"mmd_permutation_test ({NUM_PERMUTATIONS} permutations)":
          lambda: set_measures.mmd_permutation_test(ref, other, NUM_PERMUTATIONS, seed=0),
      "ks_tests": lambda: set_measures.ks_tests(ref, other, names),
  }
  results = {name: _median_time(fn) for name, fn in parts.items()}
  results["together (Fréchet + MMD test + KS)"] = _median_time(
      lambda: [fn() for fn in parts.values()])
  results["compare_sets (adds the diversity ratio)"] = _median_time(
      lambda: set_measures.compare_sets(ref, other, names, num_permutations=NUM_PERMUTATIONS))
  return results


def format_section(results, description, values, load_before):
  """The markdown of the section, from `run_benchmark`'s results."""
  together = results["together (Fréchet + MMD test + KS)"][0]
  load = common.load_average()
  lines = [
      SECTION, "",
      f"Command: `{COMMAND}`  ",
      f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  ",
      f"Machine: {common.machine_line()}; load average (1 / 5 / 15 min) before: "
      f"{load_before}, after: {load}  ",
      f"Data: {description}",
      "",
      f"Median of {NUM_RUNS} runs after one warm-up run; every run's time in the last column:",
      "",
      "| step | median s | runs s |",
      "| --- | ---: | --- |",
  ]
  for name, (median, times) in results.items():
    lines.append(f"| {name} | {median:.3f} | {', '.join(f'{t:.3f}' for t in times)} |")
  lines += [
      "",
      f"Goal: Fréchet + MMD test + KS under {GOAL_S:.0f} s: "
      f"{'met' if together < GOAL_S else 'NOT met'} ({together:.3f} s).",
      f"Values: Fréchet {values['frechet']:.3f}, MMD^2 {values['mmd']:.5f}, p-value "
      f"{values['p_value']:.4f}, diversity ratio {values['diversity_ratio']:.3f} "
      "(uncalibrated: timing only, no verdict). Other processes share the machine: the "
      "load average says how busy it was.",
      "",
  ]
  return lines


def _median_time(fn):
  return common.median_time(fn, NUM_RUNS)


def main(argv=None):
  argv = sys.argv[1:] if argv is None else argv
  if argv:
    raise SystemExit(f"{COMMAND} takes no arguments, got {argv}")
  ref, other, names, description = load_sets()
  load_before = common.load_average()
  results = run_benchmark(ref, other, names)
  values = set_measures.compare_sets(ref, other, names, num_permutations=NUM_PERMUTATIONS)
  section = format_section(results, description, values, load_before)
  common.write_section(BENCHMARKS_FILE, section)
  print("\n".join(section))


if __name__ == "__main__":
  main()
