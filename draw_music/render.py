"""Alias: this module moved to `draw_music.listening.render`.

`python -m draw_music.render` and `from draw_music import render` keep working."""

import sys

from draw_music import cli
from draw_music.listening import render as _moved

if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(_moved.main())
else:
  sys.modules[__name__] = _moved
