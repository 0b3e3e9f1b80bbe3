"""Alias: this module moved to `draw_music.metric.evaluate`.

`python -m draw_music.evaluate` and `from draw_music import evaluate` keep working."""

import sys

from draw_music.metric import evaluate as _moved

if __name__ == "__main__":
  sys.exit(_moved.main())
else:
  sys.modules[__name__] = _moved
