"""Tests of draw_music.writer.pipeline: batches of corpus chunks as a tf.data.Dataset."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest

from draw_music.writer import pipeline

# Lopsided corpus: 6 pieces of 1, 2, 3, 10, 4 and 1 chunks.
PIECE_SIZES = [1, 2, 3, 10, 4, 1]
PIECES = np.repeat(np.arange(len(PIECE_SIZES)), PIECE_SIZES)
TIME = 4


def _chunks(n, time=TIME):
  """`[n, time, 128]` bool chunks; chunk i is marked by pitch i at step 0 (n <= 128)."""
  chunks = np.zeros((n, time, 128), bool)
  chunks[np.arange(n), 0, np.arange(n)] = True
  chunks[np.arange(n), 1:, 60] = np.arange(n)[:, None] % 2 == 0  # some more content
  return chunks


def _ids(batch):
  """Chunk index of each row of a `[batch, time, 128]` float32 batch."""
  return np.argmax(batch[:, 0, :], axis=-1)


def _take(dataset, count):
  return [b.numpy() for b in itertools.islice(iter(dataset), count)]


def test_batches_are_float32_copies_of_the_chunks():
  chunks = _chunks(len(PIECES))
  for order in pipeline.ORDERS:
    batch = _take(pipeline.make_dataset(chunks, PIECES, 4, order), 1)[0]
    assert batch.dtype == np.float32 and batch.shape == (4, TIME, 128)
    np.testing.assert_array_equal(batch, chunks[_ids(batch)].astype(np.float32))


def test_paper_order_has_distinct_pieces_in_each_batch():
  chunks = _chunks(len(PIECES))
  dataset = pipeline.make_dataset(chunks, PIECES, 4, "paper", seed=3)
  batches = _take(dataset, 30)
  for batch in batches:
    assert len(set(PIECES[_ids(batch)])) == 4
  # Pieces take turns: over 30 batches of 4 from 6 pieces, each piece is used 20 times.
  counts = np.bincount(np.concatenate([PIECES[_ids(b)] for b in batches]))
  np.testing.assert_array_equal(counts, [20] * 6)
  # A piece's chunks are all used before any is used again.
  piece3 = [i for b in batches for i in _ids(b) if PIECES[i] == 3]
  assert sorted(piece3[:10]) == list(np.flatnonzero(PIECES == 3))


def test_paper_order_with_as_many_pieces_as_the_batch_has_every_piece_in_each_batch():
  dataset = pipeline.make_dataset(_chunks(len(PIECES)), PIECES, 6, "paper", seed=0)
  for batch in _take(dataset, 10):
    assert sorted(PIECES[_ids(batch)]) == list(range(6))


def test_paper_order_reuses_pieces_evenly_when_there_are_few():
  dataset = pipeline.make_dataset(_chunks(len(PIECES)), PIECES, 15, "paper", seed=0)
  for batch in _take(dataset, 5):
    counts = np.bincount(PIECES[_ids(batch)], minlength=6)
    assert counts.min() == 2 and counts.max() == 3  # 15 = 6 * 2 + 3


def test_same_seed_same_batches_other_seed_other_batches():
  chunks = _chunks(len(PIECES))
  for order in pipeline.ORDERS:
    first = _take(pipeline.make_dataset(chunks, PIECES, 4, order, seed=5), 8)
    again = _take(pipeline.make_dataset(chunks, PIECES, 4, order, seed=5), 8)
    other = _take(pipeline.make_dataset(chunks, PIECES, 4, order, seed=6), 8)
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    assert not np.array_equal(np.stack(first), np.stack(other))
    # A second pass over the same dataset object repeats the first.
    dataset = pipeline.make_dataset(chunks, PIECES, 4, order, seed=5, repeat=False)
    np.testing.assert_array_equal(np.concatenate(list(dataset.as_numpy_iterator())),
                                  np.concatenate(list(dataset.as_numpy_iterator())))


def test_shuffled_order_covers_every_chunk_once_per_epoch():
  n = len(PIECES)
  chunks = _chunks(n)
  epoch = [b.numpy() for b in pipeline.make_dataset(chunks, PIECES, 4, "shuffled", seed=1,
                                                   repeat=False)]
  assert [len(b) for b in epoch] == [4] * 5 + [1]  # 21 chunks
  assert sorted(np.concatenate([_ids(b) for b in epoch])) == list(range(n))
  # Repeated: each run of n consecutive chunks is an epoch, in a new order each time.
  stream = np.concatenate([_ids(b) for b in _take(
      pipeline.make_dataset(chunks, PIECES, 7, "shuffled", seed=1), 6)])
  assert sorted(stream[:n]) == list(range(n)) and sorted(stream[n:2 * n]) == list(range(n))
  assert not np.array_equal(stream[:n], stream[n:2 * n])


def test_paper_epoch_length_without_repeat():
  batches = list(pipeline.make_dataset(_chunks(len(PIECES)), PIECES, 4, "paper",
                                       repeat=False))
  assert len(batches) == 6  # ceil(21 / 4), every batch full
  assert all(b.shape == (4, TIME, 128) for b in batches)


@pytest.mark.parametrize("order", pipeline.ORDERS)
def test_fewer_chunks_than_a_batch_works_and_terminates(order):
  chunks, pieces = _chunks(3), np.array([0, 0, 1])
  stream = _take(pipeline.make_dataset(chunks, pieces, 8, order, seed=0), 3)
  assert [b.shape for b in stream] == [(8, TIME, 128)] * 3
  assert set(np.concatenate([_ids(b) for b in stream])) == {0, 1, 2}
  epoch = list(pipeline.make_dataset(chunks, pieces, 8, order, seed=0, repeat=False))
  assert len(epoch) == 1
  assert epoch[0].shape[0] == (8 if order == "paper" else 3)


def test_one_chunk_corpus():
  for order in pipeline.ORDERS:
    batch = _take(pipeline.make_dataset(_chunks(1), [7], 3, order), 1)[0]
    assert batch.shape == (3, TIME, 128) and (_ids(batch) == 0).all()


def test_epoch_indices_plan():
  paper = list(pipeline.epoch_indices(PIECES, 4, "paper", seed=0, num_epochs=2))
  assert [p.shape for p in paper] == [(6, 4), (6, 4)]
  shuffled = list(pipeline.epoch_indices(PIECES, 4, "shuffled", seed=0, num_epochs=2))
  assert all(sorted(p) == list(range(len(PIECES))) for p in shuffled)


def test_rejects_bad_arguments():
  chunks = _chunks(4)
  with pytest.raises(ValueError, match="empty"):
    pipeline.make_dataset(chunks[:0], np.zeros(0, int), 2)
  with pytest.raises(ValueError, match="one per chunk"):
    pipeline.make_dataset(chunks, [0, 1], 2)
  with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
    pipeline.make_dataset(chunks, [0, 0, 1, 1], 0)
  with pytest.raises(ValueError, match="order must be one of"):
    pipeline.make_dataset(chunks, [0, 0, 1, 1], 2, order="sorted")
  with pytest.raises(ValueError, match=r"\[n, time, pitch\]"):
    pipeline.make_dataset(chunks[0], [0] * 4, 2)
