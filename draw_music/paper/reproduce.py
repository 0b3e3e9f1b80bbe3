"""The paper's Fig. 5 (binarisation threshold) and Fig. 6 (quality along the DRAW steps).

Both score generated pieces with the paper's measure: the Mahalanobis distance of a piece's
signature to a reference built from every chunk of the training corpus, at the model's chunk
length (as `report.score_against_corpus` does).

Fig. 5, `threshold_sweep`: each output's last canvas is min-max normalised once and
thresholded at every `alpha` (`model.binarize`'s post-processing, cell on where the
normalised value is > alpha), giving `num_outputs x num_alphas` pieces. Per alpha, over the
outputs: the median (the paper's solid line) and the band `median +- z * std` (the dotted
lines, `z = 1.96`).

Fig. 6, `step_sweep`: every canvas `c[t]`, `t = 1..num_steps`, of each output is binarised at
one `alpha` and scored. Per step, over the outputs: the mean (the paper's solid line) and
the band `mean +- z * std`.

Definitions (the paper names its picks but does not define them):
- best: the lowest centre line (Fig. 5: median; Fig. 6: mean).
- most stable: the lowest upper band, `centre + z * std`, i.e. the smallest distance that
  95% of the pieces would stay under were the distances normal. The lowest std alone is not
  a useful pick, since it ignores how far the pieces are: at `alpha = 1` every piece is
  empty, so every output has the same distance and the std is 0 however bad that distance
  is. The lowest-std point is still reported (`lowest_std`), for comparison.
- std is the sample standard deviation (ddof = 1) over the outputs, as in
  `evaluate.summarize`. Ties go to the first (smallest alpha, earliest step).
- eligible points: all three picks are made among the alphas (steps) at which no output is
  empty; only if every one has an empty piece are all of them eligible (`sweep_summary`).
  Without this rule an undertrained model's most stable alpha is 1 (all pieces empty).

Empty pieces. Min-max normalisation sends each output's largest cell to 1, so a piece is
empty only at `alpha = 1` (the last of `np.linspace(0, 1, num_alphas)`) or when a canvas is
constant. An empty piece's signature is all zeros (`features`), and its distance is the
finite distance of that zero vector to the reference; the sweeps count empty pieces per
alpha (per step) so that a reader can tell them apart.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from draw_music import plotting
from draw_music import results
from draw_music.metric import features as features_lib
from draw_music.metric import measure
from draw_music.writer import generate
from draw_music.writer import postprocess

Z = 1.96  # the paper's band: 1.96 standard deviations
FIG5_YMAX = 15.0  # Fig. 5's y axis is cut here (points above are counted, not drawn)
FIG6_YMAX = 10.0  # the paper cuts Fig. 6's y axis at 10

# Cells per block when binarising a sweep: bounds the bool pieces and their float64
# normalised canvases (about 9 bytes per cell) to roughly 600 MB.
_BLOCK_CELLS = 1 << 26


def _check_alpha(alpha):
  alpha = np.asarray(alpha, np.float64)
  if alpha.size and not (np.all(alpha >= 0) and np.all(alpha <= 1)):
    raise ValueError(f"alphas must be in [0, 1], got {alpha.min()} .. {alpha.max()}")
  return alpha


def threshold_sweep(canvases, reference, alphas, feature_set=features_lib.DEFAULT_FEATURE_SET,
                    return_active=False):
  """Fig. 5: distance of each output binarised at each threshold.

  Every output is normalised once; all `n x num_alphas` pieces are binarised with one
  broadcast comparison and their signatures computed in one batch (in blocks of outputs
  only to bound memory).

  Args:
    canvases: `[n, chunk_steps, 128]` float outputs (a model's last canvases); not modified.
    reference: a `measure.Reference` built with the same `feature_set`.
    alphas: `[num_alphas]` thresholds in [0, 1].
    feature_set: signature features.
    return_active: also return the active cells of each piece.

  Returns:
    `[n, num_alphas]` float64 distances, and `[n, num_alphas]` int64 active cells if asked
    (0: the piece is empty).
  """
  canvases = np.asarray(canvases)
  if canvases.ndim != 3:
    raise ValueError(f"canvases must be [n, chunk_steps, 128], got shape {canvases.shape}")
  alphas = _check_alpha(alphas)
  if alphas.ndim != 1:
    raise ValueError(f"alphas must be [num_alphas], got shape {alphas.shape}")
  n, length, pitches = canvases.shape
  per_output = max(1, alphas.size * length * pitches)
  block = max(1, _BLOCK_CELLS // per_output)
  distances = np.zeros((n, alphas.size))
  active = np.zeros((n, alphas.size), np.int64)
  for start in range(0, n, block):
    values = postprocess.normalise(canvases[start:start + block])  # [b, L, 128]
    pieces = values[:, None] > alphas[None, :, None, None]  # [b, A, L, 128]
    flat = pieces.reshape(-1, length, pitches)
    sigs = features_lib.signatures(flat, feature_set)
    distances[start:start + block] = reference.distance(sigs).reshape(-1, alphas.size)
    active[start:start + block] = flat.sum(axis=(1, 2)).reshape(-1, alphas.size)
  return (distances, active) if return_active else distances


def step_sweep(canvases, reference, alpha, feature_set=features_lib.DEFAULT_FEATURE_SET,
               return_active=False):
  """Fig. 6: distance of every step's canvas of each output, binarised at `alpha`.

  Args:
    canvases: `[n, num_steps, chunk_steps, 128]` float canvases (`DrawModel.sample`); not
      modified.
    reference: a `measure.Reference` built with the same `feature_set`.
    alpha: threshold in [0, 1].
    feature_set: signature features.
    return_active: also return the active cells of each piece.

  Returns:
    `[n, num_steps]` float64 distances (column `t - 1` is step `t`), and `[n, num_steps]`
    int64 active cells if asked.
  """
  canvases = np.asarray(canvases)
  if canvases.ndim != 4:
    raise ValueError(f"canvases must be [n, num_steps, chunk_steps, 128], got shape "
                     f"{canvases.shape}")
  alpha = float(_check_alpha(alpha))
  n, num_steps, length, pitches = canvases.shape
  flat_canvases = canvases.reshape(n * num_steps, length, pitches)
  block = max(1, _BLOCK_CELLS // (length * pitches))
  distances = np.zeros(n * num_steps)
  active = np.zeros(n * num_steps, np.int64)
  for start in range(0, n * num_steps, block):
    pieces = postprocess.normalise(flat_canvases[start:start + block]) > alpha
    sigs = features_lib.signatures(pieces, feature_set)
    distances[start:start + block] = reference.distance(sigs)
    active[start:start + block] = pieces.sum(axis=(1, 2))
  distances = distances.reshape(n, num_steps)
  return (distances, active.reshape(n, num_steps)) if return_active else distances


def _band_stats(distances, centre, z):
  d = np.asarray(distances, np.float64)
  if d.ndim != 2 or d.shape[0] < 1 or d.shape[1] < 1:
    raise ValueError(f"distances must be [num_outputs, num_points] with both >= 1, got "
                     f"shape {d.shape}")
  if centre not in ("median", "mean"):
    raise ValueError(f"centre must be 'median' or 'mean', got {centre!r}")
  middle = np.median(d, axis=0) if centre == "median" else d.mean(axis=0)
  std = d.std(axis=0, ddof=1) if d.shape[0] > 1 else np.zeros(d.shape[1])
  return {"median": np.median(d, axis=0), "mean": d.mean(axis=0), "std": std,
          "lower": middle - z * std, "upper": middle + z * std}, middle


def sweep_summary(distances, x, centre, z=Z, active=None):
  """Per-point statistics of a sweep, and its best, most stable and lowest-std points.

  Args:
    distances: `[num_outputs, num_points]` distances (a column per alpha, or per step).
    x: `[num_points]` position of each column (alpha, or t / num_steps).
    centre: 'median' (Fig. 5) or 'mean' (Fig. 6): the line the band is centred on and the
      one `best` minimises.
    z: half-width of the band in standard deviations.
    active: optional `[num_outputs, num_points]` active cells, to count empty pieces.

  Returns:
    dict: `centre`, `z`, `points` (one dict per column: `index`, `x`, `median`, `mean`,
    `std`, `lower`, `upper` = centre -+ z * std, and `empty_pieces` / `mean_active_cells`
    when `active` is given), and `best` (lowest centre), `most_stable` (lowest `upper`),
    `lowest_std` (lowest std), each one of those column dicts, and `picked_among`. Ties go
    to the first column. With `active`, the three are picked among the columns where no
    piece is empty (`picked_among`: 'columns without an empty piece'): a threshold that
    silences an output is not a usable one, and where every piece is empty (alpha = 1) all
    distances are equal, std 0, which would otherwise win `most_stable` for an undertrained
    model. When every column has an empty piece, or without `active`, they are picked among
    all columns ('all columns').
  """
  stats, middle = _band_stats(distances, centre, z)
  x = np.asarray(x, np.float64)
  if x.shape != middle.shape:
    raise ValueError(f"x must have shape {middle.shape}, got {x.shape}")
  eligible = np.ones(middle.size, bool)
  if active is not None:
    active = np.asarray(active)
    if active.shape != np.shape(distances):
      raise ValueError(f"active must have shape {np.shape(distances)}, got {active.shape}")
    eligible = (active > 0).all(axis=0)
  picked_among = "columns without an empty piece" if active is not None else "all columns"
  if not eligible.any():
    eligible[:] = True
    picked_among = "all columns"
  points = []
  for i in range(middle.size):
    point = {"index": i, "x": float(x[i]), **{k: float(v[i]) for k, v in stats.items()}}
    if active is not None:
      point["empty_pieces"] = int((active[:, i] == 0).sum())
      point["mean_active_cells"] = float(active[:, i].mean())
    points.append(point)
  pick = lambda values: points[int(np.argmin(np.where(eligible, values, np.inf)))]
  return {"centre": centre, "z": z, "points": points, "best": pick(middle),
          "most_stable": pick(stats["upper"]), "lowest_std": pick(stats["std"]),
          "picked_among": picked_among}


def threshold_summary(distances, alphas, z=Z, active=None):
  """Fig. 5's summary: `sweep_summary` centred on the median, with `alpha` for `x`."""
  out = sweep_summary(distances, alphas, "median", z, active)
  for point in out["points"]:
    point["alpha"] = point.pop("x")
  return out


def step_summary(distances, z=Z, active=None):
  """Fig. 6's summary: `sweep_summary` centred on the mean, each point with its 1-based
  `step` and `t_over_T` (= step / num_steps)."""
  num_steps = np.asarray(distances).shape[-1]
  steps = np.arange(1, num_steps + 1)
  out = sweep_summary(distances, steps / num_steps, "mean", z, active)
  for point in out["points"]:
    point["step"] = point["index"] + 1
    point["t_over_T"] = point.pop("x")
  return out


def curves(summary):
  """`(centre [P], std [P])` arrays of a summary's points, for plotting."""
  key = summary["centre"]
  return (np.array([p[key] for p in summary["points"]]),
          np.array([p["std"] for p in summary["points"]]))


def pivot_rows(rows, x_key, value_key="distance"):
  """A sweep's CSV rows back to arrays.

  Args:
    rows: dicts with `output`, `x_key` and `value_key` (strings, as `results.read_csv`
      gives, or numbers).
    x_key: the column giving the position ('alpha', or 't_over_T').

  Returns:
    `(x [P], values [num_outputs, P])`, x sorted ascending, outputs in index order.
  """
  outputs = np.array([int(r["output"]) for r in rows])
  xs = np.array([float(r[x_key]) for r in rows])
  values = np.array([float(r[value_key]) for r in rows])
  unique_outputs, out_idx = np.unique(outputs, return_inverse=True)
  unique_x, x_idx = np.unique(xs, return_inverse=True)
  table = np.full((unique_outputs.size, unique_x.size), np.nan)
  table[out_idx, x_idx] = values
  if np.isnan(table).any():
    raise ValueError("the rows do not hold one value per (output, position)")
  return unique_x, table


# ---------------------------------------------------------------------------------------------
# The experiments: load, generate, score, write.


class CheckpointError(ValueError):
  """A training folder that cannot be loaded (missing, no checkpoint, or unreadable)."""


def load_checkpoint(out_dir):
  """The trained model of a training folder, its step, and its training chunk count.

  Args:
    out_dir: a training folder (`train.train`'s `out_dir`: config.json + checkpoints/).

  Returns:
    `(model, step, num_chunks)`: the restored `model.DrawModel`, the checkpoint's step, and
    the number of chunks it was trained on (from config.json; None if not recorded), which
    lets a caller check that it scores against the same corpus.

  Raises:
    CheckpointError: the folder is missing, has no checkpoint, or cannot be read; the
      message names the folder and the reason.
  """
  folder = pathlib.Path(out_dir)
  if not folder.is_dir():
    raise CheckpointError(f"training folder {str(folder)!r} does not exist")
  import tensorflow as tf  # pylint: disable=g-import-not-at-top  (slow: only when needed)
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top
  try:
    model, step = train.load_trained(folder)
    num_chunks = json.loads((folder / "config.json").read_text()).get("num_chunks")
  except (OSError, ValueError, TypeError, KeyError, tf.errors.OpError) as e:
    raise CheckpointError(f"cannot load a trained model from {str(folder)!r}: "
                          f"{type(e).__name__}: {e}") from e
  return model, step, num_chunks


def _reference_info(reference, chunks):
  return {"num_chunks": int(len(chunks)), "chunk_steps": int(np.asarray(chunks).shape[1]),
          "rank": reference.rank, "constant_features": list(reference.constant_features)}


def fig5_threshold(model, chunks, num_outputs=30, num_alphas=200, seed=0,
                   feature_set=features_lib.DEFAULT_FEATURE_SET, z=Z):
  """Fig. 5: `num_outputs` outputs of `model`, each binarised at `num_alphas` thresholds.

  Args:
    model: a trained `model.DrawModel`.
    chunks: `[m, chunk_steps, 128]` bool corpus chunks at the model's `chunk_steps` (the
      reference; pass the corpus the model was trained on).
    num_outputs: outputs generated (the last canvases of `model.sample(num_outputs, seed)`,
      `generate.last_canvases`).
    num_alphas: thresholds, `np.linspace(0, 1, num_alphas)`.
    seed: generation seed.
    feature_set: signature features.
    z: band half-width in standard deviations.

  Returns:
    dict: `alphas` `[A]`, `distances` `[n, A]`, `active_cells` `[n, A]`, `summary`
    (`threshold_summary`), `reference` (its size, rank and constant features).
  """
  reference = measure.reference_from_rolls(chunks, feature_set)
  alphas = np.linspace(0.0, 1.0, num_alphas)
  canvases = generate.last_canvases(model, num_outputs, seed)
  distances, active = threshold_sweep(canvases, reference, alphas, feature_set,
                                      return_active=True)
  return {"alphas": alphas, "distances": distances, "active_cells": active,
          "summary": threshold_summary(distances, alphas, z, active),
          "reference": _reference_info(reference, chunks)}


def fig6_step_quality(model, chunks, num_outputs=50, alpha=None, seed=0,
                      feature_set=features_lib.DEFAULT_FEATURE_SET, z=Z):
  """Fig. 6: every step's canvas of `num_outputs` outputs, binarised at `alpha`, scored.

  Args:
    model: a trained `model.DrawModel`.
    chunks: `[m, chunk_steps, 128]` bool corpus chunks (the reference).
    num_outputs: outputs generated (`model.sample(num_outputs, seed)`, every canvas).
    alpha: threshold (default: the model config's `alpha`).
    seed: generation seed.
    feature_set: signature features.
    z: band half-width in standard deviations.

  Returns:
    dict: `alpha`, `steps` `[T]` (1-based), `t_over_T` `[T]`, `distances` `[n, T]`,
    `active_cells` `[n, T]`, `summary` (`step_summary`), `reference`.
  """
  alpha = model.config.alpha if alpha is None else alpha
  reference = measure.reference_from_rolls(chunks, feature_set)
  canvases = np.asarray(model.sample(num_outputs, seed=seed))
  distances, active = step_sweep(canvases, reference, alpha, feature_set, return_active=True)
  num_steps = distances.shape[1]
  steps = np.arange(1, num_steps + 1)
  return {"alpha": float(alpha), "steps": steps, "t_over_T": steps / num_steps,
          "distances": distances, "active_cells": active,
          "summary": step_summary(distances, z, active),
          "reference": _reference_info(reference, chunks)}


def _above(distances, ymax):
  return int((np.asarray(distances) > ymax).sum())


def write_fig5(out, out_dir, run, ymax=FIG5_YMAX, title=None):
  """Writes `fig5_distances.csv`, `fig5_summary.json` and `fig5_threshold.png`.

  Args:
    out: `fig5_threshold`'s result.
    out_dir: output folder.
    run: `results.run_info(...)` of the run.
    ymax: top of the figure's y axis.
    title: figure title.

  Returns:
    The summary dict written to fig5_summary.json.
  """
  out_dir = pathlib.Path(out_dir)
  alphas, distances, active = out["alphas"], out["distances"], out["active_cells"]
  rows = [{"output": i, "alpha": float(a), "distance": float(distances[i, j]),
           "active_cells": int(active[i, j])}
          for i in range(distances.shape[0]) for j, a in enumerate(alphas)]
  results.write_csv(out_dir / "fig5_distances.csv", rows)
  s = out["summary"]
  summary = {
      "run": run,
      "reference": out["reference"],
      "num_outputs": int(distances.shape[0]),
      "num_alphas": int(alphas.size),
      "z": s["z"],
      "definitions": {
          "best_median": "alpha with the lowest median distance over the outputs",
          "most_stable": f"alpha with the lowest median + {s['z']} * std (the upper band)",
          "lowest_std": "alpha with the lowest std (for comparison)",
          "eligible": "the three are picked among the alphas at which no piece is empty "
                      "(among all alphas only if each has an empty piece): see "
                      "picked_among",
          "std": "sample standard deviation (ddof = 1) over the outputs",
          "empty_pieces": "pieces with no active cell after thresholding; their signature "
                          "is all zeros and their distance that of the zero vector",
      },
      "picked_among": s["picked_among"],
      "best_median": s["best"],
      "most_stable": s["most_stable"],
      "lowest_std": s["lowest_std"],
      "empty_pieces": int((active == 0).sum()),
      "ymax": ymax,
      "points_above_ymax": _above(distances, ymax),
      "per_alpha": s["points"],
  }
  results.write_json(out_dir / "fig5_summary.json", summary)
  centre, std = curves(s)
  fig = plotting.plot_threshold_sweep(
      alphas, distances, centre, std, best=s["best"]["alpha"],
      most_stable=s["most_stable"]["alpha"], z=s["z"], ymax=ymax,
      path=out_dir / "fig5_threshold.png", title=title)
  plotting.plt.close(fig)
  return summary


def write_fig6(out, out_dir, run, ymax=FIG6_YMAX, title=None):
  """Writes `fig6_distances.csv`, `fig6_summary.json` and `fig6_step_quality.png`.

  Args:
    out: `fig6_step_quality`'s result.
    out_dir: output folder.
    run: `results.run_info(...)` of the run.
    ymax: top of the figure's y axis.
    title: figure title.

  Returns:
    The summary dict written to fig6_summary.json.
  """
  out_dir = pathlib.Path(out_dir)
  distances, active = out["distances"], out["active_cells"]
  rows = [{"output": i, "step": int(t), "t_over_T": float(x),
           "distance": float(distances[i, j]), "active_cells": int(active[i, j])}
          for i in range(distances.shape[0])
          for j, (t, x) in enumerate(zip(out["steps"], out["t_over_T"]))]
  results.write_csv(out_dir / "fig6_distances.csv", rows)
  s = out["summary"]
  summary = {
      "run": run,
      "reference": out["reference"],
      "alpha": out["alpha"],
      "num_outputs": int(distances.shape[0]),
      "num_steps": int(distances.shape[1]),
      "z": s["z"],
      "definitions": {
          "best": "step with the lowest mean distance over the outputs",
          "most_stable": f"step with the lowest mean + {s['z']} * std (the upper band)",
          "lowest_std": "step with the lowest std (for comparison)",
          "eligible": "the three are picked among the steps at which no piece is empty "
                      "(among all steps only if each has an empty piece): see "
                      "picked_among",
          "std": "sample standard deviation (ddof = 1) over the outputs",
          "t_over_T": "step / num_steps, step = 1..num_steps",
      },
      "picked_among": s["picked_among"],
      "best": s["best"],
      "most_stable": s["most_stable"],
      "lowest_std": s["lowest_std"],
      "empty_pieces": int((active == 0).sum()),
      "ymax": ymax,
      "points_above_ymax": _above(distances, ymax),
      "per_step": s["points"],
  }
  results.write_json(out_dir / "fig6_summary.json", summary)
  centre, std = curves(s)
  fig = plotting.plot_step_quality(
      out["t_over_T"], distances, centre, std, best=s["best"]["t_over_T"],
      most_stable=s["most_stable"]["t_over_T"], z=s["z"], ymax=ymax,
      path=out_dir / "fig6_step_quality.png", title=title)
  plotting.plt.close(fig)
  return summary
