"""The one row writer of the simulation: a typed row per CSV export, the day file each row lands in, and ids.

Channels build rows with named fields (times as epoch seconds) and hand them to :class:`RowWriter`, which
formats them in the export's column order and keeps them per local day of the customer until the day's files
are written (:class:`~.writers.Writer`). A row whose day falls after the generated period is dropped: later
episodes never write into days already written, and earlier days never depend on how many days are generated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from .clock import Clock
from .people import scramble
from .writers import HEADERS, DayBuffer

# Id kinds: the high bits of the scrambled counter, so that ids of different kinds never collide.
K_CALL, K_CHAT, K_MSG, K_SMS, K_THREAD, K_SURVEY, K_VIEW, K_FORM = range(1, 9)

Local = Callable[[int, int], str]  # (epoch, timezone index) -> local ISO-8601 with offset


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


@dataclass(slots=True)
class CallRow:
    """One leg of a call as the phone system exports it. Times are epoch seconds; 0 means it never happened
    (a call that was never queued or answered). Durations are ``None`` when the leg had no agent."""

    call_id: str
    direction: str
    from_number: str
    to_number: str
    started_at: int
    ended_at: int
    status: str
    parent_call_id: str = ""
    customer_ref: str = ""
    queue: str = ""
    agent_id: str = ""
    queued_at: int = 0
    answered_at: int = 0
    hold_seconds: int | None = None
    silence_seconds: int | None = None
    wrap_seconds: int | None = None
    disposition: str = ""
    resolved: str = ""  # "true", "false", or "" when the agent did not record it

    def values(self, local: Local, tzi: int) -> tuple[str, ...]:
        return (
            self.call_id,
            self.parent_call_id,
            self.direction,
            self.from_number,
            self.to_number,
            self.customer_ref,
            self.queue,
            self.agent_id,
            local(self.started_at, tzi),
            local(self.queued_at, tzi) if self.queued_at else "",
            local(self.answered_at, tzi) if self.answered_at else "",
            local(self.ended_at, tzi),
            _text(self.hold_seconds),
            _text(self.silence_seconds),
            _text(self.wrap_seconds),
            self.status,
            self.disposition,
            self.resolved,
        )


@dataclass(slots=True)
class SmsRow:
    message_id: str
    thread_id: str
    direction: str
    from_number: str
    to_number: str
    sent_at: int
    agent_id: str
    body: str
    status: str

    def values(self, local: Local, tzi: int) -> tuple[str, ...]:
        return (
            self.message_id,
            self.thread_id,
            self.direction,
            self.from_number,
            self.to_number,
            local(self.sent_at, tzi),
            self.agent_id,
            self.body,
            self.status,
        )


@dataclass(slots=True)
class SurveyRow:
    response_id: str
    survey_type: str
    channel: str
    contact_id: str
    respondent: str
    responded_at: int
    score: int
    comment: str

    def values(self, local: Local, tzi: int) -> tuple[str, ...]:
        return (
            self.response_id,
            self.survey_type,
            self.channel,
            self.contact_id,
            self.respondent,
            local(self.responded_at, tzi),
            str(self.score),
            self.comment,
        )


@dataclass(slots=True)
class FaqViewRow:
    """A help-center page view; the help center exports UTC times."""

    view_id: str
    article_id: str
    visitor_id: str
    customer_ref: str
    viewed_at: int
    seconds_on_page: int
    vote: str
    search_query: str

    def values(self, utc: Callable[[int], str]) -> tuple[str, ...]:
        return (
            self.view_id,
            self.article_id,
            self.visitor_id,
            self.customer_ref,
            utc(self.viewed_at),
            str(self.seconds_on_page),
            self.vote,
            self.search_query,
        )


# (event time, node, event type, key): one IVR event of a call, in order.
IvrEvent = tuple[int, str, str, str]

_ROW_EXPORTS: tuple[tuple[type, str], ...] = (
    (CallRow, "calls"),
    (SmsRow, "sms"),
    (SurveyRow, "surveys"),
    (FaqViewRow, "faq_views"),
)
for _row, _export in _ROW_EXPORTS:
    # A column added to or renamed in the loader's contract must be added here too, not written as blanks.
    if {f.name for f in fields(_row)} != set(HEADERS[_export]):
        raise RuntimeError(f"{_row.__name__} does not have the columns of the {_export} export: {HEADERS[_export]}")


class RowWriter:
    """Collects every export's rows per local day of the simulated period, and hands out the day's ids."""

    def __init__(self, clock: Clock, days: int) -> None:
        self.clock = clock
        self.days = days
        self.buffers: dict[int, DayBuffer] = {}
        self.day = 0
        self.serial = 0

    def start_day(self, day: int) -> None:
        """Ids restart per simulated day: a day's ids do not depend on the days after it."""
        self.day = day
        self.serial = 0

    def new_id(self, kind: int, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{scramble((kind << 56) | (self.day << 40) | self.serial):016x}"

    def in_period(self, t: int, tzi: int) -> bool:
        """Whether a row at ``t`` (the local day in time zone ``tzi``) is written."""
        return self.clock.local_day(t, tzi) < self.days

    def _buffer(self, t: int, tzi: int) -> DayBuffer | None:
        d = self.clock.local_day(t, tzi)
        if d >= self.days:
            return None
        b = self.buffers.get(d)
        if b is None:
            b = self.buffers[d] = DayBuffer()
        return b

    def take_day(self, day: int) -> DayBuffer:
        """The rows of ``day``, removed from the writer (no later episode writes into that day)."""
        return self.buffers.pop(day, None) or DayBuffer()

    def call(self, row: CallRow, tzi: int) -> None:
        """A call leg lands in the file of the day it started."""
        buf = self._buffer(row.started_at, tzi)
        if buf is not None:
            buf.calls.append((row.started_at, row.values(self.clock.fmt_local, tzi)))

    def ivr_events(self, call_id: str, events: list[IvrEvent], tzi: int, call_started_at: int) -> None:
        """A call's IVR events land in the file of the day the call started, numbered from 1."""
        buf = self._buffer(call_started_at, tzi)
        if buf is not None:
            f = self.clock.fmt_local
            rows = buf.ivr_events
            for seq, (te, node, etype, key) in enumerate(events, 1):
                rows.append((te, (call_id, str(seq), f(te, tzi), node, etype, key)))

    def sms(self, row: SmsRow, tzi: int) -> None:
        buf = self._buffer(row.sent_at, tzi)
        if buf is not None:
            buf.sms.append((row.sent_at, row.values(self.clock.fmt_local, tzi)))

    def survey(self, row: SurveyRow, tzi: int, first_answer_at: int) -> None:
        """The answers to one invitation (NPS, CSAT or both) land in the file of the day of the first one."""
        buf = self._buffer(first_answer_at, tzi)
        if buf is not None:
            buf.surveys.append((row.responded_at, row.values(self.clock.fmt_local, tzi)))

    def faq_view(self, row: FaqViewRow, tzi: int, visit_started_at: int) -> None:
        """The pages of one visit land in the file of the day the visit started."""
        buf = self._buffer(visit_started_at, tzi)
        if buf is not None:
            buf.faq_views.append((row.viewed_at, row.values(self.clock.fmt_utc)))

    def chat(self, conversation: dict, created_at: int, tzi: int) -> None:
        buf = self._buffer(created_at, tzi)
        if buf is not None:
            buf.chat_conversations.append((created_at, conversation))

    def form(self, submission: dict, submitted_at: int, tzi: int) -> None:
        buf = self._buffer(submitted_at, tzi)
        if buf is not None:
            buf.form_submissions.append((submitted_at, submission))
