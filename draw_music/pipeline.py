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
