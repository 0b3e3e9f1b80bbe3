r"""The element-wise parts of a training step, as TensorFlow ops and as one XLA function each.

    python -m benchmarks.bench_xla_parts [--repeats 15] [--dtypes bfloat16,float32] \
        [--out BENCHMARKS.md] [--section "## ..."]

Between its matrix products, every DRAW step of the hand-written training step
(`model._draw_core`) makes three passes of element-wise ops over `[batch, N]` arrays (37 x
13,312 for the paper's baseline):

- read (forward): `probs = sigmoid(canvas)`, `xhat = cast(x - probs)` to the compute type;
- write (forward): `canvas + cast(product) + bias`, the write product's output added to the
  canvas (in float32 the model leaves this to the product, fused by oneDNN; timed here alone
  for both types all the same);
- back (backward): `d_canvas - cast(d_xhat) * probs * (1 - probs)` (the sigmoid's gradient)
  and its copy in the compute type for the next products.

TensorFlow runs each op as its own kernel, one pass over memory each. XLA
(`tf.function(jit_compile=True)`) fuses each part into one loop. For each part and compute
type this script times the part's 23 calls, one after the other as in a step (control
dependencies, no extra ops), inside one plain `tf.function`: once as TensorFlow ops, once with
each call as an XLA function (how the step would hold it: XLA for the part, oneDNN for the
products around it). Median and min of `--repeats` calls after warm-up, calls alternating
between the two, and the largest difference between their outputs.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top

SECTION = "## Element-wise parts of a training step: TensorFlow ops against XLA"
PARTS = ("read", "write", "back")


def part_ops(part, dtype):
  """The TensorFlow ops of one `part` (see the module docstring), in compute type `dtype`."""
  if part == "read":
    def read(canvas, x):
      probs = tf.sigmoid(canvas)
      return probs, tf.cast(x - probs, dtype)
    return read
  if part == "write":
    return lambda canvas, out, bias: canvas + tf.cast(out, tf.float32) + bias
  if part == "back":
    def back(d_canvas, probs, d_xhat):
      d_canvas = d_canvas - tf.cast(d_xhat, tf.float32) * probs * (1.0 - probs)
      return d_canvas, tf.cast(d_canvas, dtype)
    return back
  raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")


def inputs(part, dtype, batch, cells, steps, seed=0):
  """`steps` argument tuples of `part`, float32 where the step has float32, else `dtype`."""
  rng = np.random.default_rng(seed)
  f32 = lambda *shape: tf.constant(rng.normal(size=shape).astype(np.float32))
  low = lambda *shape: tf.cast(f32(*shape), dtype)
  if part == "read":
    x = tf.constant((rng.random((batch, cells)) < 0.03).astype(np.float32))
    return [(f32(batch, cells), x) for _ in range(steps)]
  if part == "write":
    bias = f32(cells)
    return [(f32(batch, cells), low(batch, cells), bias) for _ in range(steps)]
  probs = lambda: tf.sigmoid(f32(batch, cells))
  return [(f32(batch, cells), probs(), low(batch, cells)) for _ in range(steps)]


def chained(fn, args):
  """A `tf.function` running `fn` on each argument tuple, each call after the previous one.

  Returns the outputs of every call, so that none can be pruned.
  """
  @tf.function(autograph=False)
  def run():
    outs, previous = [], []
    for a in args:
      with tf.control_dependencies(previous):
        out = fn(*a)
      previous = tf.nest.flatten(out)
      outs.append(out)
    return outs
  return run


def measure(repeats, dtypes, batch, cells, steps):
  """`[(part, dtype, ops median ms, ops min, XLA median ms, XLA min, max |difference|)]`."""
  rows = []
  for dtype in dtypes:
    for part in PARTS:
      ops = part_ops(part, tf.as_dtype(dtype))
      args = inputs(part, tf.as_dtype(dtype), batch, cells, steps)
      paths = {"ops": chained(ops, args),
               "xla": chained(tf.function(ops, jit_compile=True, autograph=False), args)}
      outs = {k: [np.asarray(tf.cast(t, tf.float32)) for t in tf.nest.flatten(f())]
              for k, f in paths.items()}
      diff = max(float(np.max(np.abs(a - b))) for a, b in zip(outs["ops"], outs["xla"]))
      timed = {k: (lambda fn=fn: tf.nest.map_structure(lambda t: t.numpy(), fn()))
               for k, fn in paths.items()}
      med, times = common.interleaved_medians(timed, repeats)
      low = {k: 1000.0 * min(v) for k, v in times.items()}
      rows.append((part, dtype, med["ops"], low["ops"], med["xla"], low["xla"], diff))
      print(f"{part:6s} {dtype:9s} ops {med['ops']:7.2f} ms (min {low['ops']:6.2f})  "
            f"XLA {med['xla']:7.2f} ms (min {low['xla']:6.2f})  XLA / ops "
            f"{med['xla'] / med['ops']:.2f}  max |diff| {diff:.2g}", flush=True)
  return rows


def main(argv=None):
  parser = common.timing_parser(__doc__.splitlines()[0], SECTION)
  args, dtypes = common.parse_timing_args(parser, argv)
  config = model_lib.get_config("baseline")
  rows = measure(args.repeats, dtypes, config.batch_size, config.num_cells, config.num_steps)
  if args.out:
    lines = common.section_head(args.section, "benchmarks.bench_xla_parts", argv,
                                f"TensorFlow {tf.__version__}") + [
        f"The element-wise passes of one baseline training step ({config.batch_size} x "
        f"{config.num_cells} arrays), each part's {config.num_steps} calls one after the "
        "other in one `tf.function`: as TensorFlow ops, and with each call as an XLA "
        f"function (`jit_compile=True`); median and min of {args.repeats} calls, "
        "alternating. \"max |diff|\" is the largest difference between the two paths' "
        "outputs.", "",
        "| part | type | ops median ms | ops min ms | XLA median ms | XLA min ms | "
        "XLA / ops | max \\|diff\\| |",
        "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {p} | {d} | {om:.2f} | {ol:.2f} | {xm:.2f} | {xl:.2f} | {xm / om:.2f} | "
              f"{diff:.2g} |" for p, d, om, ol, xm, xl, diff in rows]
    common.write_section(args.out, lines + [""])


if __name__ == "__main__":
  main()
