"""Alias: this module moved to `draw_music.corpora.corpus`.

`from draw_music import corpus` keeps working."""

import sys

from draw_music.corpora import corpus as _moved

sys.modules[__name__] = _moved
