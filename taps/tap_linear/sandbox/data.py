"""The data world as Linear's nodes (developers.linear.app, GraphQL schema): UUID ids,
ISO-8601 times with milliseconds and `Z`, relations as `{"id": ...}` (the twin's resolvers
load the related node when a query asks for more than its id), workflow states per team."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

from tenantsync.sandbox.datagen import ISSUE_STATES, World

_NAMESPACE = uuid.UUID("5f0c7a52-8f7e-4d51-9a55-2c0b8f1e6d11")
STATE_COLORS = {"backlog": "#bec2c8", "unstarted": "#e2e2e2", "started": "#f2c94c",
                "completed": "#5e6ad2", "canceled": "#95a2b3"}
# (store table, world kind) of each synced object
TABLES = {"users": "user", "teams": "team", "projects": "project", "issues": "issue",
          "comments": "comment"}


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def node_id(seed: int, kind: str, index: int | str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{seed}:{kind}:{index}"))


class LinearWorld:
    def __init__(self, world: World, seed: int, workspace: str = "acme"):
        self.w, self.seed, self.workspace = world, seed, workspace

    def ref(self, kind: str, index: int | None) -> dict | None:
        return None if index is None else {"id": node_id(self.seed, kind, index)}

    def state(self, team: int, name: str) -> dict:
        kind = next(k for n, k, _ in ISSUE_STATES if n == name)
        return {"id": node_id(self.seed, "state", f"{team}:{name}"), "name": name, "type": kind,
                "color": STATE_COLORS[kind]}

    def team_key(self, team: int) -> str:
        return self.w.get("team", team)["key"]

    def _times(self, e: dict) -> dict:
        return {"createdAt": stamp(e["created"]), "updatedAt": stamp(e["modified"]),
                "archivedAt": None}

    def users(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            name = f"{u['first_name']} {u['last_name']}"
            yield {"id": node_id(self.seed, "user", u["index"]), "name": name,
                   "displayName": u["first_name"].lower(), "email": u["email"],
                   "active": u["active"], "admin": u["index"] == 0, "guest": False,
                   "timezone": u["timezone"],
                   "url": f"https://linear.app/{self.workspace}/profiles/{u['first_name'].lower()}"
                          f"{u['index']}", **self._times(u)}

    def teams(self) -> Iterator[dict]:
        for t in self.w.iter("team"):
            yield {"id": node_id(self.seed, "team", t["index"]), "key": t["key"],
                   "name": t["name"], "description": t["description"], "private": t["private"],
                   "timezone": t["timezone"], **self._times(t)}

    def projects(self) -> Iterator[dict]:
        for p in self.w.iter("project"):
            slug = p["name"].lower().replace(" ", "-")
            done = p["state"] == "completed"
            yield {"id": node_id(self.seed, "project", p["index"]), "name": p["name"],
                   "description": p["description"], "state": p["state"],
                   "url": f"https://linear.app/{self.workspace}/project/{slug}",
                   "progress": p["progress"], "startDate": p["start_date"],
                   "targetDate": p["target_date"], **self._times(p),
                   "completedAt": stamp(p["modified"]) if done else None,
                   "canceledAt": stamp(p["modified"]) if p["state"] == "canceled" else None,
                   "lead": self.ref("user", p["lead"])}

    def issues(self) -> Iterator[dict]:
        for i in self.w.iter("issue"):
            yield self.issue(i)

    def issue(self, i: dict) -> dict:
        team = i["team"] if i["team"] is not None else 0
        identifier = f"{self.team_key(team)}-{i['index'] + 1}"
        modified = stamp(i["modified"])
        return {"id": node_id(self.seed, "issue", i["index"]), "identifier": identifier,
                "number": float(i["index"] + 1), "title": i["title"],
                "description": i["description"], "priority": float(i["priority"]),
                "priorityLabel": PRIORITIES[i["priority"]],
                "estimate": None if i["estimate"] is None else float(i["estimate"]),
                "url": f"https://linear.app/{self.workspace}/issue/{identifier.lower()}",
                "dueDate": i["due_date"], **self._times(i),
                "startedAt": modified if i["state_type"] in ("started", "completed") else None,
                "completedAt": modified if i["state_type"] == "completed" else None,
                "canceledAt": modified if i["state_type"] == "canceled" else None,
                "state": self.state(team, i["state"]), "team": self.ref("team", team),
                "assignee": self.ref("user", i["assignee"]),
                "creator": self.ref("user", i["creator"]),
                "project": self.ref("project", i["project"])}

    def comments(self) -> Iterator[dict]:
        for c in self.w.iter("comment"):
            issue = self.ref("issue", c["issue"])
            yield {"id": node_id(self.seed, "comment", c["index"]), "body": c["body"],
                   "url": f"https://linear.app/{self.workspace}/issue/comment-{c['index']}",
                   **self._times(c), "editedAt": None, "issue": issue,
                   "user": self.ref("user", c["user"])}


PRIORITIES = ("No priority", "Urgent", "High", "Medium", "Low")
