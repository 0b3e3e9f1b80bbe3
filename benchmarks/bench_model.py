"""Times the DRAW model: one training step, and generating 100 pieces.

Run: `python -m benchmarks.bench_model [--repeats 20] [--config baseline] [--no_bf16]
[--no_xla]`. Prints the median (and min, max) wall time in ms over `repeats` calls after
warm-up, for: a training step (`train_on_batch`, batch `config.batch_size`) with and without
XLA, with float32 and bfloat16 big matmuls, and `model.sample(100)` (every step's canvas,
brought to host memory). Timings on a shared machine are noisy: the min shows the
uncontended speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from draw_music import model as model_lib  # pylint: disable=g-import-not-at-top


def _time(fn, repeats, warmup=3):
  for _ in range(warmup):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  times = 1000.0 * np.asarray(times)
  return float(np.median(times)), float(times.min()), float(times.max())


def bench_train_step(config, jit_compile, repeats, seed=0):
  """Median, min, max ms of one `train_on_batch` on a random batch."""
  model = model_lib.create_model(config, seed=seed, jit_compile=jit_compile)
  rng = np.random.default_rng(seed)
  x = (rng.random((config.batch_size, config.chunk_steps, config.num_pitches)) < 0.05)
  x = tf.constant(x.astype(np.float32))
  return _time(lambda: model.train_on_batch(x, return_dict=True)["loss"], repeats)


def bench_sample(config, n, repeats, seed=0):
  """Median, min, max ms of `model.sample(n)` (the result brought to host memory)."""
  model = model_lib.DrawModel(config, seed=seed)
  model.build()
  return _time(lambda: model.sample(n, seed=seed).numpy(), repeats)


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--config", default="baseline")
  parser.add_argument("--repeats", type=int, default=20)
  parser.add_argument("--no_bf16", action="store_true")
  parser.add_argument("--no_xla", action="store_true",
                      help="skip the XLA-compiled (jit_compile=True) training steps")
  args = parser.parse_args()
  config = model_lib.get_config(args.config)
  print(f"config {args.config}: batch {config.batch_size} x {config.chunk_steps} x "
        f"{config.num_pitches}, {config.num_steps} steps, {config.enc_units}/"
        f"{config.dec_units} units, #z {config.latent_dim}; {os.cpu_count()} CPU cores; "
        f"median of {args.repeats} after warm-up")
  dtypes = ["float32"] + ([] if args.no_bf16 else ["bfloat16"])
  runs = []
  for dtype in dtypes:
    cfg = dataclasses.replace(config, compute_dtype=dtype)
    runs.append((f"train step {dtype} matmuls, no XLA", cfg, False))
    if not args.no_xla:
      runs.append((f"train step {dtype} matmuls, XLA", cfg, True))
  for label, cfg, jit in runs:
    median, low, high = bench_train_step(cfg, jit, args.repeats)
    print(f"{label:40s} {median:8.1f} ms  (min {low:.1f}, max {high:.1f})")
  median, low, high = bench_sample(config, 100, args.repeats)
  print(f"{'sample 100 pieces, all canvases':40s} {median:8.1f} ms  (min {low:.1f}, "
        f"max {high:.1f})")


if __name__ == "__main__":
  main()
