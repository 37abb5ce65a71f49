"""Incremental reads as data: where the watermark's lower bound goes (a query parameter or a
place in the JSON body), how it is written, whether the provider's filter is inclusive, and the
sort that makes per-page bookmarks safe.

The engine always wants an inclusive bound (tapkit resumes at `>=` the bookmark). A strict
filter (`>`) gets the bookmark floored to the format's resolution minus one unit, and a coarse
format (whole seconds, dates) the floored bookmark: records just before the bookmark are read
again, which is harmless; none is ever skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from tenantsync.tapkit.common import parse_timestamp
from tenantsync.tapkit.rest.paging import Call, put


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# name -> (writer, resolution)
FORMATS: dict[str, tuple[Callable[[datetime], Any], timedelta]] = {
    "iso": (_iso, timedelta(seconds=1)),
    "iso_ms": (_iso_ms, timedelta(milliseconds=1)),
    "space": (lambda m: m.strftime("%Y-%m-%d %H:%M:%S"), timedelta(seconds=1)),
    "epoch_s": (lambda m: int(m.timestamp()), timedelta(seconds=1)),
    "epoch_ms": (lambda m: int(m.timestamp() * 1000), timedelta(milliseconds=1)),
    # epoch seconds of the day's start (searches that compare timestamps as dates: Intercom)
    "epoch_day": (lambda m: int(m.timestamp()), timedelta(days=1)),
    "date": (lambda m: m.strftime("%Y-%m-%d"), timedelta(days=1)),
}


def floor_to(moment: datetime, resolution: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % resolution


@dataclass(frozen=True)
class Incremental:
    """`field`: the record's watermark (the stream's replication key). The bound goes in
    query parameter `param`, or at `body_path` of the JSON body. `sort`: query parameters that
    order the listing ascending by `field`; `sorted=False` where the API cannot sort by it (the
    engine then emits records as read and moves the bookmark at the end of the pass). `template`:
    the parameter's text around the bound (OData: `"modifiedon gt {}"` in `$filter`).
    `body_template`: with `body_path`, the JSON value put there, every `"{}"` in it replaced by
    the bound (a search query naming the bound twice: Intercom's `> S OR = S`)."""

    field: str
    param: str | None = None
    body_path: Sequence[str] | None = None
    format: str = "iso"
    inclusive: bool = True
    sort: Mapping[str, Any] = field(default_factory=dict)
    sorted: bool = True
    template: str = "{}"
    body_template: Any = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"incremental format {self.format!r} not one of {sorted(FORMATS)}")
        if (self.param is None) == (self.body_path is None):
            raise ValueError(f"incremental on {self.field!r}: give exactly one of param and "
                             "body_path")

    def bound(self, since: Any) -> Any:
        """The filter value that returns every record with watermark >= `since`."""
        write, resolution = FORMATS[self.format]
        moment = floor_to(parse_timestamp(since), resolution)
        if not self.inclusive:
            moment -= resolution
        return write(moment)

    def apply(self, call: Call, since: Any) -> Call:
        """`call` sorted by the watermark and, if `since` is given, filtered from it."""
        call = call.with_params(**self.sort)
        if since is None:
            return call
        value = self.bound(since)
        if self.param is not None:
            if self.template != "{}":  # a value in an expression (else kept as typed)
                value = self.template.format(value)
            return call.with_params(**{self.param: value})
        if self.body_template is not None:
            value = _fill(self.body_template, value)
        return replace(call, json=put(call.json or {}, tuple(self.body_path), value))


def _fill(template: Any, value: Any) -> Any:
    """`template` with every `"{}"` string replaced by `value`."""
    if template == "{}":
        return value
    if isinstance(template, Mapping):
        return {k: _fill(v, value) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, value) for v in template]
    return template
