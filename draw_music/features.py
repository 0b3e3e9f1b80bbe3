"""Alias: this module moved to `draw_music.metric.features`.

`from draw_music import features` keeps working."""

import sys

from draw_music.metric import features as _moved

sys.modules[__name__] = _moved
