"""gunicorn's access log without webhook tokens.

Mackerel authenticates to the intake with a token in the URL (``/hooks/mackerel/<token>/``), so
the default access log wrote every organization's secret into every log line, and from there
into log shippers and support tickets. This logger writes the path with the token masked; run
gunicorn with ``--logger-class portal.gunicorn_logging.MaskedTokenLogger`` (docker-compose does).
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

TOKEN_IN_PATH = re.compile(r"(/hooks/mackerel/)[^/?#\s]+")
MASK = r"\1********"
# The atoms that carry the path: the request line, the path, and the raw URI.
PATH_ATOMS = ("r", "U", "{raw_uri}e", "{path_info}e", "{request_uri}e")


def mask(text: str) -> str:
    return TOKEN_IN_PATH.sub(MASK, text)


class MaskedTokenLogger(Logger):  # type: ignore[misc]  # gunicorn ships no types
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in PATH_ATOMS:
            value = atoms.get(key)
            if isinstance(value, str):
                atoms[key] = mask(value)
        return atoms
