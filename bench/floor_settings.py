"""Tairyo's production settings with one more URL: the intake's floor (bench/floor_urls.py).

bench/intake.py serves it from a second gunicorn, never from the server it measures.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
