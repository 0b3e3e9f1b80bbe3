"""Do long pieces hold together at their chunk seams? Windows across seams against windows
inside chunks, judged by the paper's features as two sets.

A piece of `generate.generate_long` is a chain of chunks of `chunk_steps` steps; its seams
sit at `k * chunk_steps`. A *seam window* is the `chunk_steps` steps centred on a seam
(half of each chunk); an *inside window* is one whole chunk. If the chain is continuous, a
seam window is the same kind of object as an inside window: the same distribution of
signatures. Plain concatenation of independent chunks makes seam windows of two unrelated
halves.

Independence. Windows of one piece overlap or were chosen one after the other, so they are
not independent draws. `study` therefore takes ONE window per piece: even-numbered pieces
give an inside window, odd-numbered pieces a seam window, each at a position cycling over
the piece's chunks (or seams). The two sets are then independent samples and the
permutation test of `set_measures.compare_sets` (no calibration: there is no piece-level
correlation to calibrate for) is a valid two-sample test.
"""

from __future__ import annotations

import numpy as np

from draw_music.metric import features as features_lib
from draw_music.metric import set_measures


def window_starts(steps, chunk_steps):
  """`(inside, seam)` start steps of the windows of a piece of `steps` steps.

  Inside windows start at `k * chunk_steps` for every whole chunk; seam windows at
  `k * chunk_steps - chunk_steps // 2` for every seam `k >= 1` whose window fits.
  """
  half = chunk_steps // 2
  inside = [k * chunk_steps for k in range(steps // chunk_steps)]
  seam = [k * chunk_steps - half for k in range(1, -(-steps // chunk_steps))
          if k * chunk_steps - half + chunk_steps <= steps]
  return np.array(inside, np.int64), np.array(seam, np.int64)


def one_window_per_piece(pieces, chunk_steps, chunk_starts=None, join_steps=None):
  """Inside windows from the even pieces, seam windows from the odd ones.

  Args:
    pieces: `[n, steps, 128]` bool, steps >= 2 chunks.
    chunk_steps: chunk length.
    chunk_starts, join_steps: where whole drawn chunks start in a piece, and where material
      of two chunks meets (`generate.joins`); default: chunks end to end (`window_starts`).
      An inside window is a whole chunk; a seam window the `chunk_steps` steps centred on
      a join (those that fit).

  Returns:
    `(inside, seam, inside_at, seam_at)`: `[ceil(n/2), chunk_steps, 128]` and
    `[floor(n/2), chunk_steps, 128]` windows, and their start steps. Piece `2j` gives the
    inside window at start `inside_starts[j % len]`, piece `2j + 1` the seam window at
    `seam_starts[j % len]`.
  """
  pieces = np.asarray(pieces, bool)
  if chunk_starts is None:
    inside_starts, seam_starts = window_starts(pieces.shape[1], chunk_steps)
  else:
    inside_starts = np.asarray(chunk_starts, np.int64)
    seam_starts = np.asarray(join_steps, np.int64) - chunk_steps // 2
    seam_starts = seam_starts[(seam_starts >= 0)
                              & (seam_starts + chunk_steps <= pieces.shape[1])]
    if not len(inside_starts):
      raise ValueError(f"pieces of {pieces.shape[1]} steps hold no whole chunk")
  if not len(seam_starts):
    raise ValueError(f"pieces of {pieces.shape[1]} steps have no seam window of "
                     f"{chunk_steps} steps")
  inside, seam, inside_at, seam_at = [], [], [], []
  for i, piece in enumerate(pieces):
    j = i // 2
    if i % 2 == 0:
      s = int(inside_starts[j % len(inside_starts)])
      inside.append(piece[s:s + chunk_steps])
      inside_at.append(s)
    else:
      s = int(seam_starts[j % len(seam_starts)])
      seam.append(piece[s:s + chunk_steps])
      seam_at.append(s)
  return np.stack(inside), np.stack(seam), np.array(inside_at), np.array(seam_at)


def jumps(windows):
  """Change across the middle of each window: `[n]` each of |density jump| (active cells
  per step), |register jump| (mean active pitch, semitones; NaN when a half is silent) and
  the share of pitches sounding on the step before the middle that still sound on the
  step after it (NaN when none sounds before)."""
  windows = np.asarray(windows, bool)
  half = windows.shape[1] // 2
  a, b = windows[:, :half], windows[:, half:2 * half]
  pitches = np.arange(windows.shape[2], dtype=np.float64)

  def stats(part):
    per_pitch = part.sum(axis=1).astype(np.float64)
    count = per_pitch.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
      register = np.where(count > 0, per_pitch @ pitches / count, np.nan)
    return count / part.shape[1], register

  da, ra = stats(a)
  db, rb = stats(b)
  before, after = windows[:, half - 1], windows[:, half]
  sounding = before.sum(axis=1)
  with np.errstate(invalid="ignore", divide="ignore"):
    held = np.where(sounding > 0, (before & after).sum(axis=1) / sounding, np.nan)
  return np.abs(da - db), np.abs(ra - rb), held


def compare_windows(inside, seam, feature_set=features_lib.DEFAULT_FEATURE_SET,
                    num_permutations=1000, seed=0, reference=None):
  """Seam windows against inside windows: the set-level comparison, and each set's
  distances to a corpus `reference` (`measure.Reference`, optional).

  Returns:
    dict: `set_level` (`set_measures.compare_sets(inside, seam)`'s dict, KS list left out
    but for the 3 largest statistics), `jumps` (mean of each `jumps` column per set), and
    with a reference, `distance` (mean, std, median of each set's distances).
  """
  names = features_lib.feature_names(feature_set)
  sig_in = features_lib.signatures(inside, feature_set)
  sig_seam = features_lib.signatures(seam, feature_set)
  result = set_measures.compare_sets(sig_in, sig_seam, names,
                                     num_permutations=num_permutations, seed=seed)
  result["ks"] = sorted(result["ks"], key=lambda r: -r["statistic"])[:3]
  out = {"set_level": result, "jumps": {}}
  for name, windows in (("inside", inside), ("seam", seam)):
    density, register, held = jumps(windows)
    out["jumps"][name] = {"density": float(np.mean(density)),
                          "register": float(np.nanmean(register)),
                          "held": float(np.nanmean(held))}
  if reference is not None:
    out["distance"] = {}
    for name, sig in (("inside", sig_in), ("seam", sig_seam)):
      d = reference.distance(sig)
      out["distance"][name] = {"mean": float(d.mean()), "std": float(d.std(ddof=1)),
                               "median": float(np.median(d)), "values": d}
  return out
