"""Score MIDI files against a reference corpus with the paper's measure.

    python -m draw_music.evaluate --reference DIR --pieces DIR_OR_FILE [DIR_OR_FILE ...]
        [--chunk_steps 104] [--feature_set rizo17] [--json]

The reference is every MIDI file under `--reference`, cut into chunks of `--chunk_steps`
steps; its signatures give the mean and covariance. Each piece is cut into chunks of the
same length (the features depend on length, so a piece is compared chunk by chunk with the
reference's chunks); silent chunks are left out as in the reference, unless the piece is
all silence. A piece's distance is the mean of its chunks' distances, its category
the Table II category of that mean, and its top features those with the largest mean share
of `D^2` over its chunks. A piece shorter than one chunk is scored whole, and says so.

Exit status: 0 on success, 2 on bad input (missing folder, unreadable or too small
reference, no readable piece). Files that cannot be decoded are skipped and listed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

from draw_music import corpus as corpus_lib
from draw_music import features as features_lib
from draw_music import measure
from draw_music import midi_io


class EvaluationError(Exception):
  """Bad input to the evaluation: the message says which folder or file and what is wrong."""


def build_reference(folder, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS,
                    feature_set=features_lib.DEFAULT_FEATURE_SET, verbose=False):
  """A `measure.Reference` from every MIDI file under `folder`, and the corpus it read.

  Raises:
    EvaluationError: the folder is missing, holds no readable MIDI file, or gives fewer
      chunks than features.
  """
  try:
    corpus = corpus_lib.load_corpus(folder, verbose=verbose)
  except (FileNotFoundError, NotADirectoryError) as e:
    raise EvaluationError(f"--reference: {e}") from e
  if not len(corpus):
    raise EvaluationError(f"--reference: no readable MIDI file under {folder!r}"
                          + (f" ({len(corpus.skipped)} skipped)" if corpus.skipped else ""))
  chunks, _ = corpus_lib.corpus_chunks(corpus.rolls, chunk_steps)
  num_features = len(features_lib.feature_names(feature_set))
  if len(chunks) < num_features:
    raise EvaluationError(
        f"--reference: {folder!r} gives {len(chunks)} non-empty chunks of {chunk_steps} "
        f"steps, fewer than the {num_features} features; the covariance cannot be "
        "estimated (add MIDI files or lower --chunk_steps)")
  return measure.reference_from_rolls(chunks, feature_set), corpus


def collect_pieces(items):
  """MIDI paths named by `items` (files, or folders searched recursively), in order.

  Raises:
    EvaluationError: an item does not exist, or nothing is found.
  """
  paths = []
  for item in items:
    p = pathlib.Path(item)
    if p.is_dir():
      paths.extend(corpus_lib.find_midi_files(p))
    elif p.is_file():
      paths.append(p)
    else:
      raise EvaluationError(f"--pieces: {item!r} is neither a file nor a folder")
  if not paths:
    raise EvaluationError(f"--pieces: no MIDI file found in {list(items)}")
  return paths


def score_rolls(reference, rolls, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS,
                feature_set=features_lib.DEFAULT_FEATURE_SET, top_k=3):
  """Scores pieces of any length against `reference`, chunk by chunk.

  Args:
    reference: a `measure.Reference` built from chunks of `chunk_steps` steps.
    rolls: sequence of `[time_i, 128]` piano rolls.
    chunk_steps: chunk length the reference was built with.
    feature_set: the reference's feature set.
    top_k: how many top contributing features to name.

  Returns:
    One dict per roll: `distance` (mean over chunks), `category`, `num_chunks`, `whole`
    (scored whole because shorter than a chunk), `chunk_distances`, `top_features`.
  """
  results = []
  for roll in rolls:
    # Silent chunks are left out, as in the reference, unless the piece has nothing else.
    chunks = corpus_lib.chunk_roll(roll, chunk_steps)
    if len(chunks) == 0:
      chunks = corpus_lib.chunk_roll(roll, chunk_steps, drop_empty=False)
    if len(chunks) == 0:  # shorter than one chunk: scored whole
      chunks = np.asarray(roll)[None]
    sig = features_lib.signatures(chunks, feature_set)
    dist = reference.distance(sig)
    share = reference.contributions(sig).mean(axis=0)
    top = [reference.feature_names[j] for j in np.argsort(-share)[:top_k]]
    d = float(dist.mean())
    results.append({
        "distance": d,
        "category": measure.CATEGORY_NAMES[int(measure.categorize(d))],
        "num_chunks": int(len(chunks)),
        "whole": bool(chunks.shape[1] != chunk_steps),
        "chunk_distances": [float(x) for x in dist],
        "top_features": top,
    })
  return results


def summarize(distances):
  """Mean, std, median and fraction per Table II category of `[n]` distances."""
  d = np.asarray(distances, np.float64)
  cats = measure.categorize(d)
  return {
      "count": int(d.size),
      "mean": float(d.mean()) if d.size else float("nan"),
      "std": float(d.std(ddof=1)) if d.size > 1 else 0.0,
      "median": float(np.median(d)) if d.size else float("nan"),
      "fraction_per_category": {name: float(np.mean(cats == i)) if d.size else 0.0
                                for i, name in enumerate(measure.CATEGORY_NAMES)},
  }


def evaluate_paths(reference_dir, piece_items, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS,
                   feature_set=features_lib.DEFAULT_FEATURE_SET, verbose=False):
  """The whole evaluation as a JSON-ready dict (what `--json` prints).

  Raises:
    EvaluationError: on bad input (see `build_reference`, `collect_pieces`).
  """
  paths = collect_pieces(piece_items)  # cheap checks first
  reference, ref_corpus = build_reference(reference_dir, chunk_steps, feature_set, verbose)
  rolls, names, skipped = [], [], []
  for path in paths:
    try:
      rolls.append(midi_io.read_midi(path))
      names.append(str(path))
    except midi_io.MidiDecodeError as e:
      skipped.append({"file": str(path), "reason": e.reason})
  if not rolls:
    raise EvaluationError("--pieces: no readable MIDI file; skipped: "
                          + "; ".join(f"{s['file']}: {s['reason']}" for s in skipped))
  scored = score_rolls(reference, rolls, chunk_steps, feature_set)
  pieces = [{"file": name, **r} for name, r in zip(names, scored)]
  return {
      "reference": {"folder": str(reference_dir), "num_files": len(ref_corpus),
                    "num_chunks": reference.num_samples, "chunk_steps": chunk_steps,
                    "feature_set": feature_set,
                    "constant_features": list(reference.constant_features),
                    "skipped": [{"file": f, "reason": r} for f, r in ref_corpus.skipped]},
      "pieces": pieces,
      "skipped": skipped,
      "summary": summarize([p["distance"] for p in pieces]),
  }


def format_report(result):
  """The readable report of an `evaluate_paths` result."""
  ref = result["reference"]
  lines = [f"reference: {ref['folder']} ({ref['num_files']} files, {ref['num_chunks']} chunks "
           f"of {ref['chunk_steps']} steps, features {ref['feature_set']})"]
  if ref["constant_features"]:
    lines.append("  constant in the reference (deviations there are not seen): "
                 + ", ".join(ref["constant_features"]))
  for s in ref["skipped"]:
    lines.append(f"  skipped reference file {s['file']}: {s['reason']}")
  width = max(len(p["file"]) for p in result["pieces"])
  lines.append("")
  lines.append(f"{'piece':<{width}}  distance  chunks  category          top features")
  for p in result["pieces"]:
    note = " (whole, shorter than a chunk)" if p["whole"] else ""
    lines.append(f"{p['file']:<{width}}  {p['distance']:8.3f}  {p['num_chunks']:6d}  "
                 f"{p['category']:<16}  {', '.join(p['top_features'])}{note}")
  for s in result["skipped"]:
    lines.append(f"skipped {s['file']}: {s['reason']}")
  summ = result["summary"]
  lines.append("")
  lines.append(f"{summ['count']} pieces: distance {summ['mean']:.3f} +- {summ['std']:.3f} "
               f"(median {summ['median']:.3f})")
  lines.append("  " + ", ".join(f"{name}: {100 * frac:.0f}%" for name, frac
                                in summ["fraction_per_category"].items()))
  return "\n".join(lines)


def _parser():
  parser = argparse.ArgumentParser(
      prog="python -m draw_music.evaluate",
      description="Mahalanobis distance of MIDI pieces to a reference corpus "
                  "(Sabathe et al. 2017).")
  parser.add_argument("--reference", required=True, help="folder of reference MIDI files")
  parser.add_argument("--pieces", required=True, nargs="+",
                      help="MIDI files or folders of MIDI files to score")
  parser.add_argument("--chunk_steps", type=int, default=corpus_lib.DEFAULT_CHUNK_STEPS,
                      help="chunk length in steps of 1/8 beat (default 104)")
  parser.add_argument("--feature_set", default=features_lib.DEFAULT_FEATURE_SET,
                      choices=sorted(features_lib.FEATURE_SETS))
  parser.add_argument("--json", action="store_true", help="print JSON instead of a report")
  return parser


def main(argv=None):
  args = _parser().parse_args(argv)
  if args.chunk_steps <= 0:
    print(f"error: --chunk_steps must be a positive integer, got {args.chunk_steps}",
          file=sys.stderr)
    return 2
  try:
    result = evaluate_paths(args.reference, args.pieces, args.chunk_steps, args.feature_set)
  except EvaluationError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  print(json.dumps(result, indent=1) if args.json else format_report(result))
  return 0


if __name__ == "__main__":
  sys.exit(main())
