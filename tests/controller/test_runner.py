# ruff: noqa: E501  (verbatim Meltano log lines)
"""What `tenantsync run` reads from Meltano's log: counts, strategies, sweeps, errors."""

from __future__ import annotations

from tenantsync.controller.runner import Progress, prune_logs, run_log

LOG = """\
2026-11-21T12:37:42.961447Z [info     ] meltano      Performing full refresh, ignoring state
2026-11-21T12:37:44.740239Z [info     ] tap-salesforce--app Stream Account: full sync (no bookmark yet: initial full sync), version 1795264664740
2026-11-21T12:37:44.751707Z [info     ] tap-salesforce--app METRIC: {"type":"counter","metric":"record_count","value":28,"tags":{"stream":"Account","pid":2599,"context":{}}}
2026-11-21T12:37:44.752068Z [info     ] tap-salesforce--app Stream Contact: incremental sync (incremental from the bookmark)
2026-11-21T12:37:44.819281Z [info     ] target-postgres--app--w stream Account: full sync since 2026-11-21T12:37:44.740000 complete; 3 unseen rows marked deleted
2026-11-21T12:37:44.928005Z [info     ] target-postgres--app--w stream Account: merged 27 records into supaglue.salesforce_account
2026-11-21T12:37:44.929005Z [info     ] target-postgres--app--w stream Contact: merged 5 records into supaglue.salesforce_contact
2026-11-21T12:37:44.929505Z [info     ] target-postgres--app--w stream Contact: merged 1 records into supaglue.salesforce_contact
2026-11-21T12:37:44.930005Z [info     ] target-postgres--app--w METRIC: {"type":"counter","metric":"record_count","value":27,"tags":{"stream":"Account","pid":2601}}
2026-11-21T12:37:44.930969Z [info     ] target-postgres--app--w METRIC: {"type":"counter","metric":"record_count","value":5,"tags":{"stream":"Contact","pid":2601}}
2026-11-21T12:37:44.930969Z [info     ] target-postgres--app--w METRIC: {"type":"timer","metric":"batch_processing_time","value":0.1,"tags":{"stream":"Contact"}}
2026-11-21T12:37:44.931969Z [info     ] target-postgres--app--w METRIC: {"type":"counter","metric":"record_count","value":1,"tags":{"stream":"Contact","pid":2601}}
"""


def test_progress_counts_what_the_target_wrote():
    progress = Progress()
    messages = [m for line in LOG.splitlines() if (m := progress.feed(line))]
    assert progress.records == {"Account": 27, "Contact": 6}  # the target's, not the tap's 28
    assert progress.strategies == {"Account": "full", "Contact": "incremental"}
    assert progress.deleted == {"Account": 3}
    assert progress.strategy == "full"
    assert any(m.startswith("  Contact: 6 records written (") for m in messages)
    assert progress.read == {"Account": 28}  # the tap's counter; the target's are not reads
    assert progress.tables == {"Account": "supaglue.salesforce_account",
                               "Contact": "supaglue.salesforce_contact"}


WAITS = """\
2026-11-21T12:40:00.000000Z [info     ] tap-hubspot--app Stream company: full sync (no bookmark yet: initial full sync), version 1
2026-11-21T12:40:01.000000Z [info     ] tap-hubspot--app METRIC: {"type":"counter","metric":"record_count","value":500,"tags":{"stream":"company","pid":1,"context":{}}}
2026-11-21T12:40:01.500000Z [warning  ] tap-hubspot--app GET /crm/v3/objects/companies: HTTP 429; retry 1/7 in 2.07s
2026-11-21T12:40:04.000000Z [info     ] tap-hubspot--app waiting 1.5s: HubSpot rate limit window (burst or search per second)
2026-11-21T12:40:06.000000Z [info     ] tap-hubspot--app METRIC: {"type":"counter","metric":"record_count","value":1500,"tags":{"stream":"company","pid":1,"context":{}}}
"""


def test_progress_follows_reads_rate_and_what_the_sync_waits_on():
    progress, lines = Progress(), WAITS.splitlines()
    messages = [progress.feed(line) for line in lines[:4]]
    assert messages[2] == ("  company: waiting 2.1s: GET /crm/v3/objects/companies: HTTP 429; "
                           "retry 1/7")
    assert progress.waiting == {"company": "waiting 1.5s: HubSpot rate limit window (burst or "
                                           "search per second)"}
    assert progress.feed(lines[4]) == "  company: 2000 records read (333/s)"  # 2,000 in 6 s
    assert progress.waiting == {}  # news of the stream: the wait is over
    assert progress.read == {"company": 2000}


def test_plain_view_prints_the_news_then_a_summary_per_table():
    from tenantsync.controller.display import LineView

    printed: list[str] = []
    view, progress = LineView(printed.append), Progress()
    for line in LOG.splitlines():
        view.update(progress, progress.feed(line))
    view.close(progress)
    assert printed[0] == "  Account: full sync"
    header, *rows = printed[-1].splitlines()
    assert header.split() == ["table", "stream", "strategy", "read", "written", "deleted",
                              "seconds", "rate/s"]
    assert rows[0].split()[:6] == ["supaglue.salesforce_account", "Account", "full", "28", "27",
                                   "3"]
    assert rows[1].split()[:5] == ["supaglue.salesforce_contact", "Contact", "incremental",
                                   "6", "0"]  # no read count: the rate is of what was written


def test_live_view_draws_a_table_and_saves_a_picture(tmp_path, monkeypatch):
    import io

    from tenantsync.controller.display import SVG_ENV, LiveView

    monkeypatch.setenv(SVG_ENV, str(tmp_path / "run.svg"))
    screen = io.StringIO()
    view, progress = LiveView("acme x hubspot", file=screen), Progress()
    for line in WAITS.splitlines()[:4]:
        view.update(progress, progress.feed(line))
    view.close(progress)
    drawn = screen.getvalue()
    assert "acme x hubspot: per table" in drawn and "company" in drawn
    svg = (tmp_path / "run.svg").read_text()
    assert svg.startswith("<svg") and "company" in svg


def test_a_killed_target_is_counted_by_what_it_committed(tmp_path):
    """The target died after committing 8,400 records: no record_count METRIC ever came (it
    is logged at the end), but every committed batch was logged; the run counts those."""
    from tenantsync.controller.models import SyncRun
    from tenantsync.controller.runner import count_from_log

    lines = [f"2026-11-21T12:37:{40 + i}.000000Z [info     ] target-postgres--app--w stream "
             f"Account: merged {n} records into supaglue.salesforce_account"
             for i, n in enumerate((5000, 3400))]
    lines.append("2026-11-21T12:37:50.000000Z [info     ] tap-salesforce--app BrokenPipeError: "
                 "[Errno 32] Broken pipe")
    progress = Progress()
    for line in lines:
        progress.feed(line)
    assert progress.records == {"Account": 8400}
    log = tmp_path / "run-1.log"
    log.write_text("\n".join(lines) + "\n")
    dead = SyncRun(records={}, num_records=0)
    count_from_log(dead, log)  # the next run finds this one's process gone
    assert dead.num_records == 8400
    assert dead.records == {"Account": {"written": 8400, "deleted": 0}}


def test_incremental_only_and_unknown():
    progress = Progress()
    progress.feed(LOG.splitlines()[3])
    assert progress.strategy == "incremental"
    assert Progress().strategy == "unknown"


def _error(lines: list[str], code: int) -> str:
    progress = Progress()
    for line in lines:
        progress.feed(line)
    return progress.error(code)


def test_error_summary_is_one_line_naming_the_exception():
    tail = ["Traceback (most recent call last):", "    raise AuthError(",
            "tenantsync.tapkit.errors.AuthError: Salesforce refused the refresh token",
            "2026-11-21T12:53:40.224211Z [error    ] meltano      Block run completed"]
    assert _error(tail, 1) == ("meltano run exited with 1: tenantsync.tapkit.errors."
                                       "AuthError: Salesforce refused the refresh token")
    tail = ["2026-11-21T12:53:40.224211Z [error    ] meltano      Extractor failed",
            "2026-11-21T12:53:40.224211Z [info     ] meltano      bye"]
    assert _error(tail, 2) == "meltano run exited with 2: Extractor failed"


def test_error_summary_prefers_meltano_error_lines_to_its_closing_line():
    tail = ["2026-11-21T13:07:54.277703Z [error    ] meltano      Another 'x' pipeline is "
            "already running which started at 2026-11-21 13:07:49.",
            "2026-11-21T13:07:54.277873Z [error    ] meltano      Block run completed",
            "2026-11-21T13:07:54.278086Z [info     ] meltano      Run completed"]
    assert _error(tail, 1) == ("meltano run exited with 1: Another 'x' pipeline is "
                                       "already running which started at 2026-11-21 13:07:49.")


def test_error_summary_skips_exceptions_python_ignores_while_exiting():
    tail = ["sqlite3.OperationalError: database is locked",
            "Exception ignored in: <function BaseSubprocessTransport.__del__ at 0x7f>",
            "Traceback (most recent call last):",
            '  File "/usr/lib/python3.11/asyncio/base_events.py", line 761, in call_soon',
            "RuntimeError: Event loop is closed"]
    assert _error(tail, 1) == ("meltano run exited with 1: sqlite3.OperationalError: "
                                       "database is locked")


def test_error_summary_names_the_plugin_exception_far_above_the_tail():
    """A target that dies takes meltano down with a BrokenPipeError and a long traceback; the
    tap may die of the broken pipe too. The cause is the target's exception."""
    target = "2026-11-21T15:23:18.461791Z [info     ] target-postgres--app--warehouse "
    tap = "2026-11-21T15:23:18.462232Z [info     ] tap-salesforce--app "
    tail = [f"{target}Traceback (most recent call last):",
            f"{target}psycopg2.OperationalError: FATAL:  database \"nope\" does not exist",
            f"{target}target-postgres: while processing input line 1",
            f"{tap}BrokenPipeError: [Errno 32] Broken pipe",
            *[f"│ {n} │ frame of meltano's own traceback" for n in range(80)],
            "BrokenPipeError",
            "2026-11-21T15:23:18.643786Z [error    ] meltano      Block run completed"]
    assert _error(tail, 1) == ("meltano run exited with 1: psycopg2.OperationalError: FATAL:  "
                               'database "nope" does not exist')


def test_only_the_newest_run_logs_of_a_sync_are_kept(tmp_path):
    for run_id in range(1, 61):  # ids sort numerically: run-9 is older than run-10
        run_log(tmp_path, "app--acme--salesforce", run_id).write_text("log")
    other = run_log(tmp_path, "app--globex--salesforce", 1)
    other.write_text("log")
    new = run_log(tmp_path, "app--acme--salesforce", 61)
    prune_logs(new, 9)
    kept = sorted(int(p.stem[4:]) for p in new.parent.glob("run-*.log"))
    assert kept == list(range(52, 61))
    assert other.exists()  # another sync's logs are its own
