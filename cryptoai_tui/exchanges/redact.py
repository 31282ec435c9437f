"""Keep credentials out of every sentence a user, a log or a screen sees.

`--rest-url http://user:password@host` is legal and sometimes needed (a proxy); the password
must still never be printed. Every message that names a URL goes through `mask_url`, and
free text that may quote one (an exception's str, a server's error body) through
`mask_secrets`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# scheme://user:secret@ or scheme://token@ inside any text
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s:@]*)(?::[^/\s@]*)?@")


def mask_url(url: str) -> str:
    """`url` with any password (or a lone token in the user part) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_secrets(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    masked = f"{user}:{MASK}" if has_password else MASK
    return urlunsplit((parts.scheme, f"{masked}@{host}", parts.path, parts.query, parts.fragment))


def mask_secrets(text: str) -> str:
    """`text` with the credentials of every URL in it masked."""

    def masked(match: re.Match[str]) -> str:
        user = match.group("user")
        whole = match.group(0)
        if ":" in whole[len(match.group("scheme")):]:
            return f"{match.group('scheme')}{user}:{MASK}@"
        return f"{match.group('scheme')}{MASK}@"

    return _USERINFO.sub(masked, text)
