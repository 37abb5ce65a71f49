"""A deterministic, provider-neutral CRM "world" that each twin maps into its own shapes.

Every entity is a function of (seed, kind, index): `World.get(kind, i)` builds it on demand
from its own `random.Random`, so a twin can stream millions of records into its store in
batches without holding any of them, and the same seed always gives the same data.

References are indexes into other kinds (`owner` -> user, `company` -> company, ...). Contacts
belong to companies in contiguous blocks, so `contacts_of(company)` is a range and associations
(deal contact roles, tickets, activities) always point at people of the right company. Creation
times grow with the index across a `span_days` history ending at `now`; modification times fall
between creation and `now`, so ordering by modified time differs from ordering by id.

Engagement kinds (mailboxes, sequences, sequence states) follow the CRM ones: mailboxes belong to
users in contiguous blocks (`mailboxes_of`), and a sequence state enrolls an existing contact in
an existing sequence, sent from an existing mailbox by that mailbox's user.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from tenantsync.sandbox.clock import DEFAULT_START


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Share of the total record count per kind (users are fixed separately: a small sales team).
MIX = {
    "company": 0.14, "contact": 0.28, "lead": 0.12, "deal": 0.10, "deal_contact": 0.04,
    "task": 0.12, "event": 0.05, "campaign": 0.005, "ticket": 0.05, "invoice": 0.085,
    # engagement (sales sequences): appended, so the kinds above keep their seeds and data
    "sequence": 0.01, "sequence_state": 0.15,
    # calls (Gong), support conversations and articles (Intercom): appended likewise
    "call": 0.05, "conversation": 0.08, "article": 0.01,
    # issue tracking (appended: a kind's position seeds it, so earlier kinds keep their data)
    "team": 0.0005, "project": 0.004, "issue": 0.10, "comment": 0.12,
}
# The seed of a kind is its position here: new kinds go at the END. Users and their mailboxes
# are counted from the team's size, not from `records`.
KINDS = ("user", "company", "contact", "lead", "deal", "deal_contact", "task", "event",
         "campaign", "ticket", "invoice", "mailbox", "sequence", "sequence_state", "call",
         "conversation", "article", "team", "project", "issue", "comment")

FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony "
    "Betty Mark Sandra Paul Ashley Steven Kimberly Andrew Emily Kenneth Donna Joshua Michelle "
    "Kevin Carol Brian Amanda George Melissa Timothy Deborah Ronald Stephanie Jason Rebecca "
    "Priya Wei Aisha Mateo Sofia Lucas Yuki Omar Fatima Hiroshi Ingrid Lars Chloe Diego Amara "
    "Noah Olivia Liam Emma Ethan Ava Mason Mia Raj Ana Pedro Elena Ivan Nadia Kofi Zara Tomás "
    "Léa Jürgen Siobhan Anders Mei Arjun Chiara")
LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Patel Kim Chen Müller Schmidt Rossi Dubois Tanaka Sato Kowalski Novak Silva "
    "Santos Okafor Mensah Haddad Cohen Larsen Johansson O'Brien Murphy Fischer Weber Moreau "
    "Bianchi Ivanova Singh Kumar Ali Yamamoto Park Choi Lindqvist Costa Oliveira Nakamura "
    "Fernández Byrne")
COMPANY_A = _words(
    "Blue Northern Summit Apex Bright Silver Granite Pioneer Crescent Harbor Vertex Evergreen "
    "Iron Golden Red Clear Atlas Nova Prime Quantum Swift Cedar Maple Orion Polar Coastal "
    "Highland Sterling Beacon Lumen Vector Radiant Keystone Meridian Union")
COMPANY_B = _words(
    "Logistics Analytics Systems Foods Health Energy Robotics Software Capital Media Labs "
    "Dynamics Networks Solutions Manufacturing Retail Pharma Motors Materials Ventures "
    "Partners Security Cloud Telecom Biotech Insurance Consulting Aerospace Textiles Brewing")
COMPANY_C = ("Inc.", "LLC", "Corp.", "Ltd.", "Group", "Co.", "GmbH", "S.A.", "Holdings", "")
INDUSTRIES = ("Technology", "Manufacturing", "Healthcare", "Finance", "Retail", "Energy",
              "Education", "Media", "Transportation", "Hospitality", "Construction", "Insurance",
              "Telecommunications", "Biotechnology", "Consulting", "Government", "Agriculture")
# city, state/region, country, postal-code pattern (#: digit), phone prefix
PLACES = (
    ("San Francisco", "CA", "United States", "941##", "+1 415"), ("New York", "NY", "United States",
    "100##", "+1 212"), ("Austin", "TX", "United States", "787##", "+1 512"), ("Chicago", "IL",
    "United States", "606##", "+1 312"), ("Seattle", "WA", "United States", "981##", "+1 206"),
    ("Boston", "MA", "United States", "021##", "+1 617"), ("Denver", "CO", "United States",
    "802##", "+1 303"), ("Atlanta", "GA", "United States", "303##", "+1 404"), ("Toronto", "ON",
    "Canada", "M5V 1#", "+1 416"), ("London", "England", "United Kingdom", "EC1A #BB", "+44 20"),
    ("Berlin", "Berlin", "Germany", "101##", "+49 30"), ("Paris", "Île-de-France", "France",
    "750##", "+33 1"), ("Amsterdam", "North Holland", "Netherlands", "10## AB", "+31 20"),
    ("Sydney", "NSW", "Australia", "2###", "+61 2"), ("Singapore", "", "Singapore", "0###0#",
    "+65 6"), ("Tokyo", "Tokyo", "Japan", "100-00##", "+81 3"), ("São Paulo", "SP", "Brazil",
    "01###-000", "+55 11"), ("Dublin", "Leinster", "Ireland", "D0# X###", "+353 1"),
)
STREETS = ("Main St", "Market St", "Oak Ave", "Pine St", "Maple Ave", "Cedar Rd", "Elm St",
           "Park Ave", "Broadway", "Mission St", "High St", "King St", "Queen St", "Harbor Blvd",
           "Innovation Way", "Commerce Dr", "Industrial Pkwy", "Station Rd", "Lake Shore Dr")
TITLES = ("CEO", "CTO", "CFO", "VP of Sales", "VP of Engineering", "Head of Operations",
          "Director of Marketing", "Sales Manager", "Account Executive", "Software Engineer",
          "Product Manager", "Procurement Manager", "IT Director", "Office Manager", "Analyst",
          "Data Scientist", "Customer Success Manager", "Controller", "COO", "Buyer")
DEPARTMENTS = ("Sales", "Engineering", "Finance", "Marketing", "Operations", "IT", "Procurement",
               "Executive", "Customer Success", "Legal", "HR")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show",
                "Word of mouth", "Employee Referral", "Advertisement", "Other")
PRODUCTS = ("Platform License", "Enterprise Plan", "Support Renewal", "Implementation",
            "Add-on Seats", "Data Migration", "Training Package", "Premium Support", "Expansion")
# stage, probability, closed, won
DEAL_STAGES = (("Prospecting", 10, False, False), ("Qualification", 20, False, False),
               ("Needs Analysis", 30, False, False), ("Proposal", 60, False, False),
               ("Negotiation", 80, False, False), ("Closed Won", 100, True, True),
               ("Closed Lost", 0, True, False))
DEAL_STAGE_WEIGHTS = (14, 14, 12, 12, 10, 24, 14)
TICKET_SUBJECTS = ("Cannot log in", "Invoice discrepancy", "Feature request: export to CSV",
                   "Integration error with API", "Slow dashboard loading", "Password reset",
                   "Data import failed", "Billing address change", "SSO configuration help",
                   "Report shows wrong totals", "Mobile app crashes on start")
TASK_SUBJECTS = ("Call", "Send proposal", "Follow up", "Send quote", "Email", "Schedule demo",
                 "Check in", "Prepare contract", "Review requirements", "Send case study")
EVENT_SUBJECTS = ("Discovery call", "Product demo", "Quarterly business review", "Onsite visit",
                  "Contract negotiation", "Kickoff meeting", "Technical deep dive", "Lunch")
CAMPAIGN_NAMES = ("Spring Webinar", "Summer Conference", "Product Launch", "Partner Summit",
                  "Holiday Promo", "Customer Roadshow", "Q4 Email Nurture", "Trade Show Booth",
                  "Referral Drive", "Annual User Group")
SEQUENCE_THEMES = ("Outbound", "Inbound Follow-up", "Webinar Attendees", "Trial Nurture",
                   "Re-engagement", "Event Invite", "Renewal Outreach", "Champion Change",
                   "Enterprise Prospecting", "Closed Lost Revival", "New Feature Launch")
SEQUENCE_TAGS = ("outbound", "inbound", "enterprise", "smb", "nurture", "events", "q4", "emea",
                 "na", "apac", "high-intent")
STEP_TYPES = ("auto_email", "manual_email", "call", "task", "linkedin_send_message")
STEP_TYPE_WEIGHTS = (6, 2, 3, 1, 1)
# where a contact is in a sequence (neutral names; each twin maps them to its provider's)
SEQUENCE_STATES = ("active", "paused", "finished", "bounced", "opted_out")
SEQUENCE_STATE_WEIGHTS = (5, 1, 6, 1, 1)
MAILBOX_PROVIDERS = ("gmail", "office365", "exchange", "smtp")
TIERS = ("Platinum", "Gold", "Silver", "Bronze")
TIMEZONES = ("America/Los_Angeles", "America/New_York", "America/Chicago", "Europe/London",
             "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney")
CALL_SYSTEMS = ("Zoom", "Google Meet", "Microsoft Teams", "Webex")
CALL_TOPICS = ("Pricing", "Next steps", "Security review", "Integrations", "Timeline",
               "Competition", "Onboarding", "Budget", "Use cases", "Small talk")
ARTICLE_TITLES = ("Getting started", "Resetting your password", "Inviting your team",
                  "Billing and invoices", "Connecting your CRM", "Exporting reports",
                  "Single sign-on", "Using the mobile app", "API keys", "Data retention")
TEAMS = ("Engineering", "Design", "Product", "Platform", "Mobile", "Growth", "Infrastructure",
         "Data", "Support", "Security", "Billing", "Integrations")
PROJECT_NAMES = ("Onboarding revamp", "Billing v2", "Mobile offline mode", "SSO for enterprise",
                 "Search relaunch", "API rate limits", "Dashboard performance", "Audit log",
                 "Data export", "Self-serve upgrades", "Notifications center", "EU data residency")
ISSUE_TITLES = ("Fix login redirect loop", "Export to CSV times out", "Add dark mode toggle",
                "Crash when opening settings", "Slow search on large workspaces",
                "Webhook retries never stop", "Typo on pricing page", "Support SAML metadata URL",
                "Flaky integration test", "Improve empty state copy", "Upgrade database driver",
                "Paginate the audit log", "Invoice PDF shows wrong tax")
# workflow state: name, type (Linear's state types), weight
ISSUE_STATES = (("Backlog", "backlog", 3), ("Todo", "unstarted", 3), ("In Progress", "started", 3),
                ("In Review", "started", 1), ("Done", "completed", 6), ("Canceled", "canceled", 1))
WORDS = ("quarterly", "budget", "renewal", "timeline", "integration", "security", "review",
         "pricing", "rollout", "stakeholders", "requirements", "migration", "expansion", "pilot",
         "legal", "approval", "champion", "competitor", "onboarding", "usage", "contract")

_KIND_NO = {k: n for n, k in enumerate(KINDS)}
_M64 = 2**64 - 1


_ASCII = str.maketrans("áàâäãçéèêëíîïñóôöõúùûüßøåÉÎÓ'", "aaaaaceeeeiiinoooouuuusoaEIO ")


def _ascii(s: str) -> str:
    return s.translate(_ASCII).replace(" ", "")


class World:
    def __init__(self, records: int = 1000, seed: int = 0, *, now: datetime = DEFAULT_START,
                 span_days: int = 730, counts: dict[str, int] | None = None):
        if records < 0:
            raise ValueError(f"records must be >= 0, got {records}")
        self.seed = seed
        self.now = now
        self.start = now - timedelta(days=span_days)
        self._span = (now - self.start).total_seconds()
        counts = dict(counts or {})
        for kind in counts:
            if kind not in _KIND_NO:
                raise ValueError(f"unknown world kind {kind!r}; kinds are {', '.join(KINDS)}")
        users = counts.get("user", max(3, min(250, records // 400)))
        # every user sends from a mailbox, half of them from a second one too
        sized = {"user": users, "mailbox": users * 3 // 2, **{
            kind: max(1, round(records * share)) if records else 0
            for kind, share in MIX.items()}, **counts}
        self.counts = {kind: sized[kind] for kind in KINDS}
        self._build = {k: getattr(self, f"_{k}") for k in KINDS}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _seeded(self, kind: str, i: int) -> random.Random:
        """The generator of entity i of `kind` (seeding costs ~5us: once per entity)."""
        return random.Random((self.seed * 64 + _KIND_NO[kind]) * 2**40 + i)

    def _hash(self, kind: str, i: int, salt: int) -> int:
        """64 well-mixed bits from (seed, kind, i, salt) (splitmix64): values that other
        entities need too (times, names, the deal's company) come from here, not the rng."""
        x = (self.seed * 0x9E3779B97F4A7C15 + _KIND_NO[kind] * 0xD1B54A32D192ED03
             + i * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _M64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
        return x ^ (x >> 31)

    def _unit(self, kind: str, i: int, salt: int) -> float:
        return self._hash(kind, i, salt) / 2.0**64

    def get(self, kind: str, i: int) -> dict:
        n = self.counts[kind]
        if not 0 <= i < n:
            raise IndexError(f"{kind} index {i} out of range 0..{n - 1}")
        created, modified = self._times(kind, i)
        entity = {"index": i, "created": created, "modified": modified}
        entity.update(self._build[kind](self._seeded(kind, i), i, created))
        return entity

    def _position(self, kind: str, i: int) -> float:
        """Where in the history (0..1) entity i of `kind` was created."""
        return (i + self._unit(kind, i, 0)) / self.counts[kind]

    def _times(self, kind: str, i: int) -> tuple[datetime, datetime]:
        created = self.start + timedelta(seconds=self._span * self._position(kind, i))
        rest = (self.now - created).total_seconds()
        # most records are touched soon after creation, some much later
        touched = -math.log(1.0 - self._unit(kind, i, 1)) * (rest / 4 + 1)
        modified = created + timedelta(seconds=min(rest, touched))
        return _ms(created), _ms(modified)

    def iter(self, kind: str, start: int = 0, stop: int | None = None) -> Iterator[dict]:
        stop = self.counts[kind] if stop is None else min(stop, self.counts[kind])
        for i in range(start, stop):
            yield self.get(kind, i)

    # -- relationships -------------------------------------------------------------------------

    def company_of_contact(self, contact: int) -> int:
        return contact * self.counts["company"] // max(1, self.counts["contact"])

    def contacts_of(self, company: int) -> range:
        """The contacts working at `company` (contiguous, possibly empty)."""
        nco, nct = self.counts["company"], self.counts["contact"]
        if nco == 0:
            return range(0)
        lo = -(-company * nct // nco)
        hi = -(-(company + 1) * nct // nco)
        return range(min(lo, nct), min(hi, nct))

    def user_of_mailbox(self, mailbox: int) -> int:
        """The user sending from `mailbox` (mailboxes belong to users in contiguous blocks)."""
        return mailbox * self.counts["user"] // max(1, self.counts["mailbox"])

    def mailboxes_of(self, user: int) -> range:
        """`user`'s mailboxes (contiguous; the first is the user's primary address)."""
        nu, nm = self.counts["user"], self.counts["mailbox"]
        if nu == 0:
            return range(0)
        return range(min(-(-user * nm // nu), nm), min(-(-(user + 1) * nm // nu), nm))

    def sequence_steps(self, sequence: int) -> tuple[str, ...]:
        """The step types of `sequence`, in order (what its `steps` count counts)."""
        h = self._hash("sequence", sequence, 2)
        n = 1 + h % 8
        cum = tuple(itertools.accumulate(STEP_TYPE_WEIGHTS))
        return tuple(STEP_TYPES[bisect.bisect(cum, (h >> (6 * k + 8)) % cum[-1])]
                     for k in range(n))

    def contact_activity(self, contact: int) -> dict[str, int]:
        """Email engagement counters of `contact` across its sequences (engagement providers
        report them on the contact)."""
        h = self._hash("contact", contact, 7)
        opens = h % 12
        return {"opens": opens, "clicks": (h >> 8) % (opens + 1), "replies": (h >> 16) % 3,
                "bounces": 1 if (h >> 24) % 25 == 0 else 0}

    def _pick_before(self, unit: float, kind: str, fraction: float) -> int | None:
        """An index of `kind` created before `fraction` of the history (an existing record),
        chosen by `unit` in [0, 1)."""
        n = self.counts[kind]
        if n == 0:
            return None
        return min(n - 1, int(unit * max(1.0, fraction * n)))

    def _owner(self, rng: random.Random) -> int:
        return rng.randrange(self.counts["user"])

    # -- per-kind builders ---------------------------------------------------------------------

    def company_name(self, i: int) -> str:
        return _company_name(self._hash("company", i, 2), i)

    def company_domain(self, i: int) -> str:
        return _domain(self.company_name(i))

    def deal_company(self, deal: int) -> int | None:
        """`get("deal", deal)["company"]`, without building the deal."""
        return self._pick_before(self._unit("deal", deal, 2), "company",
                                 self._position("deal", deal))

    def _user(self, rng, i, created):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{_ascii(first).lower()}.{_ascii(last).lower()}"
        return {"first_name": first, "last_name": last,
                "email": f"{handle}@tenantsync-demo.example",
                "username": f"{handle}{i}@tenantsync-demo.example",
                "title": rng.choice(("Account Executive", "Sales Manager", "SDR", "VP of Sales",
                                     "Customer Success Manager", "Sales Engineer")),
                "department": "Sales", "phone": _phone(rng, rng.choice(PLACES)[4]),
                "timezone": rng.choice(TIMEZONES), "active": rng.random() > 0.08}

    def _company(self, rng, i, created):
        name = self.company_name(i)
        place = rng.choice(PLACES)
        employees = int(rng.lognormvariate(4.5, 1.6)) + 1
        return {"name": name, "domain": _domain(name), "website": f"https://www.{_domain(name)}",
                "industry": rng.choice(INDUSTRIES), "employees": employees,
                "annual_revenue": round(employees * rng.uniform(60_000, 400_000), -3),
                "phone": _phone(rng, place[4]), "address": _address(rng, place),
                "type": _pick(rng, ("Customer", "Prospect", "Partner", "Other"), (5, 8, 2, 1)),
                "description": _sentence(rng), "owner": self._owner(rng),
                "tier": rng.choice(TIERS), "rating": rng.choice(("Hot", "Warm", "Cold")),
                "customer_since": _date(self.start + timedelta(days=rng.randrange(730)))}

    def _contact(self, rng, i, created):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = self.company_of_contact(i)
        place = rng.choice(PLACES)
        return {"first_name": first, "last_name": last, "company": company,
                "email": f"{_ascii(first).lower()}.{_ascii(last).lower()}@"
                         f"{self.company_domain(company)}",
                "phone": _phone(rng, place[4]), "mobile": _phone(rng, place[4]),
                "title": rng.choice(TITLES), "department": rng.choice(DEPARTMENTS),
                "address": _address(rng, place), "lead_source": rng.choice(LEAD_SOURCES),
                "birthdate": _date(datetime(1955, 1, 1) + timedelta(days=rng.randrange(16000))),
                "owner": self._owner(rng), "nps": rng.randrange(0, 11) if rng.random() < 0.6
                else None, "do_not_call": rng.random() < 0.05}

    def _lead(self, rng, i, created):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = _company_name(self._hash("lead", i, 2), i)
        place = rng.choice(PLACES)
        status = _pick(rng, ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                              "Closed - Not Converted"), (4, 4, 2, 2))
        return {"first_name": first, "last_name": last, "company_name": company,
                "email": f"{_ascii(first).lower()}@{_domain(company)}",
                "phone": _phone(rng, place[4]), "title": rng.choice(TITLES),
                "status": status, "converted": status == "Closed - Converted",
                "lead_source": rng.choice(LEAD_SOURCES), "industry": rng.choice(INDUSTRIES),
                "rating": rng.choice(("Hot", "Warm", "Cold")),
                "employees": int(rng.lognormvariate(4, 1.5)) + 1, "address": _address(rng, place),
                "owner": self._owner(rng), "description": _sentence(rng)}

    def _deal(self, rng, i, created):
        company = self.deal_company(i)
        stage, probability, closed, won = _pick(rng, DEAL_STAGES, DEAL_STAGE_WEIGHTS)
        close = created + timedelta(days=rng.randrange(14, 180))
        contacts = self.contacts_of(company) if company is not None else range(0)
        return {"name": f"{self.company_name(company) if company is not None else 'New'} - "
                        f"{rng.choice(PRODUCTS)}",
                "company": company, "contact": contacts[rng.randrange(len(contacts))]
                if contacts else None,
                "amount": round(rng.lognormvariate(9.8, 1.1), -2), "stage": stage,
                "probability": probability, "closed": closed, "won": won, "close_date":
                _date(close), "type": rng.choice(("New Business", "Existing Business - Upgrade",
                                                  "Existing Business - Renewal")),
                "lead_source": rng.choice(LEAD_SOURCES), "next_step": rng.choice(TASK_SUBJECTS),
                "forecast": "Closed" if won else "Omitted" if closed else
                rng.choice(("Pipeline", "Best Case", "Commit")),
                "owner": self._owner(rng), "description": _sentence(rng),
                "campaign": self._pick_before(rng.random(), "campaign", 1.0)
                if rng.random() < 0.3 else None}

    def _deal_contact(self, rng, i, created):
        for _ in range(8):  # find a deal whose company has people
            deal = self._pick_before(rng.random(), "deal", self._position("deal_contact", i))
            company = self.deal_company(deal) if deal is not None else None
            contacts = self.contacts_of(company) if company is not None else range(0)
            if contacts:
                break
        return {"deal": deal, "contact": contacts[rng.randrange(len(contacts))]
                if contacts else None,
                "role": rng.choice(("Decision Maker", "Economic Buyer", "Technical Buyer",
                                    "Influencer", "Evaluator", "Executive Sponsor")),
                "primary": rng.random() < 0.3}

    def _activity_refs(self, rng, position: float) -> dict:
        contact = self._pick_before(rng.random(), "contact", position)
        company = self.company_of_contact(contact) if contact is not None else None
        deal = self._pick_before(rng.random(), "deal", position) if rng.random() < 0.4 else None
        return {"contact": contact, "company": company, "deal": deal, "owner": self._owner(rng)}

    def _task(self, rng, i, created):
        done = rng.random() < 0.7
        return {"subject": rng.choice(TASK_SUBJECTS), "status": "Completed" if done else
                rng.choice(("Not Started", "In Progress", "Waiting on someone else")),
                "completed": done, "priority": _pick(rng, ("High", "Normal", "Low"), (2, 6, 2)),
                "due_date": _date(created + timedelta(days=rng.randrange(1, 21))),
                "type": rng.choice(("Call", "Email", "Meeting", "Other")),
                "description": _sentence(rng),
                **self._activity_refs(rng, self._position("task", i))}

    def _event(self, rng, i, created):
        begins = (created + timedelta(days=rng.randrange(1, 30))).replace(
            hour=rng.randrange(8, 18), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
        minutes = rng.choice((15, 30, 45, 60, 90))
        return {"subject": rng.choice(EVENT_SUBJECTS), "start": begins,
                "end": begins + timedelta(minutes=minutes), "duration_minutes": minutes,
                "location": rng.choice(("Zoom", "Google Meet", "Microsoft Teams", "Customer office",
                                        "Phone")), "description": _sentence(rng),
                **self._activity_refs(rng, self._position("event", i))}

    def _campaign(self, rng, i, created):
        begins = created + timedelta(days=rng.randrange(7, 60))
        budget = round(rng.uniform(2_000, 150_000), -2)
        ends = begins + timedelta(days=rng.randrange(1, 90))
        return {"name": f"{rng.choice(CAMPAIGN_NAMES)} {begins.year}", "type": rng.choice(
                ("Webinar", "Conference", "Email", "Advertisement", "Trade Show", "Referral")),
                "status": rng.choice(("Planned", "In Progress", "Completed", "Aborted")),
                "start_date": _date(begins), "end_date": _date(ends),
                "budget": budget, "expected_revenue": round(budget * rng.uniform(1.5, 8), -2),
                "active": rng.random() < 0.5, "owner": self._owner(rng),
                "description": _sentence(rng)}

    def _ticket(self, rng, i, created):
        refs = self._activity_refs(rng, self._position("ticket", i))
        status = _pick(rng, ("New", "Working", "Escalated", "Closed"), (2, 3, 1, 6))
        return {"subject": rng.choice(TICKET_SUBJECTS), "status": status,
                "closed": status == "Closed",
                "priority": _pick(rng, ("Low", "Medium", "High", "Critical"), (3, 5, 2, 1)),
                "origin": rng.choice(("Email", "Phone", "Web", "Chat")),
                "type": rng.choice(("Question", "Problem", "Feature Request")),
                "description": _sentence(rng), "contact": refs["contact"],
                "company": refs["company"], "owner": refs["owner"]}

    def _invoice(self, rng, i, created):
        deal = self._pick_before(rng.random(), "deal", self._position("invoice", i))
        company = self.deal_company(deal) if deal is not None else None
        issued = created.date()
        status = _pick(rng, ("Draft", "Sent", "Paid", "Overdue", "Void"), (1, 3, 8, 2, 1))
        due = issued + timedelta(days=rng.choice((15, 30, 45, 60)))
        return {"number": f"INV-{i + 1:07d}", "deal": deal, "company": company,
                "amount": round(rng.uniform(500, 120_000), 2),
                "currency": _pick(rng, ("USD", "EUR", "GBP"), (6, 2, 1)), "status": status,
                "issue_date": issued.isoformat(), "due_date": due.isoformat(),
                "paid_date": (due - timedelta(days=rng.randrange(0, 14))).isoformat()
                if status == "Paid" else None, "owner": self._owner(rng)}

    def _call(self, rng, i, created):
        """A recorded meeting with a contact (Gong): who, how long, what was said."""
        contact = self._pick_before(rng.random(), "contact", self._position("call", i))
        company = self.company_of_contact(contact) if contact is not None else None
        seconds = rng.choice((15, 25, 30, 45, 60)) * 60 - rng.randrange(0, 240)
        topics = rng.sample(CALL_TOPICS, k=rng.randrange(1, 4))
        return {"title": f"{self.company_name(company) if company is not None else 'Prospect'}"
                         f" | {rng.choice(EVENT_SUBJECTS)}",
                "owner": self._owner(rng), "contact": contact, "company": company,
                "duration_seconds": seconds, "system": rng.choice(CALL_SYSTEMS),
                "scheduled_offset": rng.randrange(0, 180), "topics": topics,
                "sentences": [(rng.randrange(2), _sentence(rng))
                              for _ in range(rng.randrange(3, 8))]}

    def _conversation(self, rng, i, created):
        """A support conversation a contact started (Intercom)."""
        contact = self._pick_before(rng.random(), "contact", self._position("conversation", i))
        state = _pick(rng, ("open", "closed", "snoozed"), (3, 6, 1))
        return {"subject": rng.choice(TICKET_SUBJECTS), "contact": contact,
                "owner": self._owner(rng), "state": state,
                "priority": rng.random() < 0.15, "body": _sentence(rng),
                "parts": rng.randrange(1, 9), "rating": rng.randrange(1, 6)
                if state == "closed" and rng.random() < 0.4 else None}

    def _article(self, rng, i, created):
        """A help-center article (Intercom)."""
        return {"title": f"{rng.choice(ARTICLE_TITLES)} ({i + 1})", "author": self._owner(rng),
                "body": " ".join(_sentence(rng) for _ in range(rng.randrange(2, 6))),
                "published": rng.random() < 0.8}

    def _mailbox(self, rng, i, created):
        user = self.user_of_mailbox(i)
        address = self._user(self._seeded("user", user), user, created)["email"]
        primary = i == self.mailboxes_of(user).start
        local, domain = address.split("@")
        return {"user": user, "email": address if primary else f"{local}@outbound.{domain}",
                "primary": primary, "provider": _pick(rng, MAILBOX_PROVIDERS, (6, 4, 1, 1)),
                "daily_limit": rng.choice((200, 300, 500, 1000)),
                "disabled": rng.random() < 0.05}

    def _sequence(self, rng, i, created):
        steps = self.sequence_steps(i)
        contacted = int(rng.lognormvariate(4, 1.2))
        delivered = contacted - int(contacted * rng.uniform(0, 0.08))
        opened = int(delivered * rng.uniform(0.2, 0.7))
        replied = int(opened * rng.uniform(0.02, 0.2))
        return {"name": f"{rng.choice(SEQUENCE_THEMES)} #{i + 1}", "owner": self._owner(rng),
                "steps": len(steps), "active": rng.random() < 0.7,
                "archived": rng.random() < 0.08, "shared": rng.random() < 0.6,
                "tags": sorted(set(rng.sample(SEQUENCE_TAGS, rng.randrange(0, 3)))),
                "description": _sentence(rng),
                "metrics": {"contacted": contacted, "delivered": delivered, "opened": opened,
                            "clicked": int(opened * rng.uniform(0, 0.3)), "replied": replied,
                            "bounced": contacted - delivered,
                            "opted_out": int(delivered * rng.uniform(0, 0.03))}}

    def _sequence_state(self, rng, i, created):
        position = self._position("sequence_state", i)
        sequence = self._pick_before(rng.random(), "sequence", position)
        contact = self._pick_before(rng.random(), "contact", position)
        mailbox = rng.randrange(self.counts["mailbox"]) if self.counts["mailbox"] else None
        state = _pick(rng, SEQUENCE_STATES, SEQUENCE_STATE_WEIGHTS)
        steps = len(self.sequence_steps(sequence)) if sequence is not None else 1
        step = steps if state == "finished" else 1 + int(rng.random() * steps)
        opens = int(rng.random() * (step + 2))
        return {"contact": contact, "sequence": sequence, "mailbox": mailbox,
                "user": self.user_of_mailbox(mailbox) if mailbox is not None else None,
                "state": state, "step": step, "opens": opens,
                "clicks": int(rng.random() * (opens + 1)),
                "replies": 1 if state == "finished" and rng.random() < 0.2 else 0,
                "bounced": state == "bounced",
                "pause_reason": rng.choice(("manual", "out_of_office", "ooo_auto_reply"))
                if state == "paused" else None}


    def _team(self, rng, i, created):
        name = TEAMS[i % len(TEAMS)] + (f" {i // len(TEAMS) + 1}" if i >= len(TEAMS) else "")
        return {"name": name, "key": TEAMS[i % len(TEAMS)][:3].upper() + (
                    str(i // len(TEAMS)) if i >= len(TEAMS) else ""),
                "description": _sentence(rng), "private": rng.random() < 0.1,
                "timezone": rng.choice(TIMEZONES)}

    def _project(self, rng, i, created):
        begins = created + timedelta(days=rng.randrange(0, 30))
        state = _pick(rng, ("backlog", "planned", "started", "paused", "completed", "canceled"),
                      (1, 2, 4, 1, 3, 1))
        return {"name": f"{rng.choice(PROJECT_NAMES)} {i + 1}", "description": _sentence(rng),
                "state": state, "lead": self._owner(rng), "start_date": _date(begins),
                "target_date": _date(begins + timedelta(days=rng.randrange(14, 120))),
                "progress": 1.0 if state == "completed" else round(rng.random(), 2),
                "team": self._pick_before(rng.random(), "team", self._position("project", i))}

    def _issue(self, rng, i, created):
        position = self._position("issue", i)
        state, kind = _pick(rng, tuple(s[:2] for s in ISSUE_STATES),
                            tuple(s[2] for s in ISSUE_STATES))
        return {"title": rng.choice(ISSUE_TITLES), "description": _sentence(rng),
                "team": self._pick_before(rng.random(), "team", position),
                "project": self._pick_before(rng.random(), "project", position)
                if rng.random() < 0.5 else None,
                "assignee": self._owner(rng) if rng.random() < 0.8 else None,
                "creator": self._owner(rng), "priority": rng.randrange(0, 5),
                "estimate": rng.choice((None, 1, 2, 3, 5, 8)), "state": state,
                "state_type": kind, "due_date": _date(created + timedelta(
                    days=rng.randrange(3, 60))) if rng.random() < 0.3 else None}

    def _comment(self, rng, i, created):
        return {"issue": self._pick_before(rng.random(), "issue", self._position("comment", i)),
                "user": self._owner(rng), "body": _sentence(rng)}


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _date(moment) -> str:
    return moment.strftime("%Y-%m-%d")


def _company_name(h: int, i: int) -> str:
    """A company name from 64 random bits `h` (and the index, so big worlds vary more)."""
    suffix = COMPANY_C[(h >> 40) % len(COMPANY_C)]
    base = f"{COMPANY_A[h % len(COMPANY_A)]} {COMPANY_B[(h >> 12) % len(COMPANY_B)]}"
    if i >= len(COMPANY_A) * len(COMPANY_B) // 3:  # keep names unique-ish at scale
        last = LAST[(h >> 24) % len(LAST)]
        base = f"{base} {last}" if i % 3 else f"{last} {base}"
    return f"{base} {suffix}".strip()


@functools.lru_cache(maxsize=65536)
def _domain(name: str) -> str:
    words = [w for w in name.split() if w not in COMPANY_C]
    return re.sub(r"[^a-z0-9]", "", _ascii("".join(words)).lower()) + ".example"


def _phone(rng: random.Random, prefix: str) -> str:
    return f"{prefix} {200 + int(rng.random() * 799)} {1000 + int(rng.random() * 8999)}"


def _address(rng: random.Random, place: tuple) -> dict:
    city, state, country, postal, _ = place
    digits = f"{int(rng.random() * 10**12):012d}"
    code = "".join(digits[k] if ch == "#" else ch for k, ch in enumerate(postal))
    return {"street": f"{1 + int(rng.random() * 9998)} {rng.choice(STREETS)}", "city": city,
            "state": state, "postal_code": code, "country": country}


def _pick(rng: random.Random, values: tuple, weights: tuple):
    """A weighted choice (what rng.choices does, without rebuilding cumulative weights)."""
    cum = _CUMULATIVE.get(weights)
    if cum is None:
        cum = _CUMULATIVE[weights] = tuple(itertools.accumulate(weights))
    return values[bisect.bisect(cum, rng.random() * cum[-1])]


_CUMULATIVE: dict[tuple, tuple] = {}


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randrange(6, 14))
    return " ".join(words).capitalize() + "."
