"""Training batches from corpus chunks, as a `tf.data.Dataset`.

Two orders:

* `"paper"`: each batch holds one chunk from each of `batch_size` distinct pieces (the
  paper's batches: 37 pieces, batch 37, one chunk of each). Precisely: the pieces are dealt
  in turn from a random permutation of all pieces (a "deck"), a new permutation being drawn
  each time one is used up; a new permutation puts the pieces least used so far in the
  current batch first (random among equals), so a batch never repeats a piece while there
  are at least `batch_size` pieces, and uses the pieces evenly otherwise. Each piece has its
  own queue of its chunks in random order, and a chosen piece gives the next chunk of its
  queue; an emptied queue is refilled with a new random order of the same chunks. So with
  37 pieces and batch 37 every batch has every piece once; with fewer pieces than
  `batch_size`, pieces are reused within a batch (each piece `batch_size // num_pieces` or
  one more times); with more, the pieces take turns.
  Pieces, not chunks, are sampled uniformly: a short piece's chunks come back more often
  than a long piece's (as in the paper). One epoch is `ceil(num_chunks / batch_size)`
  batches (as many chunks as the corpus has, rounded up to whole batches); batches are
  always full.
* `"shuffled"`: every chunk once per epoch, in a new random order each epoch.

`repeat=True` (training) gives an endless stream: for `"shuffled"` the epochs' orders are
concatenated before batching, so every batch is full, even when the corpus has fewer chunks
than a batch (a batch then holds some chunks twice). `repeat=False` (evaluation) gives one
epoch; for `"shuffled"` the last batch is smaller when `batch_size` does not divide the
number of chunks (one batch of all the chunks when there are fewer chunks than a batch).
Nothing here can wait for data that never comes (Magenta's MusicVAE hangs there, issue 985).

The order is fixed by `seed`: the same arguments give the same batches, on every pass over
the dataset. The chunk indices of a whole epoch are computed at once with NumPy
(`epoch_indices`, one Python call per epoch) and sliced with `from_tensor_slices`; the chunks
themselves are gathered in the graph from one constant table, cast to float32, and
prefetched.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

ORDERS = ("paper", "shuffled")


def _check(chunks, piece_index, batch_size, order):
  chunks = np.asarray(chunks)
  if chunks.ndim != 3:
    raise ValueError(f"chunks must be [n, time, pitch], got shape {chunks.shape}")
  if len(chunks) == 0:
    raise ValueError("chunks is empty: there is nothing to train on")
  piece_index = np.asarray(piece_index)
  if piece_index.shape != (len(chunks),):
    raise ValueError(f"piece_index must be [{len(chunks)}] (one per chunk), got shape "
                     f"{piece_index.shape}")
  if not np.issubdtype(piece_index.dtype, np.integer):
    raise ValueError(f"piece_index must be integers, got dtype {piece_index.dtype}")
  if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
      or batch_size < 1:
    raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
  if order not in ORDERS:
    raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
  return chunks, piece_index


class _PaperOrder:
  """The 'paper' order's state: a deck of pieces and one chunk queue per piece."""

  def __init__(self, piece_index, batch_size, rng):
    self._rng = rng
    self._batch_size = batch_size
    _, inverse = np.unique(piece_index, return_inverse=True)
    self._chunks_of = [np.flatnonzero(inverse == p) for p in range(inverse.max() + 1)]
    self._queues = [self._rng.permutation(c) for c in self._chunks_of]
    self._heads = [0] * len(self._chunks_of)
    self._deck = self._rng.permutation(len(self._chunks_of))
    self._deck_head = 0

  def _next_chunk(self, piece):
    if self._heads[piece] == len(self._queues[piece]):
      self._queues[piece] = self._rng.permutation(self._chunks_of[piece])
      self._heads[piece] = 0
    chunk = self._queues[piece][self._heads[piece]]
    self._heads[piece] += 1
    return chunk

  def batch(self):
    """`[batch_size]` chunk indices, from distinct pieces when there are enough pieces."""
    num_pieces = len(self._chunks_of)
    counts = np.zeros(num_pieces, np.int64)  # uses of each piece in this batch
    chosen = []
    while len(chosen) < self._batch_size:
      if self._deck_head == num_pieces:
        # A new permutation, the pieces least used in this batch first (random among
        # equals): a batch repeats no piece while it can, and uses pieces evenly.
        self._deck = np.lexsort((self._rng.random(num_pieces), counts))
        self._deck_head = 0
      piece = int(self._deck[self._deck_head])
      self._deck_head += 1
      counts[piece] += 1
      chosen.append(piece)
    return np.array([self._next_chunk(p) for p in chosen], np.int64)


def epoch_indices(piece_index, batch_size, order="paper", seed=0, num_epochs=1):
  """The chunk indices of each epoch: the plan `make_dataset` follows.

  Args:
    piece_index: `[n]` int, the piece each chunk comes from.
    batch_size: chunks per batch.
    order: 'paper' or 'shuffled' (see the module docstring).
    seed: seed of the order.
    num_epochs: number of epochs, or None for an endless generator.

  Yields:
    One array per epoch. 'paper': `[ceil(n / batch_size), batch_size]` int64, a row per
    batch. 'shuffled': `[n]` int64, a permutation of the chunks (batched by the caller).
  """
  piece_index = np.asarray(piece_index)
  n = len(piece_index)
  rng = np.random.default_rng(seed)
  epoch = 0
  state = _PaperOrder(piece_index, batch_size, rng) if order == "paper" else None
  while num_epochs is None or epoch < num_epochs:
    if state is None:
      yield rng.permutation(n).astype(np.int64)
    else:
      yield np.stack([state.batch() for _ in range(math.ceil(n / batch_size))])
    epoch += 1


def make_dataset(chunks, piece_index, batch_size, order="paper", seed=0, repeat=True,
                 prefetch=2):
  """Batches of chunks for training or evaluation.

  Args:
    chunks: `[n, time, pitch]` bool (or numeric) array of chunks, `n >= 1`.
    piece_index: `[n]` int, which piece each chunk comes from (only 'paper' uses it).
    batch_size: chunks per batch.
    order: 'paper' (one chunk from each of `batch_size` distinct pieces) or 'shuffled'.
    seed: seed of the order; the same seed gives the same batches.
    repeat: endless stream (training) or one epoch (evaluation).
    prefetch: batches to prepare ahead.

  Returns:
    A `tf.data.Dataset` of `[batch, time, pitch]` float32 batches (`batch == batch_size`,
    except the last batch of a 'shuffled' epoch when `repeat=False`).
  """
  chunks, piece_index = _check(chunks, piece_index, batch_size, order)
  num_epochs = None if repeat else 1
  shape = [None, batch_size] if order == "paper" else [len(chunks)]
  epochs = tf.data.Dataset.from_generator(
      lambda: epoch_indices(piece_index, batch_size, order, seed, num_epochs),
      output_signature=tf.TensorSpec(shape, tf.int64))
  indices = epochs.flat_map(tf.data.Dataset.from_tensor_slices)
  if order == "shuffled":
    indices = indices.batch(batch_size, drop_remainder=repeat)
  table = tf.constant(chunks)
  return indices.map(lambda idx: tf.cast(tf.gather(table, idx), tf.float32),
                     num_parallel_calls=tf.data.AUTOTUNE,
                     deterministic=True).prefetch(prefetch)


# ---------------------------------------------------------------------------------------------
# Beyond the paper (the `writer` config): windows at any beat, and transposition.


def windows(rolls, chunk_steps, grid, drop_empty=True):
  """Every training window of `chunk_steps` steps that starts on a multiple of `grid` steps.

  The paper cuts each piece into non-overlapping chunks (starts 0, L, 2L, ...); with 29
  pieces that is 1,537 chunks of 104 steps, which 20 M weights learn by heart. Windows that
  start on every beat (`grid = 8`, one beat of 8 steps) give the model 13 times as many
  distinct chunks while keeping the beat grid where the corpus has it (a chunk still starts
  on a beat, as the paper's do).

  Args:
    rolls: a sequence of `[time_i, 128]` bool piano rolls (whole pieces).
    chunk_steps: window length `L`.
    grid: steps between window starts within a piece (>= 1).
    drop_empty: leave out windows with no active cell.

  Returns:
    `(table, starts, piece_index)`: `[sum time_i, 128]` bool, the rolls end to end;
    `[m]` int64, each window's first row in `table`; `[m]` int64, its piece. Windows never
    cross from one piece into the next.
  """
  if isinstance(grid, bool) or int(grid) != grid or grid < 1:
    raise ValueError(f"grid must be a positive integer, got {grid!r}")
  if int(chunk_steps) != chunk_steps or chunk_steps < 1:
    raise ValueError(f"chunk_steps must be a positive integer, got {chunk_steps!r}")
  rolls = [np.asarray(r, bool) for r in rolls]
  if not rolls:
    raise ValueError("rolls is empty: there is nothing to train on")
  table = np.concatenate(rolls)
  offsets = np.cumsum([0] + [len(r) for r in rolls[:-1]])
  starts, pieces = [], []
  for i, (roll, offset) in enumerate(zip(rolls, offsets)):
    local = np.arange(0, len(roll) - chunk_steps + 1, grid)
    if drop_empty and len(local):
      # Active steps in each window, from a cumulative sum over the piece's active rows.
      active = np.concatenate([[0], np.cumsum(roll.any(axis=1))])
      local = local[active[local + chunk_steps] > active[local]]
    starts.append(offset + local)
    pieces.append(np.full(len(local), i))
  starts = np.concatenate(starts).astype(np.int64)
  if len(starts) == 0:
    raise ValueError(f"no piece holds a window of {chunk_steps} steps with a note")
  return table, starts, np.concatenate(pieces).astype(np.int64)


def transpose_rolls(rolls, shifts):
  """Rolls transposed by `shifts` semitones (NumPy; the reference for the graph version).

  Args:
    rolls: `[n, time, 128]` bool.
    shifts: `[n]` int, semitones up (negative: down). A note moved past pitch 0 or 127 is
      dropped.

  Returns:
    `[n, time, 128]` bool, `out[i, :, p] = rolls[i, :, p - shifts[i]]`.
  """
  rolls = np.asarray(rolls, bool)
  out = np.zeros_like(rolls)
  for i, s in enumerate(np.asarray(shifts, np.int64)):  # one slice per piece
    if s >= 0:
      out[i, :, s:] = rolls[i, :, :rolls.shape[2] - s]
    else:
      out[i, :, :s] = rolls[i, :, -s:]
  return out


def window_plan(piece_index, batch_size, order="paper", seed=0, transpose=0, num_epochs=1):
  """The window indices and transpositions of each epoch (`make_window_dataset`'s plan).

  The windows are ordered exactly as `epoch_indices` orders chunks (so 'paper' batches
  still hold one window of each of `batch_size` pieces); each window also gets a shift
  drawn uniformly from `-transpose..transpose` semitones by a second generator seeded from
  `seed`, so the order does not change with `transpose`.

  Yields:
    `(indices, shifts)` per epoch, int64 arrays of the shape `epoch_indices` yields.
  """
  shift_rng = np.random.default_rng([seed, 1])
  for indices in epoch_indices(piece_index, batch_size, order, seed, num_epochs):
    yield indices, shift_rng.integers(-transpose, transpose + 1, indices.shape)


def make_window_dataset(table, starts, piece_index, chunk_steps, batch_size, order="paper",
                        seed=0, transpose=0, repeat=True, prefetch=2):
  """Batches of windows (`windows`), each transposed at random, for training.

  Args:
    table, starts, piece_index: what `windows` returns.
    chunk_steps: window length.
    batch_size: windows per batch.
    order: 'paper' or 'shuffled' (as `make_dataset`).
    seed: seed of the order and the transpositions.
    transpose: largest shift in semitones (0: none). Notes moved out of 0..127 are dropped.
    repeat: endless stream (training) or one epoch.
    prefetch: batches to prepare ahead.

  Returns:
    A `tf.data.Dataset` of `[batch, chunk_steps, 128]` float32 batches.
  """
  starts = np.asarray(starts, np.int64)
  _check(np.zeros((len(starts), 1, 1)), piece_index, batch_size, order)
  if isinstance(transpose, bool) or int(transpose) != transpose or transpose < 0:
    raise ValueError(f"transpose must be a non-negative integer, got {transpose!r}")
  num_epochs = None if repeat else 1
  shape = [None, batch_size] if order == "paper" else [len(starts)]
  plan = tf.data.Dataset.from_generator(
      lambda: window_plan(piece_index, batch_size, order, seed, transpose, num_epochs),
      output_signature=(tf.TensorSpec(shape, tf.int64), tf.TensorSpec(shape, tf.int64)))
  pairs = plan.flat_map(lambda i, s: tf.data.Dataset.from_tensor_slices((i, s)))
  if order == "shuffled":
    pairs = pairs.batch(batch_size, drop_remainder=repeat)
  table_t = tf.constant(np.asarray(table, bool))
  starts_t = tf.constant(starts)
  num_pitches = table_t.shape[1]
  steps = tf.range(chunk_steps, dtype=tf.int64)

  def gather(idx, shift):
    rows = tf.gather(starts_t, idx)[:, None] + steps[None, :]     # [batch, L]
    x = tf.gather(table_t, rows)                                   # [batch, L, P]
    if transpose:
      x = tf.pad(x, [[0, 0], [0, 0], [transpose, transpose]])
      cols = tf.range(num_pitches, dtype=tf.int64)[None, :] - shift[:, None] + transpose
      x = tf.gather(x, cols, axis=2, batch_dims=1)                # out[p] = x[p - shift]
    return tf.cast(x, tf.float32)

  return pairs.map(gather, num_parallel_calls=tf.data.AUTOTUNE,
                   deterministic=True).prefetch(prefetch)
