"""Help-desk tickets: e-mails and web requests answered over days, exported as the help desk's daily incremental
export (each day's file holds every ticket that changed that day, as it stood at the end of the day).

A ticket's whole life is drawn when it is created, from its own random generator: the other exports do not
change when tickets are added, and a day's file depends only on the days before it (prefix stability). The one
exception is planned on purpose: a customer who e-mails and, not helped yet, calls about the same problem two
days later. That call is played through the voice channel on its own day, after that day's other contacts, so
it only adds rows to the calls export.

Behaviour drawn here, and reported in the planted truths:
- an auto-reply (author ``system``) seconds after the request: public, but never the first reply;
- internal notes (``public`` false) between agents: never a reply to the customer;
- replies mostly in the center's opening hours, except one agent who also answers late at night;
- tickets solved too early and reopened by the customer ("still not working");
- tickets left pending without an answer and solved by the help desk's automation after four days;
- a satisfaction rating (good/bad) on some solved tickets; closed four days after the last solve.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from .. import catalog as cat
from ..center import ContactCenter
from ..people import Person, messy_email, messy_phone, scramble
from .voice import inbound_call

# Readers of the failing FAQ article who neither call nor chat and then e-mail the help desk (self-service
# failure through a ticket, planted truth faq_then_ticket); their tickets' numbers start at _FAQ_TICKET_K.
FAQ_TICKET = 0.8
_FAQ_TICKET_K = 1 << 20
TICKET_RATE = 0.012  # new tickets per CRM customer per weekday (weekends 0.5x)
EMAIL_THEN_CALL = 0.10  # tickets whose requester calls two days later instead of answering the e-mail
REOPEN = 0.14  # solved tickets the customer reopens
AFTER_HOURS_SHARE = 0.7  # the after-hours agent's replies that are sent outside opening hours
AUTO_SOLVE_SECONDS = 4 * 86400  # a pending ticket without an answer is solved by the help desk's automation
CLOSE_SECONDS = 4 * 86400  # a solved ticket closes this long after its last solve
MAX_LIFE_SECONDS = 13 * 86400  # the clock covers MAX_SPAN_DAYS after the last day
_K_TICKET, _K_COMMENT = 9, 10  # id kinds after rows.py's (ids never collide)

_AUTO_REPLY = "Thanks for contacting us. We have received your request and will reply within one business day."
_INTERNAL = (
    "Checked the account: no open incident.",
    "Asked billing ops to confirm the charge.",
    "Escalating to second line, see the logs attached.",
    "Customer is high value, please prioritise.",
)
_ASK = (
    "Thanks for writing. Could you send us your account number and the date it started?",
    "Could you tell us which device you are using and send a screenshot of the message?",
    "We need a little more information before we can fix this: when did it start?",
)
_SOLVE = (
    "This is now fixed on our side. Let us know if anything else comes up.",
    "We have corrected this and you should see the change within a day.",
    "Done: the change is in place. I'll mark this ticket as solved.",
)
_CUSTOMER_MORE = ("Here is the information you asked for.", "My account number is in the signature.", "Yes, see below.")
_REOPEN = ("This is still not working.", "The problem is back, nothing has changed.", "Sorry, it is not fixed.")
_SUBJECT_SUFFIX = ("", " (urgent)", " - please help", " again")


@dataclass
class Ticket:
    ticket_id: str
    customer: Person
    intent: cat.Intent
    doc: dict  # the fields that do not change
    comments: list[tuple[int, dict]] = field(default_factory=list)  # (epoch, comment without created_at)
    statuses: list[tuple[int, str, str]] = field(default_factory=list)  # (epoch, status, who changed it)
    assigned: tuple[int, str] | None = None
    rating: tuple[int, str] | None = None
    last_day: int = 0

    def snapshot(self, cc: ContactCenter, cutoff: int) -> dict:
        """The ticket as the help desk exports it at epoch ``cutoff``."""
        fmt = cc.clock.fmt_utc
        comments = [c for c in self.comments if c[0] <= cutoff]
        statuses = [s for s in self.statuses if s[0] <= cutoff]
        status = statuses[-1][1]
        solved = [t for t, s, _ in statuses if s == "solved"]
        times = [t for t, _ in comments] + [t for t, _, _ in statuses]
        rating = self.rating if self.rating and self.rating[0] <= cutoff else None
        if rating:
            times.append(rating[0])
        changes, previous = [], None
        for t, s, role in statuses:
            changes.append({"created_at": fmt(t), "author_role": role, "previous_value": previous, "value": s})
            previous = s
        return {
            **self.doc,
            "updated_at": fmt(max(times)),
            "solved_at": fmt(solved[-1]) if solved and status in ("solved", "closed") else None,
            "closed_at": fmt(statuses[-1][0]) if status == "closed" else None,
            "status": status,
            "assignee_id": self.assigned[1] if self.assigned and self.assigned[0] <= cutoff else None,
            "satisfaction_rating": {"score": rating[1], "created_at": fmt(rating[0])} if rating else None,
            "status_changes": changes,
            "comments": [{**c, "created_at": fmt(t)} for t, c in comments],
        }


class TicketDesk:
    """The help desk of one simulation: creates each day's tickets, plays the planned follow-up calls and
    writes each day's incremental export."""

    def __init__(self, cc: ContactCenter, customers: list[Person], seed: int, days: int) -> None:
        self.cc = cc
        self.customers = [c for c in customers if not c.switchboard]
        self.seed = seed
        self.days = days
        rng = random.Random(f"tickets-truths:{seed}")
        pool = sorted(a for q in ("billing", "tech_support") for a in cc.by_queue[q] if a != cc.weak_agent)
        self.after_hours_agent = rng.choice(pool)
        self.open: list[Ticket] = []
        self.calls: dict[int, list[tuple[Person, cat.Intent, int, str]]] = {}
        self.truths: dict[str, list] = {
            "email_then_call": [],
            "reopened": [],
            "after_hours_replies": [],
            "faq_then_ticket": [],
        }
        self.rows = 0

    # --- one ticket ------------------------------------------------------------------------------------

    def _agent_time(self, rng: random.Random, t: int, tzi: int, agent: str) -> int:
        """When an agent answers something that arrived at ``t``: within opening hours, except the after-hours
        agent, who often answers at once whatever the hour."""
        cc = self.cc
        if agent == self.after_hours_agent and rng.random() < AFTER_HOURS_SHARE:
            return t + 600 + int(rng.random() * 5400)
        ready = t + 900 + int(rng.expovariate(1 / (3 * 3600)))
        if not cc.is_open(ready, tzi):
            ready = cc.next_open(ready, tzi) + int(rng.random() * 7200)
        return ready

    def create(
        self,
        rng: random.Random,
        day: int,
        k: int,
        c: Person,
        intent: cat.Intent | None = None,
        t0: int | None = None,
        via: str | None = None,
    ) -> Ticket:
        """A ticket of customer ``c`` on ``day``; intent, creation time and channel are drawn unless given (a
        ticket that follows another contact of the same problem)."""
        cc = self.cc
        tzi = c.tzi
        if intent is None:
            intent = cc.pick_intent(rng)
        if t0 is None:
            t0 = cc.clock.local_to_epoch(tzi, day, cc.pick_secs(rng, cc.weekday(day)))
        ticket_id = f"TK{scramble((_K_TICKET << 56) | (day << 40) | k):016x}"
        if via is None:
            r = rng.random()
            via = "email" if r < 0.72 else "web" if r < 0.92 else "phone" if r < 0.97 else "api"
        priority = rng.choices(("low", "normal", "high", "urgent"), (0.1, 0.65, 0.2, 0.05))[0]
        if intent.name in ("cancel_service", "complaint") and priority in ("low", "normal"):
            priority = "high"
        requester = {
            "email": messy_email(rng, c.email, 0.7) if via != "phone" else None,
            "phone": messy_phone(rng, c.phone) if via == "phone" or rng.random() < 0.1 else None,
            "customer_ref": c.ref if via in ("web", "api") and rng.random() < 0.6 else None,
        }
        tags = list(cat.TICKET_TAGS[intent.name][:1])
        if rng.random() < 0.2:
            tags.append(rng.choice(cat.TICKET_TAGS[intent.name]))
            tags = list(dict.fromkeys(tags))
        doc = {
            "id": ticket_id,
            "subject": rng.choice(intent.openers).capitalize() + rng.choice(_SUBJECT_SUFFIX),
            "created_at": cc.clock.fmt_utc(t0),
            "via": {"channel": via},
            "priority": priority,
            "requester": requester,
            "group": intent.queue,
            "tags": tags,
        }
        tk = Ticket(ticket_id, c, intent, doc)
        n = 0

        def say(t: int, role: str, author: str | None, public: bool, body: str) -> None:
            nonlocal n
            n += 1
            cid = f"TC{scramble((_K_COMMENT << 56) | (day << 40) | (k << 8) | n):016x}"
            comment = {"id": cid, "author_role": role, "author_id": author, "public": public, "body": body}
            tk.comments.append((t, comment))
            if role == "agent" and public and not cc.is_open(t, tzi) and cc.rows.in_period(t, tzi):
                self.truths["after_hours_replies"].append(cid)

        say(t0, "end-user", None, True, rng.choice(intent.openers))
        tk.statuses.append((t0, "new", "end-user"))
        if via in ("email", "web"):
            say(t0 + 5 + int(rng.random() * 55), "system", None, True, _AUTO_REPLY)
        agent = rng.choice(cc.by_queue[intent.queue])
        if rng.random() < 0.1:
            agent = self.after_hours_agent
        t = t0
        if rng.random() < 0.3:
            t = self._agent_time(rng, t0, tzi, agent)
            say(t, "agent", agent, False, rng.choice(_INTERNAL))
            tk.assigned = (t, agent)
        t = self._agent_time(rng, t, tzi, agent)
        tk.assigned = tk.assigned or (t, agent)
        resolves = cc.resolves(rng, agent, 0.55)
        calls = rng.random() < EMAIL_THEN_CALL
        if resolves and not calls:
            say(t, "agent", agent, True, rng.choice(_SOLVE))
            tk.statuses.append((t, "solved", "agent"))
        else:
            say(t, "agent", agent, True, rng.choice(_ASK))
            tk.statuses.append((t, "pending", "agent"))
            if calls:
                # Not helped yet, the customer calls about the same problem two days after writing.
                t_call = t0 + 2 * 86400 + int(rng.random() * 4 * 3600) - 7200
                self.calls.setdefault(cc.clock.local_day(t_call, tzi), []).append((c, intent, t_call, ticket_id))
                tk.statuses.append((t + AUTO_SOLVE_SECONDS, "solved", "system"))
            elif rng.random() < 0.12:  # the customer never answers: the automation solves it
                tk.statuses.append((t + AUTO_SOLVE_SECONDS, "solved", "system"))
            else:
                t = t + 3600 + int(rng.expovariate(1 / (10 * 3600)))
                say(t, "end-user", None, True, rng.choice(_CUSTOMER_MORE))
                tk.statuses.append((t, "open", "end-user"))
                t = self._agent_time(rng, t, tzi, agent)
                say(t, "agent", agent, True, rng.choice(_SOLVE))
                tk.statuses.append((t, "solved", "agent"))
        if tk.statuses[-1][2] == "agent" and rng.random() < REOPEN:
            t = tk.statuses[-1][0] + 3 * 3600 + int(rng.random() * 2 * 86400)
            say(t, "end-user", None, True, rng.choice(_REOPEN))
            tk.statuses.append((t, "open", "end-user"))
            t = self._agent_time(rng, t, tzi, agent)
            if rng.random() < 0.4:
                say(t, "agent", agent, False, rng.choice(_INTERNAL))
                t += 600 + int(rng.random() * 3600)
            say(t, "agent", agent, True, rng.choice(_SOLVE))
            tk.statuses.append((t, "solved", "agent"))
            if cc.rows.in_period(tk.statuses[-2][0], tzi):  # the reopening is in the exported days
                self.truths["reopened"].append(ticket_id)
        solved_at = tk.statuses[-1][0]
        if rng.random() < 0.3:
            good = rng.random() < (0.35 if len(tk.statuses) > 3 or calls else 0.8)
            tk.rating = (solved_at + 1800 + int(rng.random() * 86400), "good" if good else "bad")
        tk.statuses.append((solved_at + CLOSE_SECONDS, "closed", "system"))
        end = t0 + MAX_LIFE_SECONDS
        tk.comments = [x for x in tk.comments if x[0] <= end]
        tk.statuses = [x for x in tk.statuses if x[0] <= end]
        if tk.rating and tk.rating[0] > end:
            tk.rating = None
        last = max([x[0] for x in tk.comments] + [x[0] for x in tk.statuses] + ([tk.rating[0]] if tk.rating else []))
        tk.last_day = cc.clock.local_day(last, tzi)
        return tk

    def after_faq(self, rng: random.Random, c: Person, intent: cat.Intent, read_at: int, read_end: int) -> None:
        """Self-service failure through the help desk (planted truth ``faq_then_ticket``): a reader of the failing
        article who neither calls nor chats e-mails the help desk about the same problem 1 to 6 hours later."""
        t0 = read_end + 3600 + int(rng.random() * 5 * 3600)
        if not self.cc.rows.in_period(t0, c.tzi):
            return
        day = self.cc.clock.local_day(t0, c.tzi)
        k = _FAQ_TICKET_K + len(self.truths["faq_then_ticket"])
        tk = self.create(rng, day, k, c, intent=intent, t0=t0, via="email")
        self.open.append(tk)
        self.truths["faq_then_ticket"].append(
            {"ticket_id": tk.ticket_id, "customer_ref": c.ref, "intent": intent.name, "read_at": read_at}
        )

    # --- one day ---------------------------------------------------------------------------------------

    def day(self, day: int) -> None:
        """The day's follow-up calls, then its new tickets (after every other contact of the day: the other
        exports' ids and draws do not change)."""
        cc = self.cc
        for n, (c, intent, t_call, ticket_id) in enumerate(self.calls.pop(day, [])):
            rng = random.Random(f"tickets-call:{self.seed}:{day}:{n}")
            inbound_call(cc, rng, c, intent, t_call)
            self.truths["email_then_call"].append(
                {"ticket_id": ticket_id, "customer_ref": c.ref, "intent": intent.name, "call_started_at": t_call}
            )
        rng = random.Random(f"tickets:{self.seed}:{day}")
        wd = cc.weekday(day)
        eligible = [c for c in self.customers if c.churn_day > day]
        expected = len(self.customers) * TICKET_RATE * (1.0 if wd < 5 else 0.5)
        count = int(expected) + (rng.random() < expected - int(expected))
        for k in range(count):
            self.open.append(self.create(rng, day, k, rng.choice(eligible)))

    def export(self, day: int, day_iso: str, out_dir, files: list[str]) -> int:
        """Write ``tickets/tickets_<day>.jsonl``: every ticket with an update on local day ``day``, as it stood at
        the end of that day. Returns the number of tickets written."""
        cc = self.cc
        lines = []
        for tk in self.open:
            tzi = tk.customer.tzi
            changed = {cc.clock.local_day(t, tzi) for t, _ in tk.comments} | {
                cc.clock.local_day(t, tzi) for t, _, _ in tk.statuses
            }
            if tk.rating:
                changed.add(cc.clock.local_day(tk.rating[0], tzi))
            if day in changed:
                cutoff = cc.clock.local_to_epoch(tzi, day + 1, 0) - 1
                lines.append((cc.clock.local_to_epoch(tzi, day, 0), tk.ticket_id, tk.snapshot(cc, cutoff)))
        self.open = [tk for tk in self.open if tk.last_day > day]
        lines.sort(key=lambda x: (x[0], x[1]))
        rel = f"tickets/tickets_{day_iso}.jsonl"
        (out_dir / "tickets").mkdir(parents=True, exist_ok=True)
        with open(out_dir / rel, "w", encoding="utf-8", newline="\n") as f:
            for _, _, doc in lines:
                f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
                f.write("\n")
        files.append(rel)
        self.rows += len(lines)
        return len(lines)

    def planted(self) -> dict:
        fmt = self.cc.clock.fmt_utc
        return {
            "after_hours_agent": self.after_hours_agent,
            "after_hours_replies": len(self.truths["after_hours_replies"]),
            "reopened_tickets": sorted(self.truths["reopened"]),
            "email_then_call": [
                {**x, "call_started_at": fmt(x["call_started_at"])} for x in self.truths["email_then_call"]
            ],
            "auto_reply_text": _AUTO_REPLY,
            "faq_then_ticket": [{**x, "read_at": fmt(x["read_at"])} for x in self.truths["faq_then_ticket"]],
        }
