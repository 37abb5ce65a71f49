"""The data world as Gong records: a call (`/v2/calls`), its extensive form
(`/v2/calls/extensive`: metaData, parties with CRM context, content, interaction) and its
transcript (`/v2/calls/transcript`: monologues of sentences with millisecond offsets). Ids are
Gong's long decimal strings; times ISO-8601 in UTC."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from tenantsync.sandbox.datagen import World

WORKSPACE_ID = "623457276584334"
_CALL_BASE, _USER_BASE, _SPEAKER_BASE = 7782342274025937895, 234599484848423, 6432345678555530


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def call_id(index: int) -> str:
    return str(_CALL_BASE + index * 104_729)


def user_id(index: int) -> str:
    return str(_USER_BASE + index * 7)


class GongWorld:
    def __init__(self, world: World):
        self.w = world

    def entities(self) -> Iterator[tuple[str, dict]]:
        for c in self.w.iter("call"):
            yield call_id(c["index"]), c

    def call(self, cid: str, c: Mapping[str, Any], started: datetime) -> dict:
        return {"id": cid, "url": f"https://app.gong.io/call?id={cid}", "title": c["title"],
                "scheduled": iso((started - timedelta(seconds=c["scheduled_offset"])).replace(
                    second=0)), "started": iso(started), "duration": c["duration_seconds"],
                "primaryUserId": user_id(c["owner"]), "direction": "Conference",
                "system": c["system"], "scope": "External", "media": "Video", "language": "eng",
                "workspaceId": WORKSPACE_ID, "sdrDisposition": None, "clientUniqueId": None,
                "customData": None, "purpose": None,
                "meetingUrl": f"https://meet.example/{cid[-8:]}", "isPrivate": False,
                "calendarEventId": None}

    def _parties(self, cid: str, c: Mapping[str, Any]) -> list[dict]:
        owner = self.w.get("user", c["owner"])
        parties = [{"id": f"{cid[-6:]}01", "emailAddress": owner["email"],
                    "name": f"{owner['first_name']} {owner['last_name']}",
                    "title": owner["title"], "userId": user_id(c["owner"]),
                    "speakerId": str(_SPEAKER_BASE + 2 * int(cid[-6:])),
                    "affiliation": "Internal", "methods": ["Invitee"], "context": []}]
        if c["contact"] is not None:
            person = self.w.get("contact", c["contact"])
            parties.append({
                "id": f"{cid[-6:]}02", "emailAddress": person["email"],
                "name": f"{person['first_name']} {person['last_name']}",
                "title": person["title"], "userId": None,
                "speakerId": str(_SPEAKER_BASE + 2 * int(cid[-6:]) + 1),
                "affiliation": "External", "methods": ["Invitee"],
                "context": [{"system": "Salesforce", "objects": [
                    {"objectType": "Contact", "objectId": f"003{c['contact']:015d}",
                     "fields": [{"name": "Title", "value": person["title"]}]}]}]})
        return parties

    def detailed(self, call: dict, c: Mapping[str, Any]) -> dict:
        """Everything the extensive endpoint can expose; `select` keeps what was asked."""
        parties = self._parties(call["id"], c)
        talk = c["duration_seconds"]
        return {"metaData": call,
                "context": [{"system": "Salesforce", "objects": [
                    {"objectType": "Account", "objectId": f"001{c['company']:015d}",
                     "fields": [{"name": "Name", "value": call["title"].split(" | ")[0]}]}]}]
                if c["company"] is not None else [],
                "parties": parties,
                "content": {"topics": [{"name": t, "duration": talk // (len(c["topics"]) + 1)}
                                       for t in c["topics"]],
                            "trackers": [], "brief": None},
                "interaction": {"speakers": [{"id": p["id"], "userId": p["userId"],
                                              "talkTime": talk // len(parties)}
                                             for p in parties],
                                "interactionStats": [{"name": "Talk Ratio", "value": 0.5}]},
                "collaboration": {"publicComments": []},
                "media": {"audioUrl": None, "videoUrl": None}}

    def transcript(self, cid: str, c: Mapping[str, Any]) -> dict:
        speakers = [str(_SPEAKER_BASE + 2 * int(cid[-6:]) + k) for k in (0, 1)]
        monologues: list[dict] = []
        at = 0
        for who, text in c["sentences"]:
            end = at + 1500 + 60 * len(text)
            sentence = {"start": at, "end": end, "text": text}
            if monologues and monologues[-1]["speakerId"] == speakers[who]:
                monologues[-1]["sentences"].append(sentence)
            else:
                monologues.append({"speakerId": speakers[who], "topic": c["topics"][0],
                                   "sentences": [sentence]})
            at = end + 400
        return {"callId": cid, "transcript": monologues}


def select(detailed: Mapping[str, Any], selector: Mapping[str, Any] | None) -> dict:
    """An extensive item as a `contentSelector` asks for it: metaData always; CRM context
    only with `context: "Extended"`; parties, content, interaction, collaboration and media
    only where `exposedFields` asks (content and interaction field by field)."""
    selector = selector or {}
    exposed = selector.get("exposedFields") or {}
    extended = selector.get("context") == "Extended"
    out: dict[str, Any] = {"metaData": detailed["metaData"]}
    if extended:
        out["context"] = detailed["context"]
    if exposed.get("parties"):
        out["parties"] = [p if extended else {k: v for k, v in p.items() if k != "context"}
                          for p in detailed["parties"]]
    for part in ("content", "interaction", "collaboration"):
        asked = exposed.get(part) or {}
        picked = {k: v for k, v in detailed[part].items() if asked.get(k)}
        if picked:
            out[part] = picked
    if exposed.get("media"):
        out["media"] = detailed["media"]
    return out
