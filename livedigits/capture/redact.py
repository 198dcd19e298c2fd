"""What may be shown of a source: no credentials, and no absolute paths to strangers.

A stream URL often carries a password (``rtsp://admin:secret@cam/live``) or a token in its query
(``?token=...``). Everything the package shows or logs about a source goes through
:func:`redact_url` (the credentials become ``***``), and what the web server shows to anyone who
asks (``/api/status``, ``/healthz``, ``/events``, the kiosk banner, the picture) through
:func:`public_text`, which also turns an absolute file path into its file name.
"""

from __future__ import annotations

import os
import re

#: ``scheme://user:password@`` or ``scheme://user@`` (a token as the user name is a secret too).
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s?#]+)@")
#: Query parameters that carry secrets by their usual names.
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|user|username|token|access_token|auth|key|apikey|api_key|secret|"
    r"signature|sig|credential|credentials)=)[^&;#\s]*",
    re.IGNORECASE,
)
#: An absolute path (POSIX or Windows) not inside a URL: ``/home/me/clips/demo.mp4``, ``C:\\x\\y.mp4``.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.\-~])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"()]+[/\\])+(?P<name>[^\s/\\'\"()]*)")

MASK = "***"


def redact_url(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: m["key"] + MASK, text)


def public_text(text: str) -> str:
    """``text`` fit for an unauthenticated page or log: credentials redacted, absolute paths cut to
    their last part (``/srv/clips/demo.mp4`` -> ``demo.mp4``)."""
    text = redact_url(str(text))
    return _ABSOLUTE_PATH.sub(lambda m: m["name"] or os.sep, text)


__all__ = ["MASK", "public_text", "redact_url"]
