r"""Composer separation: every pair of corpora, and every corpus against halves of itself.

    python -m experiments.composer_separation \
        --corpora ../shared/data/beethoven_piano,../shared/data/other,../shared/data/jazz \
        --bundled bach:60 --out_dir out/composer_separation

Each corpus is a folder of MIDI files (one file, one piece); `--bundled NAME[:LIMIT]` adds a
music21 corpus converted by `draw_music.corpora.bundled` (the first LIMIT works). Every pair is
judged by the piece-level permutation test on the `--feature_set` signature (default
`extended`), and so is a random halving of each corpus; `--false_alarm_halvings N` adds the
false-alarm rate over N halvings of each corpus. Writes under --out_dir:
composer_separation.json (run info with command, config and seed; every judgement with its
KS and relative view; the feature-separation table), composer_separation.csv (one row per
pair and halving) and composer_separation.png (the matrix). The protocol is in
`draw_music.metric.composer_separation`.
"""

import os
import time

from absl import app
from absl import flags

from draw_music import plotting
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import composer_separation
from draw_music.metric import features
from draw_music.metric import set_measures
from experiments import common

_CORPORA = flags.DEFINE_list("corpora", [], "corpus folders, comma separated")
_BUNDLED = flags.DEFINE_list("bundled", [], "bundled music21 corpora, NAME or NAME:LIMIT "
                             "(first LIMIT works), comma separated")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/composer_separation", "output folder")
_CHUNK_STEPS = flags.DEFINE_integer("chunk_steps", corpus_lib.DEFAULT_CHUNK_STEPS,
                                    "chunk length in steps", lower_bound=1)
_FEATURE_SET = flags.DEFINE_enum("feature_set", composer_separation.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_NUM_PERMUTATIONS = flags.DEFINE_integer(
    "num_permutations", composer_separation.DEFAULT_NUM_PERMUTATIONS,
    "permutations of each pair's and halving's test", lower_bound=1)
_FALSE_ALARM_HALVINGS = flags.DEFINE_integer(
    "false_alarm_halvings", 0, "halvings of each corpus for the false-alarm rate (0: none)",
    lower_bound=0)
_FALSE_ALARM_PERMUTATIONS = flags.DEFINE_integer(
    "false_alarm_permutations", 200, "permutations of each false-alarm halving's test",
    lower_bound=1)
_ALPHA = flags.DEFINE_float("alpha", set_measures.DEFAULT_ALPHA, "significance level",
                            lower_bound=0.0, upper_bound=1.0)
_SEED = flags.DEFINE_integer("seed", 0, "seed of every halving and permutation")


def _bundled_folder(item):
  """The folder of a `--bundled` item `NAME` or `NAME:LIMIT`, converted on first use."""
  from draw_music.corpora import bundled  # pylint: disable=g-import-not-at-top  (music21 is slow)
  name, _, limit = item.partition(":")
  try:
    limit = int(limit) if limit else None
    return f"{name}" + (f"-first{limit}" if limit else ""), bundled.bundled_corpus_dir(
        name, limit, verbose=False)
  except ValueError as e:
    raise app.UsageError(f"--bundled {item!r}: {e}") from e


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  if not 0 < _ALPHA.value < 1:
    raise app.UsageError(f"--alpha must be in (0, 1), got {_ALPHA.value}")
  start = time.perf_counter()
  folders = [(common.set_name(folder), folder) for folder in _CORPORA.value]
  for item in _BUNDLED.value:
    common.stage(f"bundled corpus {item}")
    folders.append(_bundled_folder(item))
  names = [name for name, _ in folders]
  if len(set(names)) != len(names):
    raise app.UsageError(f"two corpora share a name: {names}")
  if len(folders) < 2:
    raise app.UsageError("need at least two corpora (--corpora and --bundled together)")
  corpora = {}
  for name, folder in folders:
    common.stage(f"loading {folder}")
    try:
      corpora[name] = common.load_named_corpus(str(folder), "corpora").rolls
    except flags.ValidationError as e:
      raise app.UsageError(str(e)) from e
  config = {"corpora": [str(f) for _, f in folders], "bundled": _BUNDLED.value,
            "chunk_steps": _CHUNK_STEPS.value, "feature_set": _FEATURE_SET.value,
            "num_permutations": _NUM_PERMUTATIONS.value, "alpha": _ALPHA.value,
            "false_alarm_halvings": _FALSE_ALARM_HALVINGS.value,
            "false_alarm_permutations": _FALSE_ALARM_PERMUTATIONS.value}
  try:
    out = composer_separation.composer_separation(
        corpora, _CHUNK_STEPS.value, _FEATURE_SET.value, _NUM_PERMUTATIONS.value,
        _SEED.value, _ALPHA.value, _FALSE_ALARM_HALVINGS.value,
        _FALSE_ALARM_PERMUTATIONS.value, progress=common.stage)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  seconds = time.perf_counter() - start

  common.stage(f"writing results to {_OUT_DIR.value}")
  rows = composer_separation.summary_rows(out)
  results.write_csv(os.path.join(_OUT_DIR.value, "composer_separation.csv"), rows)
  results.write_json(os.path.join(_OUT_DIR.value, "composer_separation.json"),
                     {"run": results.run_info(config, _SEED.value), "seconds": seconds, **out})
  names, p_values, verdicts = composer_separation.verdict_matrix(out)
  fig = plotting.plot_composer_matrix(
      names, p_values, verdicts, os.path.join(_OUT_DIR.value, "composer_separation.png"),
      title=f"Piece-level permutation test, {_FEATURE_SET.value} features "
            f"({_NUM_PERMUTATIONS.value} permutations)", alpha=_ALPHA.value,
      num_permutations=_NUM_PERMUTATIONS.value)
  plotting.plt.close(fig)
  for r in rows:
    print(f"{r['a']:>16} vs {r['b']:<16} {r['kind']:<8} p {r['p_value']:.3g} (Fréchet p "
          f"{r['frechet_p_value']:.3g}), Fréchet {r['frechet']:7.2f} -> {r['verdict']:<9} "
          f"[{r['top_features']}]")
  for name, fa in out["false_alarms"].items():
    print(f"false alarms, {name}: MMD {100 * fa['mmd_rate']:.1f}%, Fréchet "
          f"{100 * fa['frechet_rate']:.1f}% of {fa['num_halvings']} halvings with p < "
          f"{_ALPHA.value}")
  print(f"{seconds:.1f} s (loading, signatures and tests; not writing)")


if __name__ == "__main__":
  common.run(main)
