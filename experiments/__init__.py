"""The paper's experiments, `python -m experiments.NAME` (absl flags)."""

import sys

if sys.argv[:1] == ["-m"]:  # run as `python -m experiments.NAME`: before TensorFlow loads
  from draw_music import cli  # pylint: disable=g-import-not-at-top
  cli.quiet_startup()
