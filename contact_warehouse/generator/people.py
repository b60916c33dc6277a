"""The simulated population: CRM customers, anonymous web visitors, agents, and how their identifiers are
written (messily) by the different tools."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import (
    AREA_CODES,
    INTENTS_BY_NAME,
    QUEUE_AGENT_SHARE,
    QUEUES,
    STRONG_AGENT_INTENT,
    TZ_WEIGHTS,
    WEAK_AGENT_QUEUES,
)
from .texts import AGENT_NAMES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES

_M64 = (1 << 64) - 1
NO_CHURN = 1 << 30


def scramble(n: int) -> int:
    """A bijection on 64-bit integers: sequential counters become random-looking, still unique, ids."""
    n = (n * 0x9E3779B97F4A7C15) & _M64
    n ^= n >> 29
    n = (n * 0xBF58476D1CE4E5B9) & _M64
    n ^= n >> 32
    return n


def phone_e164(rng: random.Random, tzi: int) -> str:
    area = rng.choice(AREA_CODES[tzi])
    while True:
        exchange = rng.randrange(200, 1000)
        if exchange != 555 and exchange % 100 != 11:
            break
    return f"+1{area}{exchange}{rng.randrange(10000):04d}"


def format_phone(e164: str, style: int) -> str:
    """Render +1NPANXXXXXX in one of the styles the tools produce (0 keeps E.164)."""
    if style == 0 or not e164.startswith("+1") or len(e164) != 12:
        return e164
    a, b, c = e164[2:5], e164[5:8], e164[8:]
    if style == 1:
        return f"({a}) {b}-{c}"
    if style == 2:
        return f"+1 {a} {b} {c}"
    if style == 3:
        return f"{a}{b}{c}"
    if style == 4:
        return f"{a}.{b}.{c}"
    return f"1-{a}-{b}-{c}"


def messy_phone(rng: random.Random, e164: str, p_clean: float = 0.4) -> str:
    if rng.random() < p_clean:
        return e164
    return format_phone(e164, 1 + int(rng.random() * 5))


def messy_email(rng: random.Random, email: str, p_clean: float = 0.75) -> str:
    r = rng.random()
    if r < p_clean:
        return email
    r = (r - p_clean) / (1 - p_clean)
    if r < 0.4:
        local, _, domain = email.partition("@")
        return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
    if r < 0.7:
        return email.upper()
    return f"  {email} " if r < 0.85 else f" {email}"


@dataclass(slots=True)
class Person:
    """A CRM customer (``ref`` set) or an anonymous web visitor (``ref`` empty)."""

    idx: int
    ref: str
    email: str
    phone: str  # E.164 the person calls from
    tzi: int
    tier: str
    created_at: str
    churn_day: int  # day index of churn (negative: before the period; NO_CHURN: never)
    propensity: float
    digital: float
    visitors: tuple[str, ...]
    alt_phone: str
    crm_phone: str = ""  # the phone as written in the CRM (messy)
    crm_email: str = ""
    switchboard: bool = False
    over_contacted: bool = False


def _visitor_id(kind: int, n: int) -> str:
    return f"v-{scramble((kind << 48) | n):016x}"


def make_customers(n: int, seed: int, start_date: date) -> tuple[list[Person], str]:
    """The CRM population and the shared switchboard number (five business customers share it)."""
    rng = random.Random(f"customers:{seed}")
    people: list[Person] = []
    phones: set[str] = set()
    emails: set[str] = set()
    tz_cum = []
    acc = 0.0
    for w in TZ_WEIGHTS:
        acc += w
        tz_cum.append(acc)
    for i in range(n):
        r = rng.random() * acc
        tzi = next(k for k, c in enumerate(tz_cum) if r < c)
        phone = phone_e164(rng, tzi)
        while phone in phones:
            phone = phone_e164(rng, tzi)
        phones.add(phone)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}{rng.randrange(1, 100)}@{rng.choice(EMAIL_DOMAINS)}"
        while email in emails:
            email = f"{first}.{last}{rng.randrange(100, 100000)}@{rng.choice(EMAIL_DOMAINS)}"
        emails.add(email)
        created = start_date - timedelta(days=rng.randrange(1, 3900))
        created_at = (
            f"{created.isoformat()}T{8 + rng.randrange(12):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
        )
        r = rng.random()
        churn_day = NO_CHURN
        if r < 0.015:
            churn_day = -rng.randrange(1, 200)
        elif r < 0.03:
            churn_day = rng.randrange(0, 28)
        n_visitors = 1 if rng.random() < 0.7 else 2
        visitors = tuple(_visitor_id(1, i * 4 + v) for v in range(n_visitors))
        alt_phone = phone_e164(rng, tzi)
        person = Person(
            idx=i,
            ref=f"C{i + 1:06d}",
            email=email,
            phone=phone,
            tzi=tzi,
            tier="high" if rng.random() < 0.15 else "standard",
            created_at=created_at,
            churn_day=churn_day,
            propensity=min(rng.gammavariate(1.3, 1 / 1.3), 6.0),
            digital=rng.betavariate(2.0, 2.0),
            visitors=visitors,
            alt_phone=alt_phone,
        )
        r = rng.random()
        if r < 0.006:
            person.crm_phone = "n/a"
        elif r < 0.009:
            person.crm_phone = "12345"
        elif r < 0.03:
            person.crm_phone = ""
        else:
            person.crm_phone = messy_phone(rng, phone, 0.3)
        person.crm_email = "" if rng.random() < 0.02 else messy_email(rng, email, 0.8)
        people.append(person)

    # The switchboard: five business customers whose calls all come from one shared number.
    trng = random.Random(f"switchboard:{seed}")
    switchboard = phone_e164(trng, 0)
    while switchboard in phones:
        switchboard = phone_e164(trng, 0)
    candidates = [p for p in people if p.churn_day == NO_CHURN]
    for k, p in enumerate(trng.sample(candidates, min(5, len(candidates)))):
        p.switchboard = True
        p.phone = switchboard
        p.alt_phone = switchboard
        p.tzi = 0
        p.tier = "high"
        p.crm_phone = format_phone(switchboard, k % 6)
    return people, switchboard


def make_visitors(n: int, seed: int) -> list[Person]:
    """Anonymous web visitors: a cookie and a timezone, nothing else."""
    rng = random.Random(f"visitors:{seed}")
    out = []
    for i in range(n):
        r = rng.random()
        tzi = 0 if r < 0.47 else 1 if r < 0.76 else 2 if r < 0.83 else 3
        out.append(
            Person(
                idx=i,
                ref="",
                email="",
                phone="",
                tzi=tzi,
                tier="",
                created_at="",
                churn_day=NO_CHURN,
                propensity=1.0,
                digital=1.0,
                visitors=(_visitor_id(2, i),),
                alt_phone="",
            )
        )
    return out


@dataclass
class Agents:
    ids: list[str]
    names: dict[str, str]
    by_queue: dict[str, list[str]]
    weak_agent: str
    strong_agent: str = ""


def make_agents(n_customers: int, seed: int) -> Agents:
    n = max(20, min(400, n_customers // 60))
    ids = [f"A{k + 1:03d}" for k in range(n)]
    by_queue: dict[str, list[str]] = {q: [] for q in QUEUES}
    shares = [(q, QUEUE_AGENT_SHARE[q]) for q in QUEUES]
    # Deterministic assignment: agent k goes to the queue furthest below its target share.
    for k, a in enumerate(ids):
        q = max(shares, key=lambda s: s[1] * (k + 1) - len(by_queue[s[0]]))[0]
        by_queue[q].append(a)
    names = {a: AGENT_NAMES[k % len(AGENT_NAMES)] for k, a in enumerate(ids)}
    rng = random.Random(f"agents:{seed}")
    weak_queue = rng.choice(WEAK_AGENT_QUEUES)
    weak = rng.choice(by_queue[weak_queue])
    # A generator of its own: the weak agent's draw stays what it was before the strong agent existed.
    srng = random.Random(f"strong-agent:{seed}")
    strong = srng.choice([a for a in by_queue[INTENTS_BY_NAME[STRONG_AGENT_INTENT].queue] if a != weak])
    return Agents(ids, names, by_queue, weak, strong)
