"""Alias: this module moved to `draw_music.metric.measure`.

`from draw_music import measure` keeps working."""

import sys

from draw_music.metric import measure as _moved

sys.modules[__name__] = _moved
