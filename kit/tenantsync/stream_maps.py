"""singer-sdk stream maps, as the fast paths of tapkit's taps and target-postgres see them."""

from __future__ import annotations

from collections.abc import Sequence

from singer_sdk.mapper import SameRecordTransform, StreamMap


def passes_unchanged(maps: Sequence[StreamMap], stream: str) -> bool:
    """Whether a stream's maps hand each record on as it is: one identity map under the
    stream's own name, without flattening (no stream_maps configured for it)."""
    return (len(maps) == 1 and isinstance(maps[0], SameRecordTransform)
            and not maps[0].flattening_enabled and maps[0].stream_alias == stream)
