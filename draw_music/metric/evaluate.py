"""Score MIDI files against a reference corpus with the paper's measure, and as a set.

    python -m draw_music.metric.evaluate --reference DIR
        --pieces DIR_OR_FILE [DIR_OR_FILE ...]
        [--chunk_steps 104] [--feature_set rizo17] [--json]
        [--set_level [--seed 0] [--num_permutations 1000] [--num_splits 10]
                     [--set_level_test piece|chunk]]

The reference is every MIDI file under `--reference`, cut into chunks of `--chunk_steps`
steps; its signatures give the mean and covariance. Each piece is cut into chunks of the
same length (the features depend on length, so a piece is compared chunk by chunk with the
reference's chunks); silent chunks are left out as in the reference, unless the piece is
all silence. A piece's distance is the mean of its chunks' distances, its category
the Table II category of that mean, and its top features those with the largest mean share
of `D^2` over its chunks. A piece shorter than one chunk is scored whole, and says so.

`--set_level` also judges the pieces as one set (`draw_music.metric.set_measures`): the
chunks the pieces were scored on (pieces shorter than a chunk left out: their signatures have
another length) are compared with the reference's chunks by the Fréchet distance, the MMD
permutation test, per-feature KS tests, the relative view and the diversity ratio, and
`compare_sets` gives a verdict ("same" or "different") from the piece-level permutation test
(whole files reassigned between the two sets; `--set_level_test chunk` for the older
chunk-level test with a bound calibrated on piece-level halves of the reference, which
stays in the report as a second view). `--feature_set extended` judges on the richer
signature (`features_extended`), which tells composers apart better. `set_level_report` is the
same computation for callers that already hold signatures.

Exit status: 0 on success, 2 on bad input (missing folder, unreadable or too small
reference, no readable piece; with `--set_level`, fewer chunks in the pieces than
`min_set_level_chunks` or a reference of a single piece). Files that cannot be decoded are
skipped and listed.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

from draw_music import cli
from draw_music.corpora import corpus as corpus_lib
from draw_music.corpora import midi_io
from draw_music.metric import features as features_lib
from draw_music.metric import measure
from draw_music.metric import set_measures

# `set_level_report` defaults: calibration splits, permutations of the verdict's MMD test,
# and permutations of each calibration split's test (only recorded, never used by the rule).
DEFAULT_NUM_SPLITS = 10
DEFAULT_NUM_PERMUTATIONS = 1000
DEFAULT_CALIBRATION_PERMUTATIONS = 200
# Features the readable set-level report names, by decreasing KS statistic.
_TOP_KS = 5


class EvaluationError(Exception):
  """Bad input to the evaluation: the message says which folder or file and what is wrong."""


def build_reference(folder, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS,
                    feature_set=features_lib.DEFAULT_FEATURE_SET, verbose=False):
  """A `measure.Reference` from every MIDI file under `folder`, and the corpus it read.

  Raises:
    EvaluationError: the folder is missing, holds no readable MIDI file, or gives fewer
      chunks than features.
  """
  reference, corpus, _, _ = _read_reference(folder, chunk_steps, feature_set, verbose)
  return reference, corpus


def _read_reference(folder, chunk_steps, feature_set, verbose):
  """`build_reference`'s work: `(reference, corpus, [n, F] chunk signatures, [n] piece)`."""
  try:
    corpus = corpus_lib.load_corpus(folder, verbose=verbose)
  except (FileNotFoundError, NotADirectoryError) as e:
    raise EvaluationError(f"--reference: {e}") from e
  if not len(corpus):
    raise EvaluationError(f"--reference: no readable MIDI file under {folder!r}"
                          + (f" ({len(corpus.skipped)} skipped)" if corpus.skipped else ""))
  chunks, piece_index = corpus_lib.corpus_chunks(corpus.rolls, chunk_steps)
  num_features = len(features_lib.feature_names(feature_set))
  if len(chunks) < num_features:
    raise EvaluationError(
        f"--reference: {folder!r} gives {len(chunks)} non-empty chunks of {chunk_steps} "
        f"steps, fewer than the {num_features} features; the covariance cannot be "
        "estimated (add MIDI files or lower --chunk_steps)")
  sigs = features_lib.signatures(chunks, feature_set)
  reference = measure.Reference.from_signatures(sigs, features_lib.feature_names(feature_set))
  return reference, corpus, sigs, piece_index


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


def piece_chunks(roll, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS):
  """The chunks a piece is scored on, as `score_rolls` cuts them.

  Silent chunks are left out, as in the reference, unless the piece has nothing else; a
  piece shorter than one chunk is one whole "chunk" of its own length.

  Args:
    roll: `[time, 128]` piano roll.
    chunk_steps: chunk length in steps.

  Returns:
    `(chunks, whole)`: `[num_chunks, chunk_steps, 128]` chunks (or `[1, time, 128]` when
    `whole`), and whether the piece is scored whole.
  """
  chunks = corpus_lib.chunk_roll(roll, chunk_steps)
  if len(chunks) == 0:
    chunks = corpus_lib.chunk_roll(roll, chunk_steps, drop_empty=False)
  if len(chunks) == 0:  # shorter than one chunk: scored whole
    return np.asarray(roll)[None], True
  return chunks, False


def _score_parts(reference, parts, feature_set, top_k):
  """Scores pieces already cut by `piece_chunks`; returns the results and the signatures.

  The chunks of every piece cut to full length are scored in one batch; a piece scored
  whole (shorter than a chunk) is its own batch, as its length differs.

  Returns:
    `(results, signatures)`: one `score_rolls` dict per piece, and each piece's `[k, F]`
    chunk signatures.
  """
  full = [chunks for chunks, whole in parts if not whole]
  full_sigs = (np.split(features_lib.signatures(np.concatenate(full), feature_set),
                        np.cumsum([len(c) for c in full])[:-1]) if full else [])
  full_sigs = iter(full_sigs)
  results, signatures = [], []
  for chunks, whole in parts:
    sig = features_lib.signatures(chunks, feature_set) if whole else next(full_sigs)
    dist = reference.distance(sig)
    share = reference.contributions(sig).mean(axis=0)
    top = [reference.feature_names[j] for j in np.argsort(-share)[:top_k]]
    d = float(dist.mean())
    results.append({
        "distance": d,
        "category": measure.CATEGORY_NAMES[int(measure.categorize(d))],
        "num_chunks": int(len(chunks)),
        "whole": whole,
        "chunk_distances": [float(x) for x in dist],
        "top_features": top,
    })
    signatures.append(sig)
  return results, signatures


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
  parts = [piece_chunks(roll, chunk_steps) for roll in rolls]
  return _score_parts(reference, parts, feature_set, top_k)[0]


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


def min_set_level_chunks(num_features):
  """Fewest chunks a set needs for the set-level measures: one per feature.

  The Fréchet distance fits a `[F, F]` covariance to the set, which fewer than F chunks
  cannot determine. That is a floor, not a recommendation: the verdict is only as firm as
  the set is large (hundreds of chunks give a stable one).
  """
  return int(num_features)


def set_level_report(ref_chunk_sigs, ref_piece_index, other_sigs, feature_names, seed=0,
                     calibration=None, num_splits=DEFAULT_NUM_SPLITS,
                     num_permutations=DEFAULT_NUM_PERMUTATIONS,
                     calibration_permutations=DEFAULT_CALIBRATION_PERMUTATIONS,
                     other_piece_index=None, test="piece",
                     statistic=set_measures.DEFAULT_PIECE_STATISTIC, relative=True):
  """Judges a set of signatures against a chunked reference corpus, as one set.

  Calibrates the reference on piece-level halves of itself (`set_measures.calibrate`,
  `num_splits` splits) unless `calibration` is given, then runs `set_measures.compare_sets`
  with that calibration. This is what `--set_level` prints, for callers that already hold
  signatures (for example a training script's generated chunks).

  With `test="piece"` (default) the verdict is the piece-level permutation test
  (`set_measures.piece_permutation_test`: the reference's pieces, and the other set's
  pieces when `other_piece_index` is given, else each of its chunks, reassigned whole) and
  the calibrated bound is a second view (`bound_view`); `test="chunk"` is the rule before
  it (chunk-level MMD test and calibrated Fréchet bound). See `compare_sets`.

  Args:
    ref_chunk_sigs: `[n, F]` float64 signatures of the reference corpus's chunks.
    ref_piece_index: `[n]` int, the piece each reference chunk comes from (at least two
      distinct pieces).
    other_sigs: `[m, F]` signatures of the set to judge, m >= `min_set_level_chunks(F)`.
    feature_names: the F feature names.
    seed: seed of the calibration splits and of every permutation test.
    calibration: a `set_measures.Calibration` of exactly this reference, to reuse (when
      judging several sets against one reference); None computes it.
    num_splits: calibration splits (ignored when `calibration` is given).
    num_permutations: permutations of the verdict's MMD test.
    calibration_permutations: permutations of each split's test (recorded only).
    other_piece_index: `[m]` piece of each of `other_sigs`, or None (independent chunks).
    test: 'piece' or 'chunk' (above).
    statistic: 'mmd' or 'frechet', the piece-level test's statistic for the verdict.
    relative: also compute `set_measures.relative_view` (key `relative`).

  Returns:
    `compare_sets`'s dict (`frechet`, `mmd`, `p_value`, `diversity_ratio`, `verdict`,
    `reason`, `ks`, `thresholds`, `calibrated`, `num_ref`, `num_other`, `test`, and with the
    piece-level test `statistic`, `frechet_p_value`, `mmd_p_value`, `piece_test`,
    `bound_view`) plus `num_permutations`, `seed`, `calibration`: `{"num_splits",
    "num_pieces"}` and the `Calibration.summary()` of each measure over the splits, and
    `relative` (a list, or None). Plain floats, JSON-ready.

  Raises:
    ValueError: fewer than `min_set_level_chunks(F)` signatures in `other_sigs`, a
      reference of one piece, or mismatched shapes.
  """
  other = np.asarray(other_sigs, np.float64)
  needed = min_set_level_chunks(len(feature_names))
  if other.ndim != 2 or other.shape[0] < needed:
    got = other.shape[0] if other.ndim == 2 else f"an array of shape {other.shape}"
    raise ValueError(f"the set-level measures need at least {needed} signatures (one per "
                     f"feature), got {got}")
  if test not in ("piece", "chunk"):
    raise ValueError(f"test must be 'piece' or 'chunk', got {test!r}")
  if calibration is None:
    calibration = set_measures.calibrate(ref_chunk_sigs, ref_piece_index, num_splits, seed,
                                         calibration_permutations)
  piece = test == "piece"
  result = set_measures.compare_sets(
      ref_chunk_sigs, other, feature_names, calibration, num_permutations, seed,
      ref_piece_index=np.asarray(ref_piece_index) if piece else None,
      other_piece_index=other_piece_index if piece else None, statistic=statistic)
  result["relative"] = (set_measures.relative_view(ref_chunk_sigs, other, feature_names,
                                                   seed=seed) if relative else None)
  return {**result, "num_permutations": int(num_permutations), "seed": seed,
          "calibration": {"num_splits": calibration.num_splits,
                          "num_pieces": calibration.num_pieces, **calibration.summary()}}


def set_level_judgement(ref_chunks, ref_piece_index, chunks, feature_set="extended",
                        seed=0, num_permutations=DEFAULT_NUM_PERMUTATIONS,
                        other_piece_index=None, num_splits=DEFAULT_NUM_SPLITS):
  """The set-level judgement of rolls against a chunked corpus, on any feature set.

  Signatures of both (`features.signatures(..., feature_set)`), then `set_level_report`
  (piece-level permutation test). For a training report: `feature_set="extended"` tells
  composers apart where the paper's 17 features do not (README, "Telling composers apart").

  Args:
    ref_chunks: `[n, T, 128]` corpus chunks.
    ref_piece_index: `[n]` piece of each corpus chunk.
    chunks: `[m, T, 128]` rolls to judge (e.g. generated pieces), m >= F.
    feature_set: a key of `features.FEATURE_SETS`.
    seed, num_permutations, num_splits: as `set_level_report`.
    other_piece_index: `[m]` piece of each judged chunk, or None (independent chunks).

  Returns:
    `set_level_report`'s dict plus `feature_set`.
  """
  names = features_lib.feature_names(feature_set)
  report = set_level_report(features_lib.signatures(ref_chunks, feature_set),
                            np.asarray(ref_piece_index),
                            features_lib.signatures(chunks, feature_set), names, seed=seed,
                            num_splits=num_splits, num_permutations=num_permutations,
                            other_piece_index=other_piece_index)
  return {**report, "feature_set": feature_set}


def evaluate_paths(reference_dir, piece_items, chunk_steps=corpus_lib.DEFAULT_CHUNK_STEPS,
                   feature_set=features_lib.DEFAULT_FEATURE_SET, verbose=False,
                   set_level=False, seed=0, num_permutations=DEFAULT_NUM_PERMUTATIONS,
                   num_splits=DEFAULT_NUM_SPLITS, test="piece"):
  """The whole evaluation as a JSON-ready dict (what `--json` prints).

  With `set_level`, the dict also holds `set_level`: `set_level_report` of the pieces'
  chunks against the reference's chunks (each reference file one piece, and each file of
  the pieces one piece for the piece-level test `test`), plus
  `num_pieces` (pieces that gave chunks) and `left_out` (files shorter than one chunk).

  Raises:
    EvaluationError: on bad input (see `build_reference`, `collect_pieces`); with
      `set_level`, also when the pieces give fewer than `min_set_level_chunks` chunks or
      the reference cannot be split into two halves of whole pieces.
  """
  paths = collect_pieces(piece_items)  # cheap checks first
  reference, ref_corpus, ref_sigs, ref_piece_index = _read_reference(
      reference_dir, chunk_steps, feature_set, verbose)
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
  result = {
      "reference": {"folder": str(reference_dir), "num_files": len(ref_corpus),
                    "num_chunks": reference.num_samples, "chunk_steps": chunk_steps,
                    "feature_set": feature_set,
                    "constant_features": list(reference.constant_features),
                    "skipped": [{"file": f, "reason": r} for f, r in ref_corpus.skipped]},
  }
  # Cut once: each piece is scored on these chunks, and with set_level they form the set.
  parts = [piece_chunks(roll, chunk_steps) for roll in rolls]
  if set_level:  # checked before scoring: the error should come fast
    kept = [not whole for _, whole in parts]  # pieces whose chunks form the set
    left_out = [name for name, (_, whole) in zip(names, parts) if whole]
    num_set_chunks = sum(len(chunks) for chunks, whole in parts if not whole)
    needed = min_set_level_chunks(reference.mean.shape[0])
    if num_set_chunks < needed:
      raise EvaluationError(
          f"--pieces: --set_level needs at least {needed} chunks of {chunk_steps} steps "
          f"(one per feature, to fit the covariance the Fréchet distance compares; "
          f"hundreds give a firmer verdict), but the pieces give {num_set_chunks}"
          + (f" ({len(left_out)} piece{'s' * (len(left_out) > 1)} shorter than one chunk "
             "left out)" if left_out else "")
          + "; give more or longer pieces, or lower --chunk_steps")
  scored, piece_sigs = _score_parts(reference, parts, feature_set, top_k=3)
  pieces = [{"file": name, **r} for name, r in zip(names, scored)]
  result.update(pieces=pieces, skipped=skipped,
                summary=summarize([p["distance"] for p in pieces]))
  if set_level:
    try:
      set_sigs = np.concatenate([sig for sig, k in zip(piece_sigs, kept) if k])
      set_index = np.concatenate([np.full(len(sig), i) for i, (sig, k)
                                  in enumerate(zip(piece_sigs, kept)) if k])
      report = set_level_report(ref_sigs, ref_piece_index, set_sigs,
                                reference.feature_names, seed=seed, num_splits=num_splits,
                                num_permutations=num_permutations,
                                other_piece_index=set_index, test=test)
    except ValueError as e:  # the reference is one piece, or dominated by one
      raise EvaluationError(f"--reference: the set-level calibration splits the reference "
                            f"into halves of whole files: {e}") from e
    result["set_level"] = {**report, "num_pieces": sum(kept), "left_out": left_out}
  return result


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
  if "set_level" in result:
    lines.append("")
    lines.append(format_set_level(result["set_level"], result["reference"]["chunk_steps"]))
  return "\n".join(lines)


def format_set_level(report, chunk_steps=None, top_k=_TOP_KS):
  """Readable lines of a `set_level_report` dict, naming the features that differ most.

  Args:
    report: `set_level_report`'s dict (with `num_pieces`, as `evaluate_paths` adds it, or
      without).
    chunk_steps: chunk length, for the header (optional).
    top_k: how many features to list, by decreasing KS statistic.
  """
  cal, thr = report["calibration"], report["thresholds"]
  steps = f" of {chunk_steps} steps" if chunk_steps else ""
  pieces = f" from {report['num_pieces']} pieces" if "num_pieces" in report else ""
  lines = [f"set level: {report['num_other']} chunks{steps}{pieces} against the reference's "
           f"{report['num_ref']} chunks ({cal['num_pieces']} pieces)",
           f"  verdict: {report['verdict'].upper()} ({report['reason']})"]
  bound = ("" if thr["frechet_bound"] is None else
           f"; bound {thr['frechet_bound']:.3g}")
  lines.append(f"  Fréchet distance {report['frechet']:.3g} (between halves of the reference: "
               f"{cal['frechet']['min']:.3g} to {cal['frechet']['max']:.3g} over "
               f"{cal['num_splits']} splits{bound})")
  if report.get("test") == "piece":
    piece = report["piece_test"]
    lines.append(f"  piece-level permutation test ({piece['num_pieces_ref']} reference pieces "
                 f"vs {piece['num_pieces_other']} pieces, {report['num_permutations']} "
                 f"permutations): MMD^2 {report['mmd']:.3g} p = {report['mmd_p_value']:.3g}; "
                 f"Fréchet p = {report['frechet_p_value']:.3g}; the verdict reads "
                 f"{report['statistic']}")
    if report.get("bound_view"):
      lines.append(f"  second view, calibrated Fréchet bound: {report['bound_view']}")
  else:
    lines.append(f"  MMD^2 {report['mmd']:.3g}, permutation p-value {report['p_value']:.3g} "
                 f"({report['num_permutations']} permutations; between halves of the "
                 f"reference: p {cal['p_value']['min']:.3g} to {cal['p_value']['max']:.3g})")
  lines.append(f"  diversity ratio {report['diversity_ratio']:.3g} (between halves: "
               f"{cal['diversity_ratio']['min']:.3g} to {cal['diversity_ratio']['max']:.3g}; "
               f"\"same\" range [{thr['diversity_low']:.3g}, {thr['diversity_high']:.3g}])")
  ks = sorted(report["ks"], key=lambda r: -r["statistic"])[:top_k]
  lines.append("  features that differ most (two-sample KS statistic, p-value):")
  width = max(len(r["feature"]) for r in ks) if ks else 0
  lines += [f"    {r['feature']:<{width}}  {r['statistic']:.3f}  "
            + (f"(p = {r['p_value']:.2g})" if r["p_value"] > 0 else "(p < 1e-300)")
            for r in ks]
  if report.get("relative"):
    rel = sorted(report["relative"], key=lambda r: r["overlap_ref"])[:top_k]
    lines.append("  relative view (overlap of intra-reference and inter-set distance "
                 "densities, KL):")
    lines += [f"    {r['feature']:<{width}}  overlap {r['overlap_ref']:.2f}  "
              f"KL {r['kl_ref']:.3f}" for r in rel]
  if report.get("left_out"):
    lines.append(f"  left out (shorter than one chunk): {', '.join(report['left_out'])}")
  return "\n".join(lines)


def _parser():
  parser = cli.ArgumentParser(
      prog="python -m draw_music.metric.evaluate",
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
  parser.add_argument("--set_level", action="store_true",
                      help="also judge the pieces as one set against the reference "
                           "(Fréchet, MMD test, KS, diversity ratio, calibrated verdict)")
  parser.add_argument("--seed", type=int, default=0,
                      help="seed of the set-level calibration splits and permutations")
  parser.add_argument("--num_permutations", type=int, default=DEFAULT_NUM_PERMUTATIONS,
                      help="permutations of the set-level MMD test (default 1000)")
  parser.add_argument("--set_level_test", default="piece", choices=("piece", "chunk"),
                      help="set-level verdict: piece-level permutation test (default) or "
                           "the chunk-level test with the calibrated bound")
  parser.add_argument("--num_splits", type=int, default=DEFAULT_NUM_SPLITS,
                      help="piece-level halves of the reference for the set-level "
                           "calibration (default 10)")
  parser.add_argument("--out_dir", default=None,
                      help="also write a page here: index.html with each piece's piano "
                           "roll, audio and distance, sorted by distance")
  return parser


def main(argv=None):
  args = _parser().parse_args(argv)
  for name in ("chunk_steps", "num_permutations", "num_splits"):
    if getattr(args, name) <= 0:
      return cli.fail(f"--{name} must be a positive integer, got {getattr(args, name)}")
  try:
    result = evaluate_paths(args.reference, args.pieces, args.chunk_steps, args.feature_set,
                            set_level=args.set_level, seed=args.seed,
                            num_permutations=args.num_permutations,
                            num_splits=args.num_splits, test=args.set_level_test)
  except EvaluationError as e:
    return cli.fail(e)
  print(json.dumps(result, indent=1) if args.json else format_report(result))
  if args.out_dir:
    from draw_music.listening import page  # pylint: disable=g-import-not-at-top
    print(f"wrote {page.evaluation_page(result, args.out_dir)}",
          file=sys.stderr if args.json else sys.stdout)
  return 0


if __name__ == "__main__":
  sys.exit(main())
