r"""The writer's pieces by measures that are not the signature's features: profiles.

    python -m benchmarks.bench_profiles --runs RUN[,RUN...] \
        [--variants writer,writer (without pitch peaks)] \
        [--corpus ../shared/data/beethoven_piano] [--num_pieces 500] [--splits 10] \
        [--out_dir out/bench_profiles] [--out BENCHMARKS.md] [--section TITLE]

The set-level judgement of `bench_writer` reads the 17 features and the `extended` ones. A
recipe could learn to please those and still get the music wrong elsewhere, so this script
looks at the same kind of pieces through `metric.profiles`: pitch classes, registers,
polyphony (pitches on per step), onset positions in the beat, melodic intervals, note
lengths and chord sizes, each a histogram pooled over the set, compared with the corpus's
by the total variation distance. The yardstick is the distance between two piece-level
halves of the corpus (`profiles.calibrate`, `--splits` random splits, seed 0): a set within
the halves' largest distance is as near the corpus as one half of it is to the other.

For every training folder of `--runs` and every variant of `--variants`
(`bench_writer.VARIANTS`; its decoding fields replace the folder's, as in `bench_draws`),
`--num_pieces` pieces come straight from the sampler (seed = the folder's training seed,
the draw `bench_writer` scores), with no selection. Beside the profiles, each set's semitone
clusters (`profiles.semitone_clusters`), and those of `--corpus` and `--cluster_corpora`;
and how near each piece comes to copying a training chunk (`profiles.nearest_overlap`: its
largest overlap with one of `--corpus`'s chunks, against the corpus's own chunks' with the
chunks of its other pieces), so that a sampler that got nearer the corpus by copying it
shows. Writes `bench_profiles.json` (every
distance, the corpus halves' distances, the command) under `--out_dir`, and the section
`--section` of `--out`.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys

import numpy as np

from benchmarks import bench_writer
from benchmarks import common
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import profiles
from draw_music.writer import generate
from draw_music.writer import train

SECTION = "## The writer by profiles: measures that are not the signature's features"


def score_run(run, variants, num_pieces, reference, calibration, chunks=None):
  """`[record]` of one training folder, one per variant (with `chunks`, the training
  chunks, also each piece's nearest overlap with one of them: `profiles.nearest_overlap`)."""
  model, step = train.load_trained(run)
  _, train_config = train.load_run_config(run)
  out = []
  for variant in variants:
    bench_writer.decode_as(model, bench_writer.variant_config(variant), run, step)
    _, rolls = generate.generate_rolls(model, num_pieces, model.config.alpha,
                                       train_config.seed)
    compared = profiles.compare(reference, rolls, calibration)
    cells, pieces = profiles.semitone_clusters(rolls)
    out.append({"run": str(run), "variant": variant, "step": step,
                "seed": train_config.seed, "profiles": compared,
                "semitone_clusters": {"cells": cells, "pieces": pieces}})
    if chunks is not None:
      out[-1]["nearest_overlap"] = _overlap_summary(profiles.nearest_overlap(rolls, chunks))
    print(f"[{pathlib.Path(run).name}, {variant}] step {step}: " + ", ".join(
        f"{k} {v['distance']:.3f}" for k, v in compared.items()), flush=True)
  return out


def _overlap_summary(overlaps):
  return {"median": float(np.median(overlaps)), "largest": float(np.max(overlaps))}


def section_lines(records, calibration, args, clusters=None, corpus_overlap=None):
  names = profiles.PROFILE_NAMES
  lines = [args.section, "",
           f"Command: `{common.command_line('benchmarks.bench_profiles')}`  ",
           f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ",
           f"Machine: {common.machine_line()}  ", "",
           f"Corpus `{args.corpus}`; {args.num_pieces} pieces per row straight from the "
           "sampler (seed = training seed, the draw `bench_writer` scores), no selection. "
           "Each cell: the total variation distance between the pieces' pooled histogram "
           "and the corpus's (0: the same; 1: nothing in common); a star marks one beyond "
           f"the largest distance between two piece-level halves of the corpus "
           f"({args.splits} random splits, seed 0). `metric.profiles` says what each "
           "histogram counts. Records: `bench_profiles.json` under the out_dir.", "",
           "| corpus halves | " + " | ".join(names) + " |",
           "|---|" + "---|" * len(names),
           "| median | " + " | ".join(f"{np.median(calibration[k]):.3f}" for k in names)
           + " |",
           "| largest | " + " | ".join(f"{max(calibration[k]):.3f}" for k in names) + " |",
           "",
           "| model | variant | step | " + " | ".join(names) + " | within the halves | "
           "semitone clusters: cells, pieces |"
           + (" nearest training chunk: median, largest overlap |" if corpus_overlap else ""),
           "|---|---|---|" + "---|" * len(names) + "---|---|" + ("---|" if corpus_overlap
                                                                 else "")]
  for r in records:
    p = r["profiles"]
    cells = [f"{p[k]['distance']:.3f}" + ("" if p[k]["within"] else " *") for k in names]
    within = sum(p[k]["within"] for k in names)
    lines.append(f"| {pathlib.Path(r['run']).name} | {r['variant']} | {r['step']} | "
                 + " | ".join(cells) + f" | {within} of {len(names)} | "
                 + _cluster_cell(r["semitone_clusters"]) + " |"
                 + (f" {_overlap_cell(r['nearest_overlap'])} |" if corpus_overlap else ""))
  if corpus_overlap:
    lines += ["", "Nearest training chunk (`profiles.nearest_overlap`): for each piece, its "
              "largest overlap with one of the corpus's chunks (cells active in both over "
              "cells active in either; 1 would be a copy); the median over the pieces and "
              "the largest. The corpus's own chunks against the chunks of its other pieces: "
              f"{_overlap_cell(corpus_overlap)}."]
  if clusters:
    lines += ["", "Semitone clusters (`profiles.semitone_clusters`: the share of active cells "
              "with an active semitone neighbour at the same step, and the share of chunks "
              "or pieces with one) of the corpora's non-overlapping 104-step chunks: "
              + "; ".join(f"`{name}` {_cluster_cell(c)}" for name, c in clusters.items())
              + "."]
  return lines


def _overlap_cell(overlap):
  return f"{overlap['median']:.3f}, {overlap['largest']:.3f}"


def _cluster_cell(clusters):
  return f"{100 * clusters['cells']:.2f}%, {100 * clusters['pieces']:.1f}%"


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_profiles")
  parser.add_argument("--runs", required=True, help="training folders, comma list")
  parser.add_argument("--variants", default="writer",
                      help=f"whose decoders turn the canvases into notes, comma list of "
                           f"{sorted(bench_writer.VARIANTS)}")
  parser.add_argument("--corpus", default="../shared/data/beethoven_piano")
  parser.add_argument("--num_pieces", type=int, default=500)
  parser.add_argument("--splits", type=int, default=10)
  parser.add_argument("--out_dir", default="out/bench_profiles")
  parser.add_argument("--out", default="BENCHMARKS.md")
  parser.add_argument("--section", default=SECTION)
  parser.add_argument("--cluster_corpora", default="",
                      help="more MIDI folders, comma list, whose semitone clusters are "
                           "written beside --corpus's (default: --corpus alone)")
  args = parser.parse_args(argv)
  if args.num_pieces < 1:
    parser.error(f"--num_pieces must be a positive integer, got {args.num_pieces}")
  if args.splits < 1:
    parser.error(f"--splits must be a positive integer, got {args.splits}")
  common.section_heading(parser, args.section)
  variants = args.variants.split(",")
  for variant in variants:
    if variant not in bench_writer.VARIANTS:
      parser.error(f"--variants: unknown variant {variant!r}; expected one of "
                   f"{sorted(bench_writer.VARIANTS)}")
  runs = common.training_folders(parser, args.runs)

  corpus = corpus_lib.load_corpus(args.corpus)
  chunks, piece_index = corpus_lib.corpus_chunks(corpus.rolls, 104)
  print(f"{len(corpus)} pieces, {len(chunks)} chunks; calibrating the profiles", flush=True)
  reference = profiles.profiles(chunks)
  calibration = profiles.calibrate(chunks, piece_index, args.splits, seed=0)
  clusters = {}
  for folder in [args.corpus] + [c for c in args.cluster_corpora.split(",") if c]:
    rolls = chunks if folder == args.corpus else corpus_lib.corpus_chunks(
        corpus_lib.load_corpus(folder).rolls, 104)[0]
    cells, pieces = profiles.semitone_clusters(rolls)
    clusters[folder] = {"cells": cells, "pieces": pieces}
  corpus_overlap = _overlap_summary(profiles.nearest_overlap(chunks, chunks, piece_index,
                                                             piece_index))
  records = []
  out_dir = pathlib.Path(args.out_dir)
  for run in runs:
    records += score_run(run, variants, args.num_pieces, reference, calibration, chunks)
    # Written after every folder, so a stopped run keeps what it measured.
    results.write_json(out_dir / "bench_profiles.json", {
        "run": results.run_info({"runs": [str(r) for r in runs], "variants": variants,
                                 "corpus": args.corpus, "num_pieces": args.num_pieces,
                                 "splits": args.splits}, 0),
        "corpus_halves": {k: [float(v) for v in calibration[k]] for k in calibration},
        "corpus_profiles": {k: [float(v) for v in reference[k]] for k in reference},
        "corpus_semitone_clusters": clusters,
        "corpus_nearest_overlap": corpus_overlap,
        "records": records})
  lines = section_lines(records, calibration, args, clusters, corpus_overlap)
  common.write_section(pathlib.Path(args.out), lines)
  print("\n".join(lines))
  return 0


if __name__ == "__main__":
  sys.exit(main())
