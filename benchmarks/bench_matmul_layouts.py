r"""The matrix products of one training step, alone: their speed in each operand layout.

    python -m benchmarks.bench_matmul_layouts [--repeats 15] [--dtypes bfloat16,float32] \
        [--out BENCHMARKS.md] [--section "## ..."]

A baseline training step (batch 37, 23 DRAW steps, `N` = 104 x 128 = 13,312 cells, 4 x 167 =
668 encoder gates, 167 decoder units) spends most of its time in six products, four of them
made once per DRAW step with 37 rows and two (the weight gradients) once per batch with all
23 x 37 = 851 rows:

- encoder forward: `xhat [37, N] @ W_xhat [N, 668]`;
- encoder backward: `d_gates [37, 668]` times `W_xhat^T`, giving `d_xhat`;
- write forward: `h_dec [37, 167] @ W_write [167, N]`;
- write backward: `d_canvas [37, N]` times `W_write^T`, giving `d_h_dec`;
- encoder weight gradient: `xhat_rows^T [N, 851] @ d_gates_rows [851, 668]`;
- write weight gradient: `h_dec_rows^T [167, 851] @ d_canvas_rows [851, N]`.

Each product can be asked of oneDNN in several layouts (which operand is transposed, which
way round, the output transposed), all giving the same numbers. For every layout this script
times 23 chained products (each step's input depends on the previous product, as in
training, so none can be skipped or merged) as one `tf.function`: median and min of
`--repeats` calls after warm-up, and GFLOP/s of the median. The weights stay the same from
call to call, as in training; the inputs differ at each of the 23 products. A layout that
needs a transposed copy of a weight does not pay for it here (in training it is made once
per batch). The copy is made outside the timed graph: inside a graph, grappler folds a
transpose that feeds a product into it as `transpose_b` (the "d @ W^T, transpose_b" rows)
unless an op stands between them (`model.py` puts a `Snapshot` there).

The last lines add up the fastest layout of each product: the matmul time of a step if each
product ran as fast as it does here alone, against which `bench_profile`'s "matmuls of
forward + backward" can be read; and, for a floor, the rate this machine reaches on one
large square product (`--peak_size`, 2048 by default: big enough to leave no edge blocks and
to amortise every packing) and the time the six products would take at that rate, with
each product's FLOPs counted once (the `steps * 2 * batch * rows * cols` of each).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top

SECTION = "## Matrix products of a training step, alone, in each layout"


def layouts(batch, cells, gates, units, steps):
  """`{product: [(layout, flops, make(dtype) -> fn)]}` for the shapes of one training step.

  Every `fn` runs `steps` chained products of that layout (the weight-gradient products
  run once: they are made once per batch). All layouts of a product read the same numbers.
  """
  def tensor(dtype, seed, *shape):
    """The same numbers for the same seed and shape, in every layout."""
    values = np.random.default_rng(seed).random(shape, dtype=np.float32) - 0.5
    return tf.constant(values, dtype=dtype)

  rows = lambda a, t: a[t * batch:(t + 1) * batch]  # step t's rows of a [steps*batch, k]
  cols = lambda a, t: a[:, t * batch:(t + 1) * batch]  # step t's columns of a [k, steps*batch]

  def backward(out):
    """The layouts of `d [batch, k] @ W^T` for a weight `W [out, k]`."""
    return {"d @ W^T, W^T kept": (lambda w, wt, d, dt, t, a: tf.matmul(rows(d, t) + a, wt),
                                  [batch, out]),
            "d @ W^T, transpose_b": (lambda w, wt, d, dt, t, a: tf.matmul(
                rows(d, t) + a, w, transpose_b=True), [batch, out]),
            "(W @ d^T)^T": (lambda w, wt, d, dt, t, a: tf.matmul(
                w, rows(d, t) + a, transpose_b=True), [out, batch])}

  # product: ((weight seed, weight shape), (input seed, input width), {layout: (product of
  # (W, W^T, inputs, inputs^T, step, shift), output shape)}).
  per_step = {
      "encoder forward (x23)": ((1, (cells, gates)), (2, cells), {
          "xhat @ W": (lambda w, wt, x, xt, t, a: tf.matmul(rows(x, t) + a, w),
                       [batch, gates]),
          "(W^T @ xhat^T)^T, W^T kept": (lambda w, wt, x, xt, t, a: tf.matmul(
              wt, rows(x, t) + a, transpose_b=True), [gates, batch]),
          "(xhat^T)^T @ W, xhat^T kept": (lambda w, wt, x, xt, t, a: tf.matmul(
              cols(xt, t) + a, w, transpose_a=True), [batch, gates])}),
      "encoder backward (x23)": ((1, (cells, gates)), (3, gates), backward(cells)),
      "write forward (x23)": ((4, (units, cells)), (5, units), {
          "h @ W": (lambda w, wt, h, ht, t, a: tf.matmul(rows(h, t) + a, w), [batch, cells]),
          "(W^T @ h^T)^T, W^T kept": (lambda w, wt, h, ht, t, a: tf.matmul(
              wt, rows(h, t) + a, transpose_b=True), [cells, batch])}),
      "write backward (x23)": ((4, (units, cells)), (6, cells), backward(units)),
  }
  # product: ((seed, width, name) of the left rows, the same of the right rows).
  once = {"encoder weight gradient (once)": ((2, cells, "xhat"), (3, gates, "d")),
          "write weight gradient (once)": ((5, units, "h"), (6, cells, "d"))}

  def chained(weight, inputs, product, out_shape):
    """`make(dtype)`: `steps` products, each input shifted by a scalar of the previous."""
    def make(dtype):
      w, x = tensor(dtype, weight[0], *weight[1]), tensor(dtype, inputs[0], steps * batch,
                                                         inputs[1])
      wt, xt = tf.transpose(w), tf.transpose(x)

      def fn():
        acc = tf.zeros(out_shape, dtype)
        for t in range(steps):
          acc = acc + product(w, wt, x, xt, t, acc[0, 0])
        return acc
      return fn
    return make

  def gradient(left, right, swapped):
    """`make(dtype)`: the one product `left_rows^T @ right_rows` (or its transpose)."""
    def make(dtype):
      a = tensor(dtype, left[0], steps * batch, left[1])
      b = tensor(dtype, right[0], steps * batch, right[1])
      return (lambda: tf.matmul(b, a, transpose_a=True)) if swapped else (
          lambda: tf.matmul(a, b, transpose_a=True))
    return make

  out = {}
  for product, (weight, inputs, forms) in per_step.items():
    flops = steps * 2 * batch * int(np.prod(weight[1]))
    out[product] = [(form, flops, chained(weight, inputs, fn, shape))
                    for form, (fn, shape) in forms.items()]
  for product, (left, right) in once.items():
    flops = 2 * steps * batch * left[1] * right[1]
    out[product] = [(f"{left[2]}_rows^T @ {right[2]}_rows", flops, gradient(left, right, False)),
                    (f"({right[2]}_rows^T @ {left[2]}_rows)^T", flops,
                     gradient(left, right, True))]
  return out


def measure(repeats, dtypes, shapes):
  """`[(product, layout, dtype, median ms, min ms, GFLOP/s)]` for every layout and type."""
  rows = []
  for product, forms in layouts(*shapes).items():
    for form, flops, make in forms:
      for dtype in dtypes:
        fn = tf.function(make(tf.as_dtype(dtype)), autograph=False)
        median, times = common.median_time(lambda: fn().numpy(), repeats, warm_up=3)
        median, low = 1000.0 * median, 1000.0 * min(times)
        rows.append((product, form, dtype, median, low, flops / median / 1e6))
        print(f"{product:32s} {form:30s} {dtype:9s} {median:8.2f} ms  (min {low:7.2f})  "
              f"{flops / median / 1e6:6.0f} GFLOP/s", flush=True)
  return rows


def fastest_sums(rows, dtypes):
  """`{dtype: ms}`: the fastest layout's median of each product, added up."""
  sums = {}
  for dtype in dtypes:
    best = {}
    for product, _, d, median, _, _ in rows:
      if d == dtype:
        best[product] = min(best.get(product, np.inf), median)
    sums[dtype] = float(sum(best.values()))
  return sums


def peak_rates(repeats, dtypes, size):
  """`{dtype: (median ms, GFLOP/s)}` of one `[size, size] @ [size, size]` product."""
  rates = {}
  for dtype in dtypes:
    rng = np.random.default_rng(7)
    a, b = (tf.constant(rng.random((size, size), dtype=np.float32) - 0.5, tf.as_dtype(dtype))
            for _ in range(2))
    fn = tf.function(lambda a=a, b=b: tf.matmul(a, b), autograph=False)
    median, _ = common.median_time(lambda: fn().numpy(), repeats, warm_up=3)
    rates[dtype] = (1000.0 * median, 2.0 * size ** 3 / median / 1e9)
    print(f"square product {size}^3 {dtype:9s} {1000.0 * median:8.2f} ms  "
          f"{rates[dtype][1]:6.0f} GFLOP/s", flush=True)
  return rates


def step_flops(shapes):
  """FLOPs of the six products of one training step (each product's layouts count once)."""
  return sum(forms[0][1] for forms in layouts(*shapes).values())


def main(argv=None):
  parser = common.timing_parser(__doc__.splitlines()[0], SECTION)
  parser.add_argument("--peak_size", type=int, default=2048,
                      help="side of the square product that measures the machine's rate")
  args, dtypes = common.parse_timing_args(parser, argv)
  if args.peak_size < 1:
    parser.error(f"--peak_size must be a positive integer, got {args.peak_size}")
  config = model_lib.get_config("baseline")
  shapes = (config.batch_size, config.num_cells, 4 * config.enc_units, config.dec_units,
            config.num_steps)
  rows = measure(args.repeats, dtypes, shapes)
  sums = fastest_sums(rows, dtypes)
  summary = "; ".join(f"{d} {ms:.0f} ms" for d, ms in sums.items())
  print(f"fastest layout of each product, added up: {summary}")
  rates = peak_rates(args.repeats, dtypes, args.peak_size)
  flops = step_flops(shapes)
  floor = "; ".join(f"{d} {flops / (g * 1e9) * 1000.0:.0f} ms (at {g:.0f} GFLOP/s)"
                    for d, (_, g) in rates.items())
  print(f"the six products of a step ({flops / 1e9:.1f} GFLOP) at the square product's rate: "
        f"{floor}")
  if args.out:
    lines = common.section_head(args.section, "benchmarks.bench_matmul_layouts", argv,
                                f"TensorFlow {tf.__version__}") + [
        "The matrix products of one baseline training step, each timed alone as its own "
        "`tf.function` (23 chained per-step products, or the one weight-gradient product "
        f"of a batch), median and min of {args.repeats} calls; GFLOP/s of the median. "
        "Layouts that read a transposed weight are timed without making it.", "",
        "| product | layout | type | median ms | min ms | GFLOP/s |",
        "|---|---|---|---|---|---|"]
    lines += [f"| {p} | `{f}` | {d} | {m:.1f} | {lo:.1f} | {g:.0f} |"
              for p, f, d, m, lo, g in rows]
    lines += ["", f"The fastest layout of each product, added up: {summary} a step (matmuls "
              "alone, without the small LSTM products).", "",
              f"This machine's rate on one `[{args.peak_size}, {args.peak_size}]` square "
              "product (median of "
              f"{args.repeats} calls): "
              + "; ".join(f"{d} {ms:.1f} ms, {g:.0f} GFLOP/s" for d, (ms, g) in rates.items())
              + f". The six products of a step ({flops / 1e9:.1f} GFLOP) at that rate: "
              f"{floor}. A floor for the step's products here: each would have to run as "
              "fast as that large square product, which none of them does alone in any "
              "layout (GFLOP/s column)."]
    common.write_section(args.out, lines + [""])


if __name__ == "__main__":
  main()
