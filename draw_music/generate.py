"""Generate pieces from a trained model: MIDI, piano-roll pictures, and their scores.

    python -m draw_music.generate --checkpoint TRAINING_DIR --n 10 [--alpha 0.25]
        [--seed 0] [--out_dir D]

`TRAINING_DIR` is the `--out_dir` of a training run (`config.json`, `weights/` and
`checkpoints/`; the newest that reads is used, a damaged one is skipped with a line). Each
piece is the model's last canvas, min-max normalised and thresholded at `alpha` (the
paper's post-processing, `postprocess.binarize`), written as `piece_XXX.mid` (one piano track,
120 bpm) and `piece_XXX.png` (its piano roll). `pieces.json` lists them with the seed.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

from draw_music import cli
from draw_music import midi_io
from draw_music import plotting
from draw_music import postprocess
from draw_music import results


def generate_rolls(model, n, alpha, seed):
  """`n` pieces from `model`: every step's canvas, and the binarised last canvas.

  Returns:
    `(canvases, rolls)`: `[n, num_steps, chunk_steps, 128]` float32 canvases and
    `[n, chunk_steps, 128]` bool pieces.
  """
  canvases = np.asarray(model.sample(n, seed=seed))
  return canvases, np.asarray(postprocess.binarize(canvases[:, -1], alpha))


def write_pieces(rolls, out_dir, prefix="piece", pictures=True, tempo_bpm=120.0):
  """Writes each `[time, 128]` roll as MIDI (and a piano-roll PNG); returns the MIDI paths."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  paths = []
  for i, roll in enumerate(rolls):
    stem = out_dir / f"{prefix}_{i:03d}"
    paths.append(midi_io.write_midi(roll, f"{stem}.mid", tempo_bpm=tempo_bpm))
    if pictures:
      fig = plotting.plot_piano_roll(roll, f"{stem}.png", title=stem.name)
      plotting.plt.close(fig)
  return paths


def _parser():
  parser = cli.ArgumentParser(prog="python -m draw_music.generate",
                                   description="Generate MIDI pieces from a trained model.")
  parser.add_argument("--checkpoint", required=True,
                      help="training folder (the --out_dir of train_baseline)")
  parser.add_argument("--n", type=int, default=10, help="number of pieces")
  parser.add_argument("--alpha", type=float, default=None,
                      help="threshold after min-max normalisation (default: the config's)")
  parser.add_argument("--seed", type=int, default=0, help="seed of the latent draws")
  parser.add_argument("--out_dir", default="out/generated", help="output folder")
  parser.add_argument("--verbose", action="store_true",
                      help="show TensorFlow's start-up and log lines")
  return parser


def main(argv=None):
  args = _parser().parse_args(argv)
  if args.n < 1:
    return cli.fail(f"--n must be a positive integer, got {args.n}")
  if args.alpha is not None and not 0 <= args.alpha <= 1:
    return cli.fail(f"--alpha must be in [0, 1], got {args.alpha}")
  from draw_music import train  # pylint: disable=g-import-not-at-top  (loads TensorFlow)
  try:
    model, step = train.load_trained(args.checkpoint)
  except (OSError, ValueError) as e:  # no folder, no config.json, no readable checkpoint
    return cli.fail(f"--checkpoint: {e}")
  alpha = model.config.alpha if args.alpha is None else args.alpha
  _, rolls = generate_rolls(model, args.n, alpha, args.seed)
  paths = write_pieces(rolls, args.out_dir)
  results.write_json(pathlib.Path(args.out_dir) / "pieces.json", {
      "run": results.run_info({"checkpoint": args.checkpoint, "step": step, "n": args.n,
                               "alpha": alpha}, args.seed),
      "pieces": [str(p) for p in paths],
      "active_cells": [int(r.sum()) for r in rolls],
  })
  print(f"wrote {len(paths)} pieces (MIDI + PNG) to {args.out_dir} from {args.checkpoint} "
        f"(step {step}, alpha {alpha}, seed {args.seed})")
  return 0


if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(main())
