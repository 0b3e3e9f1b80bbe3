"""Generate pieces from a trained model: MIDI, piano-roll pictures, audio and a page.

    python -m draw_music.writer.generate --checkpoint TRAINING_DIR --n 10 [--alpha 0.25]
        [--seed 0] [--beats 64] [--candidates 64] [--seam_method continuity]
        [--texture piece] [--no-audio]
        [--reference CORPUS] [--out_dir D]

`TRAINING_DIR` is the `--out_dir` of a training run (`config.json`, `weights/` and
`checkpoints/`; the newest that reads is used, a damaged one is skipped with a line; where
the run chose its checkpoint on held-out pieces, `selected/`, unless `--weights last`). Each
piece is the model's last canvas, min-max normalised and thresholded at `alpha` (the
paper's post-processing, `postprocess.binarize`), written as `piece_XXX.mid` (one piano track,
120 bpm) and `piece_XXX.png` (its piano roll), `piece_XXX.wav` (its audio, unless
`--no-audio` or no synthesizer loads: `draw_music.listening.audio`), and `index.html` shows
them all (`draw_music.listening.page`; with `--reference`, with their distances to that
corpus). `pieces.json` lists them with the seed. With `--beats`, each piece is that many
beats long, chunks chained by `generate_long` (its docstring says how and why).
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys

import numpy as np

from draw_music import cli
from draw_music import plotting
from draw_music import results
from draw_music.corpora import midi_io
from draw_music.writer import postprocess


def generate_rolls(model, n, alpha, seed):
  """`n` pieces from `model`: their last canvases, and those canvases decoded by the
  config's decoder (the paper's: binarised at `alpha`).

  The canvases are `model.sample(n, seed)[:, -1]`, made by the decoder alone without the
  intermediate ones (`last_canvases`).

  Returns:
    `(canvases, rolls)`: `[n, chunk_steps, 128]` float32 last canvases and
    `[n, chunk_steps, 128]` bool pieces.
  """
  canvases = last_canvases(model, n, seed)
  return canvases, decode_for(model, canvases, alpha)


# The fixed draw of the model that `density='corpus'` ranks each piece's density against.
DENSITY_REFERENCE_DRAW = 1000
DENSITY_REFERENCE_SEED = 2**31 - 1


def needs_reference(config):
  """Whether `config`'s decoder ranks each piece against a reference draw of the model."""
  return config.decoder == "notes" and "corpus" in (config.density, config.durations,
                                                     config.odd_onsets)


def corpus_stats(model):
  """The training corpus's statistics `model` carries for its decoder (`train.load_trained`
  reads them from `corpus_density.json`): 'active_cells', 'note_lengths', 'odd_onset_shares'
  (a key whose statistic the model lacks is left out)."""
  stats = {"active_cells": getattr(model, "corpus_cells", None),
           "note_lengths": getattr(model, "corpus_note_lengths", None),
           "odd_onset_shares": getattr(model, "corpus_odd_shares", None)}
  return {k: v for k, v in stats.items() if v is not None}


_MISSING = {
    "active_cells": "this config's decoder follows the training corpus's density: it needs "
                    "the corpus's active cells per chunk (corpus_density.json in the "
                    "training folder) and the model's reference draw",
    "note_lengths": "this config's decoder follows the training corpus's note lengths: it "
                    "needs the corpus's mean note length per chunk (corpus_density.json of a "
                    "run trained since they are written there: resume or rerun "
                    "train_baseline on the same folder to write them) and the model's "
                    "reference draw",
    "odd_onset_shares": "this config's decoder puts onsets off the grid as often as the "
                        "training corpus does: it needs the corpus's odd onset shares "
                        "(corpus_density.json of a run trained since they are written "
                        "there: resume or rerun train_baseline on the same folder to write "
                        "them) and the model's reference draw",
}


def _needs(corpus, reference, stat, evidence):
  if corpus is None or corpus.get(stat) is None or reference is None \
      or reference.get(evidence) is None:
    raise ValueError(_MISSING[stat])
  return corpus[stat], reference[evidence]


def decode_canvases(config, canvases, alpha=None, corpus=None, reference=None, targets=None,
                    with_targets=False):
  """`[n, chunk_steps, 128]` bool pieces from final canvases, by `config`'s decoder.

  'paper' thresholds at `alpha` (default `config.alpha`) after min-max normalisation;
  'notes' is the note decoder (`postprocess.to_rolls`). Where it follows the training
  corpus, `corpus` holds the training chunks' statistics (`corpus_stats`: those of
  `corpus_density.json`) and `reference` the model's reference draw (`model_reference`), and
  each piece gets the corpus's value of the same rank (`postprocess.quantile_map`):
  - `density='corpus'`: its active cells (`postprocess.density_targets`; ranked by expected
    cells);
  - `durations='corpus'`: its mean note length, by the hold level it is decoded at
    (`postprocess.length_targets`; ranked by its mean note length decoded at `hold`);
  - `odd_onsets='corpus'`: then its share of onset steps moved one step off the grid
    (`postprocess.place_odd_onsets`; ranked by `postprocess.odd_onset_evidence`).

  `targets` gives those values instead of ranking each piece: a dict with 'cells',
  'lengths' and 'odd' (`[n]` each, where the config follows the corpus in it), as
  `with_targets=True` returns them beside the rolls. Long pieces use it so that every chunk
  of a piece gets its first chunk's texture (`generate_long`).
  """
  alpha = config.alpha if alpha is None else alpha
  canvases = np.asarray(canvases)
  notes = config.decoder == "notes"
  given = targets or {}
  used = {}
  cells_target = None
  if notes and config.density == "corpus":
    cells, expected = _needs(corpus, reference, "active_cells", "expected_cells")
    cells_target = given.get("cells")
    if cells_target is None:
      cells_target = postprocess.density_targets(postprocess.expected_cells(canvases),
                                                 expected, cells)
    used["cells"] = cells_target = _per_piece(cells_target, len(canvases), "cells")

  def decode():
    return np.asarray(postprocess.to_rolls(
        canvases, config.decoder, alpha, config.hold, config.min_note_steps,
        config.bridge_steps, cells_target, config.grid_steps, peaks=config.pitch_peaks))

  if notes and config.durations == "corpus":
    corpus_lengths, model_lengths = _needs(corpus, reference, "note_lengths",
                                           "length_evidence")
    holds = postprocess.DURATION_HOLDS
    candidates = postprocess.note_candidates(canvases, holds, config.min_note_steps,
                                             config.bridge_steps, cells_target,
                                             config.grid_steps, config.pitch_peaks)
    lengths = given.get("lengths")
    if lengths is None:
      # The piece at `hold` ranks it: one of the candidates where `hold` is one of them.
      at_hold = candidates[holds.index(config.hold)] if config.hold in holds else decode()
      lengths = postprocess.length_targets(postprocess.mean_note_steps(at_hold),
                                           model_lengths, corpus_lengths)
    used["lengths"] = lengths = _per_piece(lengths, len(canvases), "lengths")
    rolls = postprocess.choose_lengths(candidates, lengths)[0]
  else:
    rolls = decode()
  if notes and config.odd_onsets == "corpus":
    shares, model_odd = _needs(corpus, reference, "odd_onset_shares", "odd_evidence")
    odd = given.get("odd")
    if odd is None:
      odd = postprocess.odd_onset_targets(postprocess.odd_onset_evidence(rolls, canvases),
                                          model_odd, shares)
    used["odd"] = odd = _per_piece(odd, len(canvases), "odd")
    rolls = postprocess.place_odd_onsets(rolls, canvases, odd)
  return (rolls, used) if with_targets else rolls


def _per_piece(values, n, name):
  values = np.asarray(values, np.float64)
  if values.shape != (n,):
    raise ValueError(f"targets[{name!r}] must hold one value per canvas ({n}), got shape "
                     f"{values.shape}")
  return values


def model_reference(model, canvases=None, corpus=None):
  """What the note decoder ranks each piece against: a fixed draw of `model`.

  Returns a dict: 'expected_cells' `[DENSITY_REFERENCE_DRAW]` (the draw's expected active
  cells, for density='corpus'); with durations='corpus' also 'length_evidence' (the draw
  decoded at the fixed `hold`, its `postprocess.mean_note_steps`); with odd_onsets='corpus'
  also 'odd_evidence' (the draw decoded without the odd onsets, its
  `postprocess.odd_onset_evidence`). Cached on the model, unless `canvases` (the draw's
  final canvases, for weights that change, as in selection) is given (and made again when
  the config's `temperature` has changed since). `corpus` (default
  `corpus_stats(model)`) decodes the draw.
  """
  fixed = canvases is None
  cfg = model.config
  notes = cfg.decoder == "notes"
  wanted = {"expected_cells"}
  if notes and cfg.durations == "corpus":
    wanted.add("length_evidence")
  if notes and cfg.odd_onsets == "corpus":
    wanted.add("odd_evidence")
  cached = getattr(model, "reference_draw", None)
  # The draw is made at the config's temperature: one made at another is made again.
  if fixed and cached is not None and wanted <= cached.keys() \
      and getattr(model, "reference_temperature", None) == cfg.temperature:
    return cached
  if fixed:
    canvases = last_canvases(model, DENSITY_REFERENCE_DRAW, DENSITY_REFERENCE_SEED)
  if corpus is None:
    corpus = corpus_stats(model)
  out = {"expected_cells": postprocess.expected_cells(canvases)}
  if "length_evidence" in wanted:
    at_hold = dataclasses.replace(cfg, durations="model", odd_onsets="none")
    out["length_evidence"] = postprocess.mean_note_steps(
        decode_canvases(at_hold, canvases, None, corpus, out))
  if "odd_evidence" in wanted:
    on_grid = dataclasses.replace(cfg, odd_onsets="none")
    rolls = decode_canvases(on_grid, canvases, None, corpus, out)
    out["odd_evidence"] = postprocess.odd_onset_evidence(rolls, canvases)
  if fixed:
    model.reference_draw, model.reference_temperature = out, cfg.temperature
  return out


def density_reference(model):
  """`[DENSITY_REFERENCE_DRAW]` expected active cells of a fixed draw of `model` (cached)."""
  return model_reference(model)["expected_cells"]


def decode_for(model, canvases, alpha=None, targets=None, with_targets=False):
  """`decode_canvases` with what `model` carries: its config, its training corpus's
  statistics (`corpus_stats`) and, where its decoder follows them, its reference draw."""
  cfg = model.config
  if needs_reference(cfg):
    return decode_canvases(cfg, canvases, alpha, corpus_stats(model), model_reference(model),
                           targets, with_targets)
  return decode_canvases(cfg, canvases, alpha, targets=targets, with_targets=with_targets)


STEPS_PER_BEAT = midi_io.STEPS_PER_BEAT
# Latent draws decoded per batch in `last_canvases_binarized`.
SAMPLE_BATCH = 1024
DEFAULT_CANDIDATES = 64
# How a long piece's chunks get their texture where the decoder follows the corpus
# (`generate_long`): each from the piece's first chunk, or each its own.
TEXTURES = ("piece", "chunk")
DEFAULT_TEXTURE = "piece"
# Weight of the held-notes term of `seam_cost` (the others weigh 1).
HELD_WEIGHT = 3.0


def last_canvases_binarized(model, n, alpha, seed, pieces=None):
  """`[n, chunk_steps, 128]` bool: `n` samples' last canvases, decoded by the config's
  decoder (`decode_canvases`; the paper's: binarised at `alpha`).

  Drawn in batches of `SAMPLE_BATCH` (seeds `seed`, `seed + 1`, ...); `n <= SAMPLE_BATCH`
  gives `generate_rolls`'s pieces for the same `n` and seed (`last_canvases`).

  `pieces` (for long pieces): the draws are the first chunks of `pieces` pieces, then each
  piece's other draws, `(n - pieces) // pieces` in a row; where the decoder follows the
  corpus, every draw is decoded with its piece's first chunk's targets (density, note
  length, off-grid onsets: `decode_canvases(targets=...)`). The same `z` either way.
  """
  if pieces is not None and (pieces < 1 or (n - pieces) % pieces):
    raise ValueError(f"{n} draws do not split into {pieces} pieces")
  per_piece = None if pieces is None else (n - pieces) // pieces
  out, firsts = [], []
  for b, start in enumerate(range(0, n, SAMPLE_BATCH)):
    canvases = last_canvases(model, min(SAMPLE_BATCH, n - start), seed + b)
    if pieces is None:
      out.append(decode_for(model, canvases, alpha))
      continue
    num_first = int(np.clip(pieces - start, 0, len(canvases)))
    if num_first:
      rolls, used = decode_for(model, canvases[:num_first], alpha, with_targets=True)
      out.append(rolls)
      firsts.append(used)
    if num_first < len(canvases):
      owner = (np.arange(start + num_first, start + len(canvases)) - pieces) // per_piece
      targets = {k: np.concatenate([f[k] for f in firsts])[owner] for k in firsts[0]}
      out.append(decode_for(model, canvases[num_first:], alpha, targets=targets))
  return np.concatenate(out)


def last_canvases(model, n, seed):
  """`[n, chunk_steps, 128]` float32: the last canvases of `model.sample(n, seed)`.

  Without attention they come from the decoder alone (`latent.decode_last`: the same `z`,
  and `c[T] = (sum_t h[t]) @ W + T b` in one product instead of every step's canvas), equal
  to `sample`'s to float32 rounding, and faster (benchmarks/bench_profile.py times both).
  """
  from draw_music.writer import latent  # pylint: disable=g-import-not-at-top  (TensorFlow)
  if model.config.attention:
    return np.asarray(model.sample(n, seed=seed)[:, -1])
  return latent.decode_last(model, latent.prior_latents(model, n, seed))


def seam_features(rolls, side, half):
  """Summary statistics of one side of each roll, for matching chunks at a seam.

  Args:
    rolls: `[n, time, 128]` bool.
    side: 'head' (the first `half` steps, and the first step) or 'tail' (the last ones).
    half: steps summarised.

  Returns:
    `(edge, density, register, spread)`: `edge` `[n, 128]` bool, the active pitches of the
    first (head) or last (tail) step; `density` `[n]` active cells per step; `register`
    `[n]` mean pitch of the active cells; `spread` `[n]` their standard deviation (both 0
    when the side is silent), all over the `half` steps.
  """
  rolls = np.asarray(rolls, bool)
  part = rolls[:, :half] if side == "head" else rolls[:, -half:]
  edge = rolls[:, 0] if side == "head" else rolls[:, -1]
  counts = part.sum(axis=(1, 2)).astype(np.float64)
  per_pitch = part.sum(axis=1).astype(np.float64)  # [n, 128]
  pitches = np.arange(rolls.shape[-1], dtype=np.float64)
  safe = np.maximum(counts, 1.0)
  register = per_pitch @ pitches / safe
  spread = np.sqrt(np.maximum(per_pitch @ pitches**2 / safe - register**2, 0.0))
  return edge, counts / half, register, spread


def seam_cost(tail, heads, held_weight=HELD_WEIGHT):
  """Discontinuity between one chunk's tail and candidate heads (0 = seamless).

  `tail` is `seam_features(..., 'tail', half)` of one roll (each entry's first axis of size
  1), `heads` the same of `k` candidates ('head'). The cost adds four terms, each about 1 for
  a clear break:
  - held notes, weighted `held_weight` (3): `1 - |a & b| / |a | b|` for the pitches `a`
    sounding at the tail's last step and `b` at the head's first step (0 when both are
    silent), so notes held over the seam continue instead of stopping. The weight: with
    all four terms at 1 and 32 candidates, on the 10-minute Beethoven model, seam windows
    kept 0.31 of the notes sounding before the seam against 0.71 inside chunks, and their
    longest notes were shorter (duration_max had the largest KS statistic); weight 3 and
    64 candidates brought that to 0.50 (chosen on seed 0 of experiments/seam_continuity.py;
    the numbers in REPRODUCTION.md are from seed 1);
  - density: `|d_tail - d_head| / max(d_tail, d_head, 1)`, active cells per step;
  - register: `|mean pitch difference| / 12` (an octave costs 1);
  - spread: `|pitch std difference| / 12`.
  A silent side against a sounding one costs 1 for register and spread.

  Returns:
    `[k]` float64 costs.
  """
  kept, density, register, spread, sounding = transitions(tail, heads)
  both, neither = sounding == 3, sounding == 0
  register = np.where(both, np.abs(register), np.where(neither, 0.0, 1.0))
  spread = np.where(both, np.abs(spread), np.where(neither, 0.0, 1.0))
  return held_weight * (1.0 - kept) + np.abs(density) + register + spread


SEAM_METHODS = ("continuity", "transition", "overlap")
DEFAULT_SEAM_METHOD = "continuity"


def overlap_cost(tail, heads, held_weight=HELD_WEIGHT):
  """How unlike the piece's last `half` steps each candidate's first `half` steps are.

  For the 'overlap' method (`chain_overlapping`): the candidate's first half should be the
  same kind of music as where the piece stands, because its second half, which continues
  that first half as the model wrote it, is what gets appended. Three terms, each in [0, 1]:
  - pitch content: `1 - cosine` of the two halves' per-pitch active cells (which pitches,
    how much; 0 when both are silent, 1 when one is);
  - density: `|d_tail - d_head| / max(d_tail, d_head, 1)`, active cells per step;
  - the last step, weighted `held_weight` (3, as in `seam_cost`): `1 - |a & b| / |a | b|`
    for the pitches sounding on the last step of the tail (`a`) and of the head (`b`; 0
    when both are silent): what sounds there is what the appended half goes on from.

  Args:
    tail: `[half, 128]` bool, the piece's last `half` steps.
    heads: `[k, half, 128]` bool, each candidate's first `half` steps.

  Returns:
    `[k]` float64 costs.
  """
  tail = np.asarray(tail, bool)
  heads = np.asarray(heads, bool)
  p_tail = tail.sum(axis=0).astype(np.float64)
  p_heads = heads.sum(axis=1).astype(np.float64)
  norms = np.linalg.norm(p_heads, axis=1) * np.linalg.norm(p_tail)
  cosine = np.where(norms > 0, p_heads @ p_tail / np.maximum(norms, 1e-300),
                    np.where((p_heads.sum(axis=1) == 0) & (p_tail.sum() == 0), 1.0, 0.0))
  # Both halves read from their last step: the density change and the share kept there.
  kept, density, _, _, _ = transitions(seam_features(tail[None], "tail", len(tail)),
                                       seam_features(heads, "tail", heads.shape[1]))
  return (1.0 - cosine) + np.abs(density) + held_weight * (1.0 - kept)


def joins(steps, chunk_steps, method=DEFAULT_SEAM_METHOD):
  """Where a long piece of `method` joins material of two drawn chunks, and where whole
  drawn chunks lie in it.

  Returns:
    `(chunk_starts, join_steps)`: int64 arrays. 'continuity' and 'transition' chain whole
    chunks: chunks start at `k * chunk_steps`, joins are at `k * chunk_steps` (k >= 1).
    'overlap' appends half-chunks after a first whole chunk: the only whole chunk starts at
    0, joins are at `chunk_steps + j * (chunk_steps // 2)` (j >= 0) below `steps`.
  """
  if method not in SEAM_METHODS:
    raise ValueError(f"method must be one of {SEAM_METHODS}, got {method!r}")
  if method == "overlap":
    half = chunk_steps // 2
    return (np.zeros(1 if steps >= chunk_steps else 0, np.int64),
            np.arange(chunk_steps, steps, half, dtype=np.int64))
  return (np.arange(steps // chunk_steps, dtype=np.int64) * chunk_steps,
          np.arange(chunk_steps, steps, chunk_steps, dtype=np.int64))


def num_draws(steps, chunk_steps, method=DEFAULT_SEAM_METHOD):
  """Chunks drawn per seam position after the first chunk: seams for whole-chunk methods,
  half-chunk extensions for 'overlap'."""
  return len(joins(steps, chunk_steps, method)[1])


def chain_overlapping(first, candidates, steps, half=None):
  """Extends each piece by half-chunks: at each join, the second half of the candidate whose
  first half is most like the piece's last `half` steps (`overlap_cost`).

  Args:
    first: `[n, chunk_steps, 128]` bool opening chunks.
    candidates: `[n, num_joins, k, chunk_steps, 128]` bool, `num_joins = num_draws(steps,
      chunk_steps, 'overlap')`.
    steps: length of each piece (the last half is cut).
    half: steps compared and appended (default: half a chunk).

  Returns:
    `(pieces, chosen)`: `[n, steps, 128]` bool and `[n, num_joins]` int.
  """
  first = np.asarray(first, bool)
  candidates = np.asarray(candidates, bool)
  n, chunk_steps, pitches = first.shape
  half = half or max(chunk_steps // 2, 1)
  num_joins = len(range(chunk_steps, steps, half))
  if candidates.shape[:2] != (n, num_joins) or candidates.shape[3:] != (chunk_steps, pitches):
    raise ValueError(f"candidates must have shape [{n}, {num_joins}, k, {chunk_steps}, "
                     f"{pitches}], got {candidates.shape}")
  pieces = np.zeros((n, chunk_steps + num_joins * half, pitches), bool)
  chosen = np.zeros((n, num_joins), np.int64)
  pieces[:, :chunk_steps] = first
  for i in range(n):
    end = chunk_steps
    for j in range(num_joins):
      cost = overlap_cost(pieces[i, end - half:end],
                          candidates[i, j, :, chunk_steps - 2 * half:chunk_steps - half])
      best = int(np.argmin(cost))
      chosen[i, j] = best
      pieces[i, end:end + half] = candidates[i, j, best, chunk_steps - half:]
      end += half
  return pieces[:, :steps], chosen


def transitions(before, after):
  """How music changes from one half-window to the next, as `seam_features` sees it.

  Args:
    before: `seam_features(..., 'tail', half)` of the part before the boundary.
    after: `seam_features(..., 'head', half)` of the part after it (arrays broadcast).

  Returns:
    `(kept, density, register, spread, sounding)`: `kept` the share `|a & b| / |a | b|` of
    the pitches sounding on the step before the boundary (`a`) and after it (`b`) that are
    in both (1 when both are silent); `density` the signed change of active cells per step,
    `(d_after - d_before) / max(d_before, d_after, 1)`; `register` and `spread` the signed
    changes of mean pitch and pitch spread in octaves (`/ 12`; 0 unless both halves sound);
    `sounding` 0, 1, 2 or 3: which halves sound (bit 0 before, bit 1 after).
  """
  a_edge, a_density, a_register, a_spread = before
  b_edge, b_density, b_register, b_spread = after
  union = (a_edge | b_edge).sum(axis=-1)
  kept = np.where(union > 0, (a_edge & b_edge).sum(axis=-1) / np.maximum(union, 1), 1.0)
  density = (b_density - a_density) / np.maximum(np.maximum(a_density, b_density), 1.0)
  both = (a_density > 0) & (b_density > 0)
  register = np.where(both, (b_register - a_register) / 12.0, 0.0)
  spread = np.where(both, (b_spread - a_spread) / 12.0, 0.0)
  sounding = (a_density > 0).astype(np.int64) + 2 * (b_density > 0)
  return kept, density, register, spread, sounding


def transition_cost(candidate, target, held_weight=HELD_WEIGHT):
  """How far each candidate seam's `transitions` are from a target transition.

  `held_weight * |kept difference| + |density difference| + |register difference| +
  |spread difference|` (each change as `transitions` scales it, so a clear mismatch costs
  about 1 per term); when the two differ in which halves sound, the register and spread
  terms cost 1 each instead. The kept share weighs `held_weight` (3, as in `seam_cost`):
  with weight 1, on the 10-minute Beethoven writer (seed 0 of
  experiments/seam_continuity.py), seams kept 0.18 of the sounding notes against 0.69
  across the middle of a chunk: few of 64 random candidates open with the pitches the
  previous chunk ends with, so that term needs the weight to count.

  Returns:
    float64 array of the broadcast shape.
  """
  c_kept, c_density, c_register, c_spread, c_sounding = candidate
  t_kept, t_density, t_register, t_spread, t_sounding = target
  pitch = np.where(c_sounding == t_sounding,
                   np.abs(c_register - t_register) + np.abs(c_spread - t_spread), 2.0)
  return held_weight * np.abs(c_kept - t_kept) + np.abs(c_density - t_density) + pitch


def inside_transitions(rolls, half):
  """`transitions` across the middle of each roll: its first `half` steps to the next
  `half` (the change a window inside one chunk shows)."""
  rolls = np.asarray(rolls, bool)
  return transitions(seam_features(rolls[..., :half, :], "tail", half),
                     seam_features(rolls[..., half:2 * half, :], "head", half))


def chain_chunks(first, candidates, steps, half=None, method=DEFAULT_SEAM_METHOD):
  """Joins chunks into pieces of `steps` steps, choosing a candidate at each seam.

  Args:
    first: `[n, chunk_steps, 128]` bool opening chunks.
    candidates: `[n, num_seams, k, chunk_steps, 128]` bool candidates for each seam, with
      `num_seams = ceil(steps / chunk_steps) - 1`; `k = 1` is plain concatenation.
    steps: length of each piece (the last chunk is cut).
    half: steps summarised on each side of a seam (default: half a chunk).
    method: 'continuity' (default): the candidate that continues best (`seam_cost`, the
      least change). 'transition': the candidate whose change across the seam
      (`transitions` of the previous chunk's last `half` steps and the candidate's first
      `half`) is nearest (`transition_cost`) to the change across the middle of candidate 0
      of the same seam (`inside_transitions`), a chunk drawn from the model like any other:
      a seam that changes as much as a chunk changes inside, no more and no less.

  Returns:
    `(pieces, chosen)`: `[n, steps, 128]` bool, and `[n, num_seams]` int, the candidate
    taken at each seam.
  """
  if method not in ("continuity", "transition"):
    raise ValueError(f"method must be 'continuity' or 'transition' (whole chunks; "
                     f"'overlap' is `chain_overlapping`), got {method!r}")
  first = np.asarray(first, bool)
  candidates = np.asarray(candidates, bool)
  n, chunk_steps, pitches = first.shape
  num_seams = -(-steps // chunk_steps) - 1
  if candidates.shape[:2] != (n, num_seams) or candidates.shape[3:] != (chunk_steps, pitches):
    raise ValueError(f"candidates must have shape [{n}, {num_seams}, k, {chunk_steps}, "
                     f"{pitches}], got {candidates.shape}")
  half = half or max(chunk_steps // 2, 1)
  pieces = np.zeros((n, (num_seams + 1) * chunk_steps, pitches), bool)
  chosen = np.zeros((n, num_seams), np.int64)
  pieces[:, :chunk_steps] = first
  for i in range(n):
    previous = first[i]
    for s in range(num_seams):
      tail = seam_features(previous[None], "tail", half)
      heads = seam_features(candidates[i, s], "head", half)
      if method == "continuity":
        cost = seam_cost(tail, heads)
      else:
        target = inside_transitions(candidates[i, s, :1], half)
        cost = transition_cost(transitions(tail, heads), target)
      best = int(np.argmin(cost))
      chosen[i, s] = best
      previous = candidates[i, s, best]
      pieces[i, (s + 1) * chunk_steps:(s + 2) * chunk_steps] = previous
  return pieces[:, :steps], chosen


def generate_long(model, n, beats, alpha, seed, candidates=DEFAULT_CANDIDATES,
                  method=DEFAULT_SEAM_METHOD, texture=DEFAULT_TEXTURE):
  """`n` pieces of `beats` beats from a chunk model: chunks chained by choice at each seam.

  Method: candidate chunks chosen at each seam. Every chunk is an ordinary sample of the
  model (decoder only, `z ~ N(0, I)`); for each seam `candidates` chunks are drawn and one
  is kept (`chain_chunks`). By default ('continuity') it is the one whose opening best
  continues the previous chunk's ending (`seam_cost`: notes held over the seam, and the
  density, register and pitch spread of the half-chunk on each side). A seam so chosen
  changes less than music changes across the middle of a chunk (smaller density and
  register jumps, fewer notes held over); with the writer's decoder and one texture per
  piece (below) the set-level test no longer tells seam windows from inside windows (three
  seeds), with the paper's decoder it does on two seeds of three (REPRODUCTION.md, "Long
  pieces"). The alternative
  'transition' (`transition_cost`: a seam that changes as much as a chunk the model drew
  changes across its middle) matched the density and register jumps but held even fewer
  notes over, and did worse by that test on the seed it was tried on; it stays selectable
  so that the comparison can be redone. 'overlap' (`chain_overlapping`) changes what is
  joined: after the first chunk the piece grows by half-chunks, each the second half of the
  candidate whose *first* half is most like the piece's last half-chunk (`overlap_cost`:
  pitch content, density, what sounds on the last step). What crosses a join is then the
  model's own change across the middle of one chunk, not a change chosen to be small or
  large; a window centred on a join is a whole drawn chunk wherever the first half matched
  exactly. It draws twice as many candidates (one set per half-chunk). Why choosing among samples: (1) each chunk stays
  a sample of the trained model (with 'overlap', each half-chunk is half of one), so what
  is inside a chunk is exactly what the paper's measure judged; (2) the model has no conditional input, and conditioning through the
  encoder (encoding a canvas whose first part is the previous tail) asks the encoder about
  canvases it never saw in training (a half-silent chunk), which a briefly trained model
  reconstructs poorly; (3) all candidates of all seams come from one batched decoder pass,
  so a 64-beat piece takes a fraction of a second (benchmarks/bench_listen.py). The price: a
  piece is a chain of independent chunks, so nothing longer than a chunk (a theme, a
  return) is planned. `candidates=1` is plain concatenation, the baseline of
  experiments/seam_continuity.py.

  Texture. Where the decoder follows the corpus (the writer: each chunk as dense as the
  corpus's chunk of the same rank, with its note lengths and off-grid onsets), a chunk's
  texture is set by the chunk. With `texture='piece'` (the default) every chunk of a piece
  is decoded with the targets of the piece's first chunk: a long piece keeps one density,
  one mean note length and one share of off-grid onsets, and what changes at a seam is the
  notes. With 'chunk' each chunk keeps its own: two chunks decoded at different hold levels
  then met at every seam, and the seam windows' note lengths and chords were what told
  them from inside windows (p = 0.004 to 0.028 on three seeds; 'piece': 0.16 to 0.28,
  REPRODUCTION.md, "Long pieces"). The price: no slow section after a fast one within a
  piece. Decoders that do not follow the corpus ignore it.

  Args:
    model: a `DrawModel`.
    n: pieces.
    beats: length of each piece in beats (8 steps each).
    alpha: binarisation threshold.
    seed: seed of the latent draws.
    candidates: chunks drawn per seam.
    method: how a candidate is chosen, one of `SEAM_METHODS` (`chain_chunks`).
    texture: 'piece' or 'chunk' (`TEXTURES`), above.

  Returns:
    `(pieces, chosen)`: `[n, beats * 8, 128]` bool pieces and `[n, num_seams]` the candidate
    taken at each seam.
  """
  if isinstance(beats, bool) or not isinstance(beats, (int, np.integer)) or beats < 1:
    raise ValueError(f"beats must be a positive integer, got {beats!r}")
  if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)) \
      or candidates < 1:
    raise ValueError(f"candidates must be a positive integer, got {candidates!r}")
  if method not in SEAM_METHODS:
    raise ValueError(f"method must be one of {SEAM_METHODS}, got {method!r}")
  if texture not in TEXTURES:
    raise ValueError(f"texture must be one of {TEXTURES}, got {texture!r}")
  chunk_steps = model.config.chunk_steps
  steps = int(beats) * STEPS_PER_BEAT
  num_seams = num_draws(steps, chunk_steps, method)
  total = n * (1 + num_seams * candidates)
  rolls = last_canvases_binarized(model, total, alpha, seed,
                                  pieces=n if texture == "piece" else None)
  first = rolls[:n]
  rest = rolls[n:].reshape(n, num_seams, candidates, chunk_steps, -1)
  if method == "overlap":
    return chain_overlapping(first, rest, steps)
  return chain_chunks(first, rest, steps, method=method)


def write_pieces(rolls, out_dir, prefix="piece", pictures=True, tempo_bpm=120.0):
  """Writes each `[time, 128]` roll as MIDI (and a piano-roll PNG); returns the MIDI paths."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  paths = []
  for i, roll in enumerate(rolls):
    stem = out_dir / f"{prefix}_{i:03d}"
    paths.append(midi_io.write_midi(roll, f"{stem}.mid", tempo_bpm=tempo_bpm))
    if pictures:
      fig = plotting.plot_piano_roll(roll, f"{stem}.png", title=stem.name)
      plotting.plt.close(fig)
  return paths


def _parser():
  parser = cli.ArgumentParser(prog="python -m draw_music.writer.generate",
                                   description="Generate MIDI pieces from a trained model.")
  parser.add_argument("--checkpoint", required=True,
                      help="training folder (the --out_dir of train_baseline)")
  parser.add_argument("--weights", default="selected", choices=("selected", "last"),
                      help="which weights of the run: 'selected' (the checkpoint chosen on "
                           "held-out pieces, where the run chose one; else the last) or "
                           "'last'")
  parser.add_argument("--prior", default=None, choices=("standard", "fitted"),
                      help="where the pieces' codes are drawn from: 'standard' (N(0, I), "
                           "the paper's) or 'fitted' (the Gaussian fitted to the training "
                           "corpus's codes, `draw_music.writer.fit_prior`); default: the "
                           "run's config")
  parser.add_argument("--temperature", type=float, default=None,
                      help="scale of the prior's noise: z = temperature * e from N(0, I), "
                           "mean + temperature * chol e from the fitted prior (1: the prior "
                           "itself); default: the run's config")
  parser.add_argument("--n", type=int, default=10, help="number of pieces")
  parser.add_argument("--alpha", type=float, default=None,
                      help="threshold after min-max normalisation (default: the config's)")
  parser.add_argument("--seed", type=int, default=0, help="seed of the latent draws")
  parser.add_argument("--beats", type=int, default=None,
                      help="length of each piece in beats (default: one chunk); longer "
                           "pieces chain chunks chosen for continuity at each seam")
  parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES,
                      help="chunks drawn per seam with --beats (1: plain concatenation)")
  parser.add_argument("--seam_method", default=DEFAULT_SEAM_METHOD, choices=SEAM_METHODS,
                      help="how a chunk is chosen at each seam with --beats: 'continuity' "
                           "(the least change), 'transition' (as much change as inside "
                           "a chunk) or 'overlap' (half-chunks: the second half of the "
                           "chunk whose first half is most like the piece's last half)")
  parser.add_argument("--texture", default=DEFAULT_TEXTURE, choices=TEXTURES,
                      help="with --beats, where the decoder follows the corpus: 'piece' "
                           "(every chunk gets the density and note lengths of the piece's "
                           "first chunk) or 'chunk' (each its own)")
  parser.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                      help="render each piece to WAV (default on; --no-audio to skip)")
  parser.add_argument("--reference", default=None,
                      help="a corpus folder to score the pieces against (distance and "
                           "category on the page) and to draw them beside "
                           "(generated_vs_corpus.png)")
  parser.add_argument("--out_dir", default="out/generated", help="output folder")
  parser.add_argument("--verbose", action="store_true",
                      help="show TensorFlow's start-up and log lines")
  return parser


def _score(reference_dir, rolls, chunk_steps):
  """Distances, categories and summary lines of `rolls` against a corpus folder."""
  from draw_music.metric import evaluate  # pylint: disable=g-import-not-at-top
  reference, _ = evaluate.build_reference(reference_dir, chunk_steps)
  scored = evaluate.score_rolls(reference, rolls, chunk_steps)
  distances = [s["distance"] for s in scored]
  summary = evaluate.summarize(distances)
  line = (f"distance to {reference_dir}: {summary['mean']:.2f} +- {summary['std']:.2f} "
          f"(median {summary['median']:.2f}); " + ", ".join(
              f"{k}: {100 * v:.0f}%" for k, v in summary["fraction_per_category"].items()))
  return distances, [s["category"] for s in scored], [line]


def main(argv=None):
  args = _parser().parse_args(argv)
  for name in ("n", "candidates") + (("beats",) if args.beats is not None else ()):
    if getattr(args, name) < 1:
      return cli.fail(f"--{name} must be a positive integer, got {getattr(args, name)}")
  if args.alpha is not None and not 0 <= args.alpha <= 1:
    return cli.fail(f"--alpha must be in [0, 1], got {args.alpha}")
  if args.temperature is not None and not 0 < args.temperature < float("inf"):
    return cli.fail(f"--temperature must be a positive number, got {args.temperature}")
  from draw_music.listening import page  # pylint: disable=g-import-not-at-top
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top  (loads TensorFlow)
  try:
    model, step = train.load_trained(args.checkpoint, choice=args.weights, with_prior=False)
    if args.prior is not None:
      model.config = dataclasses.replace(model.config, prior=args.prior)
    if args.temperature is not None:
      model.config = dataclasses.replace(model.config, temperature=args.temperature)
    if model.config.prior == "fitted":
      train.attach_latent_prior(model, args.checkpoint, step)
  except (OSError, ValueError) as e:  # no folder, no config.json, no readable checkpoint
    return cli.fail(f"--checkpoint: {e}")
  alpha = model.config.alpha if args.alpha is None else args.alpha
  if args.beats is None:
    _, rolls = generate_rolls(model, args.n, alpha, args.seed)
    chosen = None
  else:
    rolls, chosen = generate_long(model, args.n, args.beats, alpha, args.seed,
                                  args.candidates, args.seam_method, args.texture)
  distances = categories = None
  verdicts = []
  if args.reference is not None:
    from draw_music.metric import evaluate  # pylint: disable=g-import-not-at-top
    try:
      distances, categories, verdicts = _score(args.reference, rolls,
                                               model.config.chunk_steps)
    except evaluate.EvaluationError as e:
      print(f"error: {e}", file=sys.stderr)
      return 2
    if args.beats is None:  # one chunk each: beside chunks of the reference
      from draw_music.corpora import corpus as corpus_lib  # pylint: disable=g-import-not-at-top
      chunks, _ = corpus_lib.corpus_chunks(corpus_lib.load_corpus(args.reference).rolls,
                                           model.config.chunk_steps)
      plotting.plt.close(plotting.plot_generated_vs_corpus(
          rolls, chunks, pathlib.Path(args.out_dir) / "generated_vs_corpus.png", args.seed))
  paths = write_pieces(rolls, args.out_dir)
  config = {"checkpoint": args.checkpoint, "step": step, "weights": args.weights,
            "n": args.n, "alpha": alpha, "prior": model.config.prior,
            "temperature": model.config.temperature,
            "beats": args.beats, "candidates": args.candidates if args.beats else None,
            "seam_method": args.seam_method if args.beats else None,
            "texture": args.texture if args.beats else None,
            "reference": args.reference}
  results.write_json(pathlib.Path(args.out_dir) / "pieces.json", {
      "run": results.run_info(config, args.seed),
      "pieces": [str(p) for p in paths],
      "active_cells": [int(r.sum()) for r in rolls],
      "chosen_candidates": None if chosen is None else chosen.tolist(),
      "distances": distances,
      "categories": categories,
  })
  length = f"{args.beats} beats" if args.beats else f"one chunk ({len(rolls[0])} steps)"
  page_path = page.publish(args.out_dir, paths, f"{args.n} pieces from {args.checkpoint}",
                           distances, categories,
                           [f"step {step}, alpha {alpha}, seed {args.seed}, {length}, "
                            f"{model.config.prior} prior at temperature "
                            f"{model.config.temperature:g}"]
                           + verdicts, config, with_audio=args.audio)
  print(f"wrote {len(paths)} pieces of {length} (MIDI + PNG"
        f"{' + WAV' if args.audio else ''}) and {page_path} to {args.out_dir} from "
        f"{args.checkpoint} (step {step}, alpha {alpha}, seed {args.seed})")
  return 0


if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(main())
