"""The engagement kinds of the shared world: mailboxes, sequences and sequence states."""

from __future__ import annotations

import pytest

from tenantsync.sandbox import datagen
from tenantsync.sandbox.datagen import World


def test_engagement_kinds_are_appended_after_the_crm_kinds():
    # a kind's seed is its position: the CRM kinds keep theirs (and so their data)
    assert datagen.KINDS[:11] == ("user", "company", "contact", "lead", "deal", "deal_contact",
                                  "task", "event", "campaign", "ticket", "invoice")
    assert datagen.KINDS[11:14] == ("mailbox", "sequence", "sequence_state")
    assert set(datagen.KINDS) == {"user", "mailbox", *datagen.MIX}


def test_engagement_counts_follow_the_world_size_and_overrides():
    w = World(5000, seed=2)
    assert w.counts["mailbox"] == w.counts["user"] * 3 // 2
    assert w.counts["sequence"] == 50 and w.counts["sequence_state"] == 750
    small = World(300, seed=2, counts={"user": 4, "sequence": 3})
    assert (small.counts["user"], small.counts["mailbox"], small.counts["sequence"]) == (4, 6, 3)
    assert World(300, counts={"mailbox": 9}).counts["mailbox"] == 9
    empty = World(0)
    assert empty.counts["sequence"] == empty.counts["sequence_state"] == 0


@pytest.mark.parametrize("records,seed", [(200, 0), (3000, 5)])
def test_mailboxes_belong_to_users_and_each_user_has_a_primary_one(records, seed):
    w = World(records, seed=seed)
    users = list(w.iter("user"))
    seen = []
    for u in range(w.counts["user"]):
        boxes = [w.get("mailbox", m) for m in w.mailboxes_of(u)]
        assert boxes and all(b["user"] == u for b in boxes)
        assert [b["primary"] for b in boxes] == [True] + [False] * (len(boxes) - 1)
        assert boxes[0]["email"] == users[u]["email"]
        seen += [b["index"] for b in boxes]
    assert seen == list(range(w.counts["mailbox"]))
    emails = [m["email"] for m in w.iter("mailbox")]
    assert len(set(emails)) == len(emails)


def test_sequences_have_steps_owners_and_consistent_metrics():
    w = World(3000, seed=4)
    for s in w.iter("sequence"):
        assert s["steps"] == len(w.sequence_steps(s["index"])) and 1 <= s["steps"] <= 8
        assert set(w.sequence_steps(s["index"])) <= set(datagen.STEP_TYPES)
        assert 0 <= s["owner"] < w.counts["user"]
        m = s["metrics"]
        assert m["delivered"] + m["bounced"] == m["contacted"]
        assert m["opened"] <= m["delivered"] and m["replied"] <= m["opened"]
        assert set(s["tags"]) <= set(datagen.SEQUENCE_TAGS)


@pytest.mark.parametrize("records,seed", [(200, 0), (5000, 9)])
def test_sequence_states_reference_existing_records(records, seed):
    w = World(records, seed=seed)
    states = list(w.iter("sequence_state"))
    assert {s["state"] for s in states} <= set(datagen.SEQUENCE_STATES)
    for s in states:
        assert 0 <= s["contact"] < w.counts["contact"]
        assert 0 <= s["sequence"] < w.counts["sequence"]
        assert 0 <= s["mailbox"] < w.counts["mailbox"]
        assert s["user"] == w.get("mailbox", s["mailbox"])["user"]
        steps = w.get("sequence", s["sequence"])["steps"]
        assert 1 <= s["step"] <= steps
        assert s["step"] == steps or s["state"] != "finished"
        assert s["bounced"] == (s["state"] == "bounced")
        assert w.start <= s["created"] <= s["modified"] <= w.now
    if records >= 5000:
        assert {s["state"] for s in states} == set(datagen.SEQUENCE_STATES)


def test_contact_activity_is_deterministic_and_plausible():
    a, b = World(1000, seed=1), World(1000, seed=1)
    for c in range(a.counts["contact"]):
        act = a.contact_activity(c)
        assert act == b.contact_activity(c)
        assert 0 <= act["clicks"] <= act["opens"] and act["bounces"] in (0, 1)
    assert a.contact_activity(3) != World(1000, seed=2).contact_activity(3) or \
        a.contact_activity(4) != World(1000, seed=2).contact_activity(4)
