"""Fault injection: rules that make a sandbox misbehave the way real providers do.

A rule matches requests by method and a regex searched in the path, and fires either on the
next `count` matching requests or with a seeded `probability` on each. Kinds:

- ``status``: answer with an error status (429 with or without Retry-After, 500, 502, 503, ...);
  the twin supplies the body in its provider's own error shape.
- ``slow``: answer normally after `delay` seconds.
- ``reset``: send the headers and part of the body, then reset the connection.
- ``truncate``: send a body cut short (with a Content-Length that matches the cut), i.e. bad JSON.

Auth faults (access-token expiry after N calls, refresh-token revocation) live with the tokens,
in `oauth.py`.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field

KINDS = ("status", "slow", "reset", "truncate")


@dataclass
class Fault:
    kind: str
    path: str = ""
    method: str | None = None
    count: int | None = None
    probability: float | None = None
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    id: int = 0
    fired: int = 0
    _regex: re.Pattern = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.count is not None and self.probability is not None:
            raise ValueError("give a fault either count or probability, not both")
        if self.count is None and self.probability is None:
            self.count = 1
        if self.count is not None and self.count < 1:
            raise ValueError(f"fault count must be >= 1, got {self.count}")
        if self.probability is not None and not 0 < self.probability <= 1:
            raise ValueError(f"fault probability must be in (0, 1], got {self.probability}")
        if self.kind == "status" and not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be an HTTP error status, got {self.status}")
        if self.delay < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("fault delay and retry_after must not be negative")
        try:
            self._regex = re.compile(self.path)
        except re.error as exc:
            raise ValueError(f"fault path is not a valid regex: {self.path!r} ({exc})") from exc
        if self.method is not None:
            self.method = self.method.upper()

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("_regex")
        return data


_SPEC_FIELDS = {"kind", "path", "method", "count", "probability", "status", "retry_after", "delay"}


class FaultInjector:
    """The fault rules of one server; thread-safe; seeded so probabilistic runs repeat."""

    def __init__(self, seed: int = 0):
        self._rules: list[Fault] = []
        self._rng = random.Random(seed)
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, kind: str, **spec) -> Fault:
        """Add a rule, e.g. ``add("status", status=429, retry_after=2, path="/query", count=3)``."""
        unknown = set(spec) - _SPEC_FIELDS
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        with self._lock:
            fault = Fault(kind=kind, id=self._next_id, **spec)
            self._next_id += 1
            self._rules.append(fault)
            return fault

    def add_from_dict(self, spec: dict) -> Fault:
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError("a fault needs an object with at least a 'kind'")
        spec = dict(spec)
        return self.add(spec.pop("kind"), **spec)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [f for f in self._rules if f.id != fault_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._rules]

    def pick(self, method: str, path: str) -> Fault | None:
        """The rule that fires for this request, if any (counted rules are used up)."""
        with self._lock:
            for fault in self._rules:
                if fault.method not in (None, method) or not fault._regex.search(path):
                    continue
                if fault.probability is not None:
                    if self._rng.random() >= fault.probability:
                        continue
                else:
                    fault.count -= 1
                    if fault.count == 0:
                        self._rules.remove(fault)
                fault.fired += 1
                return fault
            return None
