"""The parts timed by bench_xla_parts compute what the training step computes, by numpy."""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import bench_xla_parts as parts_lib


def _sigmoid(v):
  return 1.0 / (1.0 + np.exp(-v))


def test_each_part_equals_numpy_in_float32():
  rng = np.random.default_rng(3)
  canvas = rng.normal(size=(3, 7)).astype(np.float32) * 4.0
  x = (rng.random((3, 7)) < 0.3).astype(np.float32)
  probs, xhat = parts_lib.part_ops("read", tf.float32)(tf.constant(canvas), tf.constant(x))
  np.testing.assert_allclose(probs, _sigmoid(canvas), rtol=1e-6)
  np.testing.assert_allclose(xhat, x - _sigmoid(canvas), rtol=1e-6, atol=1e-7)

  out, bias = rng.normal(size=(3, 7)).astype(np.float32), np.arange(7, dtype=np.float32)
  written = parts_lib.part_ops("write", tf.float32)(tf.constant(canvas), tf.constant(out),
                                                    tf.constant(bias))
  np.testing.assert_allclose(written, canvas + out + bias[None, :], rtol=1e-6)

  d_canvas, d_xhat = (rng.normal(size=(3, 7)).astype(np.float32) for _ in range(2))
  p = _sigmoid(canvas)
  new, new_low = parts_lib.part_ops("back", tf.float32)(tf.constant(d_canvas), tf.constant(p),
                                                        tf.constant(d_xhat))
  np.testing.assert_allclose(new, d_canvas - d_xhat * p * (1.0 - p), rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(new, new_low)


def test_the_low_copies_are_rounded_to_the_compute_type():
  canvas = tf.constant([[0.3, -2.0, 5.0]])
  x = tf.constant([[1.0, 0.0, 1.0]])
  _, xhat = parts_lib.part_ops("read", tf.bfloat16)(canvas, x)
  assert xhat.dtype == tf.bfloat16
  expected = (x.numpy() - _sigmoid(canvas.numpy())).astype(np.float32)
  np.testing.assert_allclose(tf.cast(xhat, tf.float32), expected, rtol=2 ** -8)


def test_unknown_part_is_refused_by_name():
  with pytest.raises(ValueError, match="'gather'"):
    parts_lib.part_ops("gather", tf.float32)


def test_the_chain_runs_every_call_in_order_and_keeps_every_output():
  args = [(tf.constant([[float(i)]]),) for i in range(4)]
  seen = []

  def fn(v):
    return tf.py_function(lambda t: seen.append(float(t.numpy()[0, 0])) or t, [v], tf.float32)

  outs = parts_lib.chained(fn, args)()
  assert [float(o.numpy()[0, 0]) for o in outs] == [0.0, 1.0, 2.0, 3.0]
  assert seen == [0.0, 1.0, 2.0, 3.0]


def test_measure_gives_every_part_in_every_type_and_xla_agrees_with_the_ops():
  rows = parts_lib.measure(1, ["float32", "bfloat16"], batch=2, cells=9, steps=3)
  assert [(r[0], r[1]) for r in rows] == [(p, d) for d in ("float32", "bfloat16")
                                         for p in parts_lib.PARTS]
  for part, dtype, *times, diff in rows:
    assert all(t > 0 for t in times)
    # float32: the same maths to rounding; bfloat16: at most one rounding of the copy apart.
    assert diff < (1e-5 if dtype == "float32" else 0.05), (part, dtype, diff)
