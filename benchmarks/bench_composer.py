"""Times the extended signature, the piece-level permutation test and the composer-separation
experiment; records them in BENCHMARKS.md.

  python -m benchmarks.bench_composer

1. Signatures: 6,000 chunks of 104 steps (the first 6,000 of the chunks of every folder of
   `../shared/data`, in name order; without it, 6,000 synthetic rolls of density 0.05) with
   `extended` and with the 17 features (`rizo17`). Goal: extended within 3x the 17.
2. The piece-level permutation test (`set_measures.piece_permutation_test`, 1,000
   permutations, both statistics, `extended` features) on 1,500 x 1,500 chunks: 1,500
   Beethoven chunks (with their pieces) against 1,500 independent chunks (the worst case:
   every chunk its own piece, as generated chunks are; here 1,500 Schubert chunks with
   their piece index dropped), and against 1,500 Schubert chunks with their pieces (piece
   means). Synthetic Gaussian sets without the shared data. Goal: under 5 s.
3. The separation experiment's computation (`composer_separation.composer_separation`,
   defaults: 1,000 permutations) on six corpora: the five folders of `../shared/data` and
   music21's first 60 Bach chorales (`bundled.bundled_corpus_dir("bach", 60)`, converted
   before timing), corpora loaded from the cache before timing. Goal: under 2 minutes.
Medians of several runs after one warm-up run (3 runs of the experiment, no warm-up).

Writes (or replaces) the "## Composer separation" section of BENCHMARKS.md.
"""

from __future__ import annotations

import datetime
import pathlib
import sys

import numpy as np

from benchmarks import common
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import composer_separation
from draw_music.metric import features
from draw_music.metric import set_measures

REPO = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS_FILE = REPO / "BENCHMARKS.md"
SHARED_DATA = REPO.parent / "shared" / "data"
SECTION = "## Composer separation"
COMMAND = "python -m benchmarks.bench_composer"
NUM_CHUNKS = 6000
NUM_SET = 1500
NUM_PERMUTATIONS = 1000
NUM_RUNS = 5
EXPERIMENT_RUNS = 3
FOLDERS = ("beethoven_piano", "jazz", "mozart_piano", "other", "schubert_piano")




def _median_time(fn, runs=NUM_RUNS, warm_up=True):
  return common.median_time(fn, runs, warm_up)

def _corpora():
  """`name -> rolls` of the shared folders (empty without them)."""
  if not all((SHARED_DATA / f).is_dir() for f in FOLDERS):
    return {}
  return {f: corpus_lib.load_corpus(SHARED_DATA / f).rolls for f in FOLDERS}


def main(argv=None):
  argv = sys.argv[1:] if argv is None else argv
  if argv:
    raise SystemExit(f"{COMMAND} takes no arguments, got {argv}")
  corpora = _corpora()
  rng = np.random.default_rng(0)
  rows, notes = [], []
  load_before = common.load_average()

  # 1. Signatures.
  if corpora:
    chunks = np.concatenate([corpus_lib.corpus_chunks(corpora[f])[0] for f in FOLDERS])
    chunks = chunks[:NUM_CHUNKS]
    data1 = f"the first {len(chunks)} chunks of {', '.join(FOLDERS)} (104 steps)"
  else:
    chunks = rng.random((NUM_CHUNKS, 104, 128)) < 0.05
    data1 = f"{NUM_CHUNKS} synthetic rolls of 104 steps, density 0.05"
  t17 = _median_time(lambda: features.signatures(chunks, "rizo17"))
  text = _median_time(lambda: features.signatures(chunks, "extended"))
  rows.append(("signatures, rizo17 (17 features)", t17))
  rows.append(("signatures, extended (25 features)", text))
  ratio = text[0] / t17[0]
  notes.append(f"Signatures ({data1}): extended / rizo17 = {ratio:.2f} (goal <= 3: "
               f"{'met' if ratio <= 3 else 'NOT met'}).")

  # 2. Piece-level permutation test.
  if corpora:
    b_chunks, b_index = corpus_lib.corpus_chunks(corpora["beethoven_piano"])
    s_chunks, s_index = corpus_lib.corpus_chunks(corpora["schubert_piano"])
    pick_b = np.sort(rng.choice(len(b_chunks), NUM_SET, replace=False))
    pick_s = np.sort(rng.choice(len(s_chunks), NUM_SET, replace=False))
    ref = features.signatures(b_chunks[pick_b], "extended")
    other = features.signatures(s_chunks[pick_s], "extended")
    ref_index, other_index = b_index[pick_b], s_index[pick_s]
    data2 = (f"{NUM_SET} of {len(b_chunks)} Beethoven chunks "
             f"({np.unique(ref_index).size} pieces) vs {NUM_SET} of {len(s_chunks)} Schubert "
             "chunks, drawn with seed 0")
  else:
    ref, other = rng.normal(size=(NUM_SET, 25)), rng.normal(size=(NUM_SET, 25))
    ref_index, other_index = np.repeat(np.arange(30), NUM_SET // 30), np.repeat(
        np.arange(30), NUM_SET // 30)
    data2 = f"synthetic Gaussian sets of {NUM_SET} x 25 in 30 pieces each"
  worst = _median_time(lambda: set_measures.piece_permutation_test(
      ref, other, ref_index, None, NUM_PERMUTATIONS, seed=0))
  pieces = _median_time(lambda: set_measures.piece_permutation_test(
      ref, other, ref_index, other_index, NUM_PERMUTATIONS, seed=0, unit="piece"))
  rows.append((f"piece-level test, {NUM_PERMUTATIONS} permutations, Fréchet + MMD, "
               f"{NUM_SET} chunks in pieces vs {NUM_SET} independent chunks", worst))
  rows.append((f"piece-level test, {NUM_PERMUTATIONS} permutations, Fréchet + MMD, "
               f"pieces vs pieces (piece means)", pieces))
  notes.append(f"Piece-level test ({data2}): worst case {worst[0]:.2f} s (goal < 5 s: "
               f"{'met' if worst[0] < 5 else 'NOT met'}).")

  # 3. The separation experiment on six corpora.
  if corpora:
    from draw_music.corpora import bundled  # pylint: disable=g-import-not-at-top
    six = dict(corpora)
    six["bach-first60"] = corpus_lib.load_corpus(
        bundled.bundled_corpus_dir("bach", 60, verbose=False)).rolls
    experiment = _median_time(lambda: composer_separation.composer_separation(six),
                              runs=EXPERIMENT_RUNS, warm_up=False)
    rows.append(("composer_separation on six corpora (15 pairs, 6 halvings, 1000 "
                 "permutations each, relative views)", experiment))
    notes.append(f"Separation experiment on six corpora: {experiment[0]:.1f} s (goal < 120 s: "
                 f"{'met' if experiment[0] < 120 else 'NOT met'}); loading and "
                 "converting the corpora are not timed (cached).")
  else:
    notes.append("Separation experiment: not timed (shared data not found).")

  lines = [
      SECTION, "",
      f"Command: `{COMMAND}`  ",
      f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  ",
      f"Machine: {common.machine_line()}; load average (1 / 5 / 15 min) before: "
      f"{load_before}, after: {common.load_average()}. Other agents shared the machine.",
      "",
      f"Median of {NUM_RUNS} runs after one warm-up run ({EXPERIMENT_RUNS} runs, no "
      "warm-up, for the experiment); every run's time in the last column:",
      "",
      "| step | median s | runs s |",
      "| --- | ---: | --- |",
  ]
  lines += [f"| {name} | {m:.3f} | {', '.join(f'{t:.3f}' for t in ts)} |"
            for name, (m, ts) in rows]
  lines += [""] + notes + [""]
  common.write_section(BENCHMARKS_FILE, lines)
  print("\n".join(lines))


if __name__ == "__main__":
  main()
