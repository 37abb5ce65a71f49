"""The exactness check the proof tests rely on finds every kind of difference."""

from __future__ import annotations

from tests.proof.harness import compare

REF = {"a": ({"Id": "a", "Name": "A", "IsDeleted": False}, False),
       "b": ({"Id": "b", "Name": "B", "IsDeleted": True}, True)}


def test_equal_rows_pass():
    rows = [("a", {**REF["a"][0], "extra": 1}, False), ("b", REF["b"][0], True)]
    assert compare("Account", rows, REF) == []


def test_every_kind_of_difference_is_reported():
    rows = [("a", {"Id": "a", "Name": "A?", "IsDeleted": False}, True),
            ("a", REF["a"][0], False), ("z", {"Id": "z"}, False)]
    problems = "\n".join(compare("Account", rows, REF))
    assert "1 duplicate ids" in problems
    assert "1 ids missing, e.g. ['b']" in problems
    assert "1 ids not in the sandbox, e.g. ['z']" in problems


def test_field_and_flag_differences():
    ref = {"7": ({"id": "7", "archived": True, "name": "Seven"}, True)}
    rows = [("7", {"id": "7", "archived": False, "name": "seven"}, False)]
    problems = compare("company", rows, ref)
    assert problems == ["company 7: fields differ: archived=False vs True, name='seven' vs "
                        "'Seven'", "company 7: deleted False vs True"]
