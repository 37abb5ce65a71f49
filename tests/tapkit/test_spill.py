"""sorted_records: an external merge sort, so a result read whole to be sorted (an API that
lists newest first) does not have to fit in memory."""

from __future__ import annotations

import random

from tenantsync.tapkit import spill


def test_sorts_across_spilled_runs_keeping_arrival_order_of_equal_keys():
    rnd = random.Random(7)
    records = [{"id": i, "at": f"2024-01-{rnd.randint(1, 9):02}", "n": [i, None, 1.5]}
               for i in range(1000)]
    got = list(spill.sorted_records(iter(records), key=lambda r: r["at"], run_records=64))
    assert got == sorted(records, key=lambda r: r["at"])  # stable, as sorted() is


def test_holds_one_run_at_a_time(monkeypatch):
    consumed = 0
    held_at_spill = []
    real_spill = spill._spill

    def source():
        nonlocal consumed
        for i in range(100):
            consumed += 1
            yield {"id": i, "at": 100 - i}

    def spy(run, file):
        held_at_spill.append((len(run), consumed))
        return real_spill(run, file)

    monkeypatch.setattr(spill, "_spill", spy)
    out = list(spill.sorted_records(source(), key=lambda r: r["at"], run_records=10))
    assert [r["id"] for r in out] == list(range(99, -1, -1))
    assert held_at_spill == [(10, n + 1) for n in range(10, 100, 10)]  # the last run: kept


def test_a_small_result_is_not_spilled_and_files_close_when_iteration_stops(monkeypatch):
    opened = []
    real_temp = spill._temp
    monkeypatch.setattr(spill, "_temp", lambda: opened.append(real_temp()) or opened[-1])
    assert list(spill.sorted_records([{"at": 2}, {"at": 1}], key=lambda r: r["at"])) == [
        {"at": 1}, {"at": 2}]
    assert opened == []
    records = spill.sorted_records(({"at": -i} for i in range(50)), key=lambda r: r["at"],
                                   run_records=10)
    assert next(records) == {"at": -49}
    assert len(opened) == 4 and not any(f.closed for f in opened)  # the last run: in memory
    records.close()  # a stream stopped early (a clean stop, an error downstream)
    assert all(f.closed for f in opened)
