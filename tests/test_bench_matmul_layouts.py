"""The layouts timed by bench_matmul_layouts compute the same products as numpy."""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import bench_matmul_layouts as layouts_lib

# Lopsided tiny shapes: batch 3, 10 cells, 8 gates, 5 units, 4 steps.
SHAPES = (3, 10, 8, 5, 4)


def _values(seed, *shape):
  return np.random.default_rng(seed).random(shape, dtype=np.float32) - 0.5


def test_every_layout_of_a_product_gives_the_same_numbers():
  for product, forms in layouts_lib.layouts(*SHAPES).items():
    outs = [make(tf.float32)().numpy() for _, _, make in forms]
    for (form, _, _), out in zip(forms, outs):
      if out.shape != outs[0].shape:
        out = out.T
      np.testing.assert_allclose(out, outs[0], rtol=1e-5, atol=1e-5,
                                 err_msg=f"{product}: {form}")


def test_the_chained_encoder_forward_equals_numpy():
  batch, cells, gates, _, steps = SHAPES
  w, x = _values(1, cells, gates), _values(2, steps * batch, cells)
  acc = np.zeros([batch, gates], np.float32)
  for t in range(steps):
    acc = acc + (x[t * batch:(t + 1) * batch] + acc[0, 0]) @ w
  (_, flops, make), = [f for f in layouts_lib.layouts(*SHAPES)["encoder forward (x23)"]
                       if f[0] == "xhat @ W"]
  np.testing.assert_allclose(make(tf.float32)().numpy(), acc, rtol=1e-5, atol=1e-5)
  assert flops == steps * 2 * batch * cells * gates


def test_fastest_sums_add_the_best_layout_of_each_product():
  rows = [("a", "one", "float32", 5.0, 4.0, 1.0), ("a", "two", "float32", 3.0, 2.0, 1.0),
          ("b", "one", "float32", 7.0, 6.0, 1.0), ("a", "one", "bfloat16", 1.0, 1.0, 1.0),
          ("b", "one", "bfloat16", 0.5, 0.5, 1.0)]
  assert layouts_lib.fastest_sums(rows, ["float32", "bfloat16"]) == {"float32": 10.0,
                                                                     "bfloat16": 1.5}


def test_median_time_warms_up_as_many_calls_as_asked():
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  calls = []
  _, times = common.median_time(lambda: calls.append(1), 4, warm_up=3)
  assert len(calls) == 7 and len(times) == 4
  common.median_time(lambda: calls.append(1), 2, warm_up=True)
  assert len(calls) == 10
  common.median_time(lambda: calls.append(1), 2, warm_up=False)
  assert len(calls) == 12


def test_step_flops_count_each_of_the_six_products_once():
  batch, cells, gates, units, steps = SHAPES
  by_hand = steps * 2 * batch * (cells * gates * 2 + units * cells * 2)  # per-step products
  by_hand += 2 * steps * batch * (cells * gates + units * cells)  # the two weight gradients
  assert layouts_lib.step_flops(SHAPES) == by_hand == 9360


def test_peak_rates_count_two_flops_per_multiply_add(monkeypatch):
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  calls = []

  def half_a_second(fn, runs, warm_up=True):
    calls.append(fn())
    return 0.5, [0.5] * runs

  monkeypatch.setattr(common, "median_time", half_a_second)
  rates = layouts_lib.peak_rates(1, ["float32"], 10)
  # A 10 x 10 product: 1,000 multiply-adds, 2,000 FLOPs, in 0.5 s.
  assert rates == {"float32": (500.0, 2000 / 0.5 / 1e9)}
  assert calls[0].shape == (10, 10)


def test_timing_arguments_are_checked_by_name(capsys):
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  parser = common.timing_parser("t", "## T")
  args, dtypes = common.parse_timing_args(parser, ["--repeats", "3", "--dtypes", "float32"])
  assert (args.repeats, dtypes, args.out, args.section) == (3, ["float32"], None, "## T")
  for bad, flag in ((["--repeats", "0"], "--repeats"), (["--section", "T"], "--section"),
                    (["--dtypes", "float16"], "--dtypes")):
    with pytest.raises(SystemExit):
      common.parse_timing_args(parser, bad)
    assert flag in capsys.readouterr().err


def test_section_head_names_the_command_and_the_versions():
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  head = common.section_head("## T", "benchmarks.x", ["--out", "a b.md"], "TensorFlow 9")
  assert head[0] == "## T" and head[1] == "" and head[-1] == ""
  assert head[2] == "Command: `python -m benchmarks.x --out 'a b.md'`  "
  assert head[3].startswith("Date: ") and head[3].endswith(" UTC  ")
  assert head[4].startswith("Machine: ") and "; TensorFlow 9; load average" in head[4]


def test_interleaved_medians_alternate_the_calls_after_warming_each_up():
  from benchmarks import common  # pylint: disable=g-import-not-at-top
  calls = []
  medians, times = common.interleaved_medians(
      {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=2)
  assert calls == ["a", "a", "b", "b"] + ["a", "b"] * 3
  assert set(medians) == {"a", "b"} and [len(times["a"]), len(times["b"])] == [3, 3]
  assert medians["a"] == 1000.0 * float(np.median(times["a"]))
