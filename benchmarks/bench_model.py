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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top


def _time(fn, repeats, warmup=3):
  """Median, min and max ms of `repeats` calls of `fn` after `warmup` calls."""
  median, times = common.median_time(fn, repeats, warm_up=warmup)
  return 1000.0 * median, 1000.0 * min(times), 1000.0 * max(times)


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


def compare_bf16_after_training(corpus_dir, steps, seed=0, eval_batches=10):
  """Trains float32 and bfloat16 baselines alike, then evaluates both losses in float32.

  Both runs start from the same weights (same seed), see the same batches and noise, and
  train `steps` steps on the corpus's 104-step chunks; each final model is then evaluated
  with float32 maths on `eval_batches` shuffled batches with fixed noise.

  Returns:
    dict: `float32`, `bfloat16` (mean evaluation loss) and `relative_difference`.
  """
  import tempfile  # pylint: disable=g-import-not-at-top
  from draw_music.corpora import corpus as corpus_lib  # pylint: disable=g-import-not-at-top
  from draw_music.writer import pipeline  # pylint: disable=g-import-not-at-top
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top
  base = model_lib.get_config("baseline")
  chunks, piece_index = corpus_lib.corpus_chunks(corpus_lib.load_corpus(corpus_dir).rolls,
                                                 base.chunk_steps)
  batches = list(pipeline.make_dataset(chunks, piece_index, base.batch_size, "shuffled",
                                       seed=seed + 1, repeat=False).take(eval_batches))
  rng = np.random.default_rng(seed + 2)
  eps = [tf.constant(rng.standard_normal((len(b), base.num_steps, base.latent_dim)),
                     tf.float32) for b in batches]
  out = {}
  for dtype in ("float32", "bfloat16"):
    with tempfile.TemporaryDirectory() as folder:
      train.train(dataclasses.replace(base, compute_dtype=dtype), chunks, piece_index, folder,
                  train.TrainConfig(max_steps=steps, seed=seed, verbose=False,
                                    checkpoint_every=steps))
      trained, _ = train.load_trained(folder)
      evaluator = model_lib.DrawModel(base)
      evaluator.build()
      evaluator.set_weights(trained.get_weights())
      out[dtype] = float(np.mean([evaluator.losses_for(b, e)["loss"].numpy()
                                  for b, e in zip(batches, eps)]))
  out["relative_difference"] = abs(out["bfloat16"] - out["float32"]) / out["float32"]
  return out


SECTION = "## DRAW model: training step and generation"


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--config", default="baseline")
  parser.add_argument("--repeats", type=int, default=20)
  parser.add_argument("--no_bf16", action="store_true")
  parser.add_argument("--no_xla", action="store_true",
                      help="skip the XLA-compiled (jit_compile=True) training steps")
  parser.add_argument("--compare_steps", type=int, default=0,
                      help="also train float32 and bfloat16 this many steps on --corpus and "
                      "compare their losses (0: skip)")
  parser.add_argument("--corpus", default="../shared/data/beethoven_piano")
  parser.add_argument("--tolerance", type=float, default=0.02,
                      help="largest accepted relative loss difference, bf16 vs float32")
  parser.add_argument("--out", default="BENCHMARKS.md", help="Markdown file for the results "
                      "('' to only print them)")
  args = parser.parse_args()
  config = model_lib.get_config(args.config)
  header = (f"config {args.config}: batch {config.batch_size} x {config.chunk_steps} x "
            f"{config.num_pitches}, {config.num_steps} steps, {config.enc_units}/"
            f"{config.dec_units} units, #z {config.latent_dim}; median of {args.repeats} "
            "after 3 warm-up calls")
  print(header)
  dtypes = ["float32"] + ([] if args.no_bf16 else ["bfloat16"])
  runs = []
  for dtype in dtypes:
    cfg = dataclasses.replace(config, compute_dtype=dtype)
    runs.append((f"train step, {dtype} matmuls, no XLA", cfg, False))
    if not args.no_xla:
      runs.append((f"train step, {dtype} matmuls, XLA", cfg, True))
  rows = []
  for label, cfg, jit in runs:
    median, low, high = bench_train_step(cfg, jit, args.repeats)
    rows.append((label, median, low, high))
    print(f"{label:42s} {median:8.1f} ms  (min {low:.1f}, max {high:.1f})")
  median, low, high = bench_sample(config, 100, args.repeats)
  rows.append(("sample 100 pieces, all canvases", median, low, high))
  print(f"{rows[-1][0]:42s} {median:8.1f} ms  (min {low:.1f}, max {high:.1f})")
  comparison = None
  if args.compare_steps:
    comparison = compare_bf16_after_training(args.corpus, args.compare_steps)
    print(f"after {args.compare_steps} steps: float32 loss {comparison['float32']:.2f}, "
          f"bfloat16 {comparison['bfloat16']:.2f} (relative difference "
          f"{comparison['relative_difference']:.4f}, tolerance {args.tolerance})")
  if args.out:
    lines = common.section_head(SECTION, "benchmarks.bench_model", None,
                                f"TensorFlow {tf.__version__}") + [
        header + ".", "Goals: a training step at or under 260 ms; 100 generated pieces (all "
        "canvases) under 50 ms.", "", "| what | median ms | min ms | max ms |",
        "|---|---|---|---|"]
    lines += [f"| {label} | {m:.1f} | {lo:.1f} | {hi:.1f} |" for label, m, lo, hi in rows]
    if comparison:
      ok = comparison["relative_difference"] <= args.tolerance
      lines += ["", f"bfloat16 against float32 after training: both trained "
                f"{args.compare_steps} steps from the same weights on `{args.corpus}` (same "
                "batches and noise), then evaluated in float32 on 10 shuffled batches with "
                f"fixed noise: float32 loss {comparison['float32']:.2f}, bfloat16 "
                f"{comparison['bfloat16']:.2f}, relative difference "
                f"{comparison['relative_difference']:.4f} (tolerance {args.tolerance}: "
                f"{'met' if ok else 'NOT met'})."]
    common.write_section(args.out, lines + [""])


if __name__ == "__main__":
  main()
