"""Alias: this module moved to `draw_music.writer.interpolate`.

`python -m draw_music.interpolate` and `from draw_music import interpolate` keep working."""

import sys

from draw_music import cli
from draw_music.writer import interpolate as _moved

if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(_moved.main())
else:
  sys.modules[__name__] = _moved
