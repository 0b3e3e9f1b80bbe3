r"""Fit a trained model's latent prior to its training corpus, and sample from it.

    python -m draw_music.writer.fit_prior --checkpoint out/writer_beethoven \
        --corpus ../shared/data/beethoven_piano

A run trained with `--prior fitted` fits its prior when it ends; this fits one for any
training folder (one trained before, or with `--prior standard`): the Gaussian of
`latent.fit_prior` over the codes the encoder gives the corpus's chunks, for the weights
`generate` reads (`--weights`). It is kept under the folder's `latent_prior/` and the
folder's config is set to sample from it (`prior='fitted'`); `generate --prior standard`
still samples from N(0, I). Fit it to the corpus the model was trained on: the prior is a
description of where the encoder puts that corpus.
"""

from __future__ import annotations

import json
import pathlib
import sys

from draw_music import cli


def _parser():
  parser = cli.ArgumentParser(prog="python -m draw_music.writer.fit_prior",
                              description="Fit a trained model's latent prior to its "
                                          "training corpus.")
  parser.add_argument("--checkpoint", required=True,
                      help="training folder (the --out_dir of train_baseline)")
  parser.add_argument("--corpus", default="",
                      help="the model's training corpus folder (default: the bundled "
                           "corpus train_baseline trains on without --corpus)")
  parser.add_argument("--weights", default="selected", choices=("selected", "last"),
                      help="the weights to fit it for, as generate's --weights")
  parser.add_argument("--seed", type=int, default=0, help="seed of the posterior draws")
  parser.add_argument("--verbose", action="store_true",
                      help="show TensorFlow's start-up and log lines")
  return parser


def main(argv=None):
  args = _parser().parse_args(argv)
  from draw_music.corpora import corpus as corpus_lib  # pylint: disable=g-import-not-at-top
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top  (TensorFlow)
  try:
    model, step = train.load_trained(args.checkpoint, choice=args.weights, with_prior=False)
  except (OSError, ValueError) as e:
    return cli.fail(f"--checkpoint: {e}")
  if model.config.holdout:
    return cli.fail(f"--checkpoint: {args.checkpoint} chooses its checkpoint on held-out "
                    "pieces, scored with N(0, I) draws; a fitted prior is not for it")
  folder = args.corpus
  if not folder:
    from draw_music.corpora import bundled  # pylint: disable=g-import-not-at-top
    folder = str(bundled.bundled_corpus_dir("beethoven"))
  try:
    corpus = corpus_lib.load_corpus(folder)
  except (FileNotFoundError, NotADirectoryError) as e:
    return cli.fail(f"--corpus: {e}")
  if corpus.skipped:
    print(corpus.skipped_report(), file=sys.stderr)
  chunks, _ = corpus_lib.corpus_chunks(corpus.rolls, model.config.chunk_steps)
  if len(chunks) < 2:
    return cli.fail(f"--corpus: {folder} gives {len(chunks)} chunks of "
                    f"{model.config.chunk_steps} steps; fitting needs at least 2")
  print(f"fitting the latent prior of step {step} to {len(chunks)} chunks of {folder}",
        flush=True)
  path = train.write_latent_prior(args.checkpoint, model, step, chunks, args.seed,
                                  overwrite=True)
  config_path = pathlib.Path(args.checkpoint) / "config.json"
  record = json.loads(config_path.read_text())
  record["model"]["prior"] = "fitted"
  config_path.write_text(json.dumps(record, indent=1) + "\n")
  print(f"wrote {path}; {config_path} now samples from it (prior='fitted')")
  return 0


if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(main())
