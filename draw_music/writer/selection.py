"""Choosing the checkpoint by the set-level distance to held-out pieces (beyond the paper).

A DRAW model trained longer is not always a better writer: the writer's pieces got *more*
alike and more typical from 10 to 30 minutes of training (BENCHMARKS.md, "The writer against
the baseline"), so the last checkpoint is not the one to keep. With `DrawConfig.holdout > 0`
and `select_every > 0`, training keeps the checkpoint whose pieces are nearest, as a set, to
pieces it never trained on:

- The split is by piece, never by chunk (chunks of one piece are alike, so held-out chunks
  of a training piece would reward copying it): `holdout_pieces` shuffles the pieces with
  the training seed and holds out whole pieces until they give at least `holdout` of the
  chunks, leaving at least one piece to train on. Training sees only the other pieces' chunks
  (and their active cells, for the note decoder's corpus density).
- Every `select_every` steps, and at the last step, `num_pieces` pieces come from the
  sampler with one fixed seed (`SAMPLE_SEED`, the same latents at every checkpoint, so that
  two checkpoints differ by their weights and not by their draw; it is not a seed the
  benchmarks generate their headline pieces with), decoded by the config's own decoder, and
  are compared with the held-out chunks by the Fréchet distance of `set_measures` (each
  feature set standardised by the held-out chunks), once with the paper's 17 features and
  once with the `extended` ones (pitch content, beat grid, texture). The score is the sum of
  the two, so that a checkpoint cannot win on the 17 features alone.
- The best score so far is kept: its weights in `selected/weights-STEP` under the training
  folder, every score in `selection.json` (step, training seconds, both distances, which was
  best, the held-out pieces). `train.load_trained` reads the selected weights by default.

The time this takes is training time: it counts against the run's time budget. The
choice is made on the sampler's pieces, one fixed draw, with no piece chosen or dropped; the
pieces a user or a benchmark then generates are fresh draws of the chosen weights.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from draw_music.metric import features as features_lib
from draw_music.metric import set_measures
from draw_music.writer import generate

SELECTION_FILE = "selection.json"
SELECTED_DIR = "selected"
FEATURE_SETS = (features_lib.DEFAULT_FEATURE_SET, "extended")
# The latents every checkpoint of a run is scored on (not 0..N: the seeds generation uses).
SAMPLE_SEED = 2**31 - 2


def holdout_pieces(piece_index, fraction, seed):
  """The pieces held out for checkpoint selection, as a sorted array of piece ids.

  Pieces are taken in a random order (seeded) until they hold at least `fraction` of the
  chunks; at least one piece is held out and at least one is left to train on.

  Args:
    piece_index: `[n]` int, the piece of each chunk.
    fraction: share of the chunks to hold out, in (0, 1).
    seed: seed of the order.

  Raises:
    ValueError: fewer than two pieces, or `fraction` outside (0, 1).
  """
  piece_index = np.asarray(piece_index)
  if not 0 < fraction < 1:
    raise ValueError(f"holdout must be in (0, 1), got {fraction!r}")
  pieces, counts = np.unique(piece_index, return_counts=True)
  if len(pieces) < 2:
    raise ValueError(f"holding out pieces for checkpoint selection needs at least 2 pieces, "
                     f"got {len(pieces)}")
  order = np.random.default_rng(seed).permutation(len(pieces))
  held = np.cumsum(counts[order])
  # The first k pieces in this order with held[k - 1] >= fraction * n; at most all but one.
  k = min(int(np.searchsorted(held, fraction * len(piece_index))) + 1, len(pieces) - 1)
  return np.sort(pieces[order[:k]])


def split(chunks, piece_index, fraction, seed):
  """`(train_chunks, train_piece_index, heldout_chunks, heldout_pieces)` by `holdout_pieces`."""
  piece_index = np.asarray(piece_index)
  held = holdout_pieces(piece_index, fraction, seed)
  mask = np.isin(piece_index, held)
  return chunks[~mask], piece_index[~mask], chunks[mask], held


class Selector:
  """Scores a training run's checkpoints on held-out chunks and keeps the best one.

  Args:
    out_dir: the training folder (`selection.json` and `selected/` go there; a resumed run
      reads the scores already there and does not score a step twice).
    heldout_chunks: `[m, chunk_steps, 128]` bool chunks of the held-out pieces, m >= 2.
    corpus: the training chunks' statistics the note decoder follows, as in
      `corpus_density.json` ('active_cells', 'note_lengths', 'odd_onset_shares';
      `generate.decode_canvases`).
    num_pieces: pieces generated per score.
    info: stored in `selection.json` beside the scores (the held-out pieces, ...).
  """

  def __init__(self, out_dir, heldout_chunks, corpus, num_pieces, info=None):
    if len(heldout_chunks) < 2:
      raise ValueError(f"checkpoint selection needs at least 2 held-out chunks, got "
                       f"{len(heldout_chunks)}")
    self.out_dir = pathlib.Path(out_dir)
    self.corpus = {k: np.asarray(v) for k, v in corpus.items()}
    self.num_pieces = int(num_pieces)
    self.heldout = {fs: features_lib.signatures(heldout_chunks, fs) for fs in FEATURE_SETS}
    path = self.out_dir / SELECTION_FILE
    self.state = (json.loads(path.read_text()) if path.exists()
                  else {"feature_sets": list(FEATURE_SETS), "sample_seed": SAMPLE_SEED,
                        "num_pieces": self.num_pieces, "scores": [], "selected": None})
    self.state.update(info or {})

  @property
  def selected(self):
    """The best score so far (a row of `selection.json`'s scores), or None."""
    return self.state["selected"]

  def scored(self, step):
    return any(row["step"] == step for row in self.state["scores"])

  def score(self, model):
    """`{feature_set: Fréchet distance to the held-out chunks}` and their sum, 'score'."""
    canvases = generate.last_canvases(model, self.num_pieces, SAMPLE_SEED)
    draw = None
    cfg = model.config
    if generate.needs_reference(cfg):
      # The model's reference draw, from these weights (not the cached one of older weights).
      draw = generate.model_reference(model, generate.last_canvases(
          model, generate.DENSITY_REFERENCE_DRAW, generate.DENSITY_REFERENCE_SEED),
                                      self.corpus)
    rolls = generate.decode_canvases(cfg, canvases, None, self.corpus, draw)
    out = {fs: set_measures.frechet_distance(ref, features_lib.signatures(rolls, fs))
           for fs, ref in self.heldout.items()}
    out["score"] = float(sum(out[fs] for fs in FEATURE_SETS))
    return out

  def update(self, model, step, elapsed_s, save_weights):
    """Scores `model` at `step`; when it is the best so far, `save_weights(folder, step)`.

    Returns:
      The new row of scores (with `best`), or None when `step` was already scored.
    """
    if self.scored(step):
      return None
    row = {"step": int(step), "elapsed_s": float(elapsed_s), **self.score(model)}
    best = self.selected is None or row["score"] < self.selected["score"]
    row["best"] = bool(best)
    if best:
      save_weights(self.out_dir / SELECTED_DIR, step)
      self.state["selected"] = {k: v for k, v in row.items() if k != "best"}
    self.state["scores"].append(row)
    tmp = self.out_dir / (SELECTION_FILE + ".tmp")
    tmp.write_text(json.dumps(self.state, indent=1) + "\n")
    tmp.replace(self.out_dir / SELECTION_FILE)
    return row
