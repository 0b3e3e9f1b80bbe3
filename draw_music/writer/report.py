"""The report on a trained model: generate, write, and judge its pieces against the corpus.

`model_report` generates `n` pieces, writes each as MIDI and a piano-roll PNG, and scores
them against the training corpus two ways:
- the paper's per-piece measure: the Mahalanobis distance of each piece to the corpus's
  chunks (mean +- std, share per Table II category), beside the corpus's own chunks'
  distances to the same reference, with the paper's Welch t-test between the two;
- the set-level measures (`evaluate.set_level_report`: `set_measures.compare_sets`,
  calibrated on piece-level halves of the corpus): Frechet distance, MMD permutation test, diversity ratio and a verdict.
A mean distance below the corpus's own is not better: it means the pieces are more typical
than the corpus, which is what a generator that repeats itself looks like; the set-level
verdict and the diversity ratio say whether that is happening.
"""

from __future__ import annotations

import pathlib

import numpy as np
from scipy import stats

from draw_music import plotting
from draw_music import results
from draw_music.metric import evaluate
from draw_music.metric import features as features_lib
from draw_music.metric import measure
from draw_music.writer import generate
from draw_music.writer import postprocess

# Feature set of the report's second set-level judgement (`set_level_extended`).
EXTENDED = "extended"


def welch_t_test(a, b):
  """The paper's t-test (Welch's, unequal variances) between two sets of distances."""
  t, p = stats.ttest_ind(np.asarray(a, np.float64), np.asarray(b, np.float64),
                         equal_var=False)
  return {"t": float(t), "p_value": float(p)}


def score_against_corpus(rolls, chunks, piece_index, feature_set=features_lib.DEFAULT_FEATURE_SET,
                         seed=0, num_permutations=1000, set_level=True):
  """Per-piece and set-level scores of generated pieces against the training chunks.

  Args:
    rolls: `[n, chunk_steps, 128]` bool generated pieces.
    chunks: `[m, chunk_steps, 128]` bool corpus chunks (the reference).
    piece_index: `[m]` int, the piece of each chunk (for the set-level calibration).
    feature_set: signature features.
    seed: seed of the permutation test and calibration splits.
    num_permutations: permutations of the MMD test.
    set_level: also compute the set-level measures.

  Returns:
    dict: `distances` `[n]`, `corpus_distances` `[m]`, `generated` and `corpus` summaries
    (`evaluate.summarize`), `t_test`, `set_level` (or None), and `set_level_extended`
    (`evaluate.set_level_judgement` on the `extended` features, when there are enough pieces).
  """
  names = features_lib.feature_names(feature_set)
  corpus_sigs = features_lib.signatures(chunks, feature_set)
  reference = measure.Reference.from_signatures(corpus_sigs, names)
  sigs = features_lib.signatures(rolls, feature_set)
  distances = reference.distance(sigs)
  corpus_distances = reference.distance(corpus_sigs)
  out = {
      "distances": distances,
      "corpus_distances": corpus_distances,
      "generated": evaluate.summarize(distances),
      "corpus": evaluate.summarize(corpus_distances),
      "t_test": welch_t_test(distances, corpus_distances),
      "empty_pieces": int((np.asarray(rolls).reshape(len(rolls), -1).sum(axis=1) == 0).sum()),
      "set_level": None,
  }
  needed = evaluate.min_set_level_chunks(len(names))
  if set_level and len(sigs) < needed:
    out["set_level_note"] = (f"set-level measures skipped: they need at least {needed} "
                             f"pieces, got {len(sigs)}")
  elif set_level:
    out["set_level"] = evaluate.set_level_report(corpus_sigs, np.asarray(piece_index), sigs,
                                                 names, seed=seed,
                                                 num_permutations=num_permutations)
    # The composer-level judgement on the richer signature (piece-level test).
    if len(rolls) >= len(features_lib.feature_names(EXTENDED)):
      out["set_level_extended"] = evaluate.set_level_judgement(
          chunks, piece_index, rolls, EXTENDED, seed=seed, num_permutations=num_permutations)
  return out


def model_report(model, chunks, piece_index, out_dir, n=100, alpha=None, seed=0,
                 feature_set=features_lib.DEFAULT_FEATURE_SET, run=None,
                 num_permutations=1000):
  """Generates `n` pieces, writes them, scores them, and writes the report files.

  Files under `out_dir`: `generated/piece_XXX.mid` and `.png`, `distances.csv` (one row per
  generated piece and per corpus chunk), `report.json` (summaries, t-test, set-level
  measures, and `run`), `distance_histogram.png`, `generated_vs_corpus.png` (the first 16
  pieces beside 16 corpus chunks).

  Returns:
    The report dict written to report.json.
  """
  out_dir = pathlib.Path(out_dir)
  alpha = model.config.alpha if alpha is None else alpha
  if getattr(model, "corpus_cells", None) is None:  # the corpus the pieces are judged against
    model.corpus_cells = np.asarray(chunks).reshape(len(chunks), -1).sum(axis=1)
  if getattr(model, "corpus_odd_shares", None) is None:
    model.corpus_odd_shares = postprocess.odd_onset_shares(chunks)
  if getattr(model, "corpus_note_lengths", None) is None:
    model.corpus_note_lengths = postprocess.mean_note_steps(chunks)
  canvases, rolls = generate.generate_rolls(model, n, alpha, seed)
  del canvases
  paths = generate.write_pieces(rolls, out_dir / "generated")
  scores = score_against_corpus(rolls, chunks, piece_index, feature_set, seed,
                                num_permutations)
  cats = measure.categorize(scores["distances"])
  rows = [{"set": "generated", "item": pathlib.Path(p).name, "distance": float(d),
           "category": measure.CATEGORY_NAMES[int(c)]}
          for p, d, c in zip(paths, scores["distances"], cats)]
  rows += [{"set": "corpus", "item": f"chunk_{i}", "distance": float(d),
            "category": measure.CATEGORY_NAMES[int(c)]}
           for i, (d, c) in enumerate(zip(scores["corpus_distances"],
                                          measure.categorize(scores["corpus_distances"])))]
  results.write_csv(out_dir / "distances.csv", rows)
  fig = plotting.plot_generated_vs_corpus(rolls, chunks, out_dir / "generated_vs_corpus.png",
                                          seed)
  plotting.plt.close(fig)
  fig = plotting.plot_distance_histograms(
      {"generated": scores["distances"], "corpus chunks": scores["corpus_distances"]},
      out_dir / "distance_histogram.png",
      title=f"{n} generated pieces (alpha {alpha}) vs the corpus's own chunks")
  plotting.plt.close(fig)
  report = {
      "run": run,
      "alpha": alpha,
      "num_pieces": n,
      "generation_seed": seed,
      "generated": scores["generated"],
      "corpus": scores["corpus"],
      "t_test": scores["t_test"],
      "empty_pieces": scores["empty_pieces"],
      "set_level": scores["set_level"],
      "set_level_note": scores.get("set_level_note"),
      "set_level_extended": scores.get("set_level_extended"),
  }
  results.write_json(out_dir / "report.json", report)
  return report


def format_report(report):
  """A few readable lines summarising `model_report`'s result."""
  g, c, t = report["generated"], report["corpus"], report["t_test"]
  lines = [
      f"generated ({report['num_pieces']} pieces, alpha {report['alpha']}): distance "
      f"{g['mean']:.2f} +- {g['std']:.2f} (median {g['median']:.2f}); "
      + ", ".join(f"{k}: {100 * v:.0f}%" for k, v in g["fraction_per_category"].items()),
      f"corpus's own chunks: {c['mean']:.2f} +- {c['std']:.2f} (median {c['median']:.2f})",
      f"Welch t-test generated vs corpus: t = {t['t']:.2f}, p = {t['p_value']:.3g}",
  ]
  if report["empty_pieces"]:
    lines.append(f"{report['empty_pieces']} generated pieces are silent")
  if report.get("set_level_note"):
    lines.append(report["set_level_note"])
  s = report.get("set_level")
  if s:
    lines.append(f"set level: Frechet {s['frechet']:.2f}, MMD^2 {s['mmd']:.4f} (p = "
                 f"{s['p_value']:.3g}), diversity ratio {s['diversity_ratio']:.2f}: "
                 f"verdict '{s['verdict']}' ({s.get('reason', '')})")
  e = report.get("set_level_extended")
  if e:
    lines.append(f"set level, {e['feature_set']} features: Frechet {e['frechet']:.2f}, "
                 f"verdict '{e['verdict']}' ({e['reason']})")
  return "\n".join(lines)
