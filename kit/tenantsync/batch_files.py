"""Where a Singer BATCH file is: tenantsync's taps write, and its target reads, local files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse


def local_path(url: str) -> Path:
    """The path an absolute `file://` URL, or an absolute path, names; ValueError otherwise."""
    if url.startswith("/"):
        return Path(url)
    parsed = urlparse(url)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost") \
            and parsed.path.startswith("/"):
        return Path(unquote(parsed.path))
    raise ValueError(f"only local batch files (an absolute path or file:// URL) are supported, "
                     f"not {url!r}")


def gzipped(encoding: Mapping) -> bool:
    """Whether a batch `encoding` is gzip JSON Lines (else plain); ValueError for any other."""
    fmt, compression = encoding.get("format"), encoding.get("compression") or "none"
    if fmt != "jsonl" or compression not in ("none", "gzip"):
        raise ValueError(f"only jsonl files with compression 'none' or 'gzip' are supported, "
                         f"not format {fmt!r}, compression {compression!r}")
    return compression == "gzip"
