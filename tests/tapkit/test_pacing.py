from __future__ import annotations

import pytest
import requests

from tenantsync.tapkit.errors import StopSync
from tenantsync.tapkit.pacing import QuotaGuard, RateWindow


def response(headers):
    r = requests.Response()
    r.status_code = 200
    r.headers.update(headers)
    return r


def usage(headers):
    used, _, limit = (headers.get("X-Usage") or "/").partition("/")
    return (int(used), int(limit)) if used else None


def test_quota_guard_stops_before_the_call_that_would_pass_the_limit():
    guard = QuotaGuard(50, usage, "Acme")
    guard.before_request()  # nothing known yet
    guard.after_response(response({"X-Usage": "49/100"}))
    guard.before_request()
    guard.after_response(response({}))  # a response without the header changes nothing
    guard.before_request()
    guard.after_response(response({"X-Usage": "50/100"}))
    with pytest.raises(StopSync, match=r"50/100 \(50.0%\).*quota_max_percent=50"):
        guard.before_request()


def test_quota_guard_rejects_nonsense_percentages():
    for bad in (0, -1, 101):
        with pytest.raises(ValueError, match="quota_max_percent"):
            QuotaGuard(bad, usage)


def test_rate_window_waits_for_the_oldest_request_to_leave_the_window():
    now, slept = [0.0], []

    def sleep(s):
        slept.append(s)
        now[0] += s

    window = RateWindow(3, 10, clock=lambda: now[0], sleep=sleep)
    for t in (0, 1, 2):
        now[0] = t
        window.before_request()
    assert slept == []
    now[0] = 4
    window.before_request()  # 4th within 10 s of the 1st: wait until t=10
    assert slept == [6]
    now[0] = 30
    window.before_request()
    assert slept == [6]
