"""Alias: this module moved to `draw_music.writer.generate`.

`python -m draw_music.generate` and `from draw_music import generate` keep working."""

import sys

from draw_music import cli
from draw_music.writer import generate as _moved

if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(_moved.main())
else:
  sys.modules[__name__] = _moved
