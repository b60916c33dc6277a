"""Static reference data of the synthetic contact center: intents and every tool's codes for them, the IVR
tree, queues, FAQ articles and phone-number areas (the texts people write are in :mod:`.texts`).

The intent knowledge base committed in ``dbt_project/knowledge_base`` is derived from this module (``INTENTS``
and :func:`intent_code_rows`); a test checks that every intent and code stays in it.
"""

from __future__ import annotations

from dataclasses import dataclass

TIMEZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)

# Area codes per timezone index (all accepted by phonenumbers as valid US numbers with exchanges 200-999).
AREA_CODES: tuple[tuple[int, ...], ...] = (
    (212, 646, 718, 917, 617, 404, 305, 919, 215, 202, 704, 407),
    (312, 773, 214, 713, 512, 612, 314, 615, 414),
    (303, 720, 801, 505, 406, 307),
    (415, 213, 310, 206, 503, 702, 619, 408, 916, 509),
)
TZ_WEIGHTS: tuple[float, ...] = (0.47, 0.29, 0.07, 0.17)

# The company's own numbers (toll-free, E.164).
MAIN_NUMBER = "+18882735500"
SMS_NUMBER = "+18882735501"
OUTBOUND_NUMBER = "+18882735502"

QUEUES: tuple[str, ...] = ("billing", "tech_support", "accounts", "retention", "sales")
QUEUE_AGENT_SHARE: dict[str, float] = {
    "billing": 0.30,
    "tech_support": 0.30,
    "accounts": 0.12,
    "retention": 0.13,
    "sales": 0.15,
}
# Candidates for the planted truths (the seed picks one of each).
SLOW_QUEUE_CANDIDATES: tuple[str, ...] = ("accounts", "retention")
WEAK_AGENT_QUEUES: tuple[str, ...] = ("billing", "tech_support")
# The strong agent (another agent of this intent's queue, drawn by the seed) resolves this intent's calls best.
STRONG_AGENT_INTENT = "billing_question"

# IVR: the generic nodes carry no intent; the leaves do.
GENERIC_IVR_NODES: tuple[str, ...] = ("identify", "main_menu", "billing_menu", "tech_menu", "account_menu")

UNMAPPED_DISPOSITION = "misc_other"
UNMAPPED_CHAT_TAG = "vip"
UNMAPPED_FORM_TOPIC = "other"
UNMAPPED_CODES: tuple[tuple[str, str], ...] = (
    ("call_disposition", UNMAPPED_DISPOSITION),
    ("chat_tag", UNMAPPED_CHAT_TAG),
    ("form_topic", UNMAPPED_FORM_TOPIC),
)


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    section: str
    weight: float
    search: tuple[str, ...]


@dataclass(frozen=True)
class Intent:
    name: str
    description: str
    value_weight: float
    share: float  # share of episodes
    queue: str
    main_key: str
    submenu: str | None  # generic submenu node, None when the main menu key leads to the leaf
    sub_key: str | None
    leaf: str  # intent-bearing IVR node
    ivr_self_service: float  # probability the IVR leaf completes in self-service
    bot_resolve: float  # probability the chat bot alone resolves it
    digital: float  # how digital the intent is (FAQ, chat, form share multiplier)
    dispositions: tuple[str, ...]
    bot_intent: str
    chat_tags: tuple[str, ...]
    form_topic: str
    articles: tuple[Article, ...]
    transfer_to: str  # queue a mis-routed call is transferred to
    openers: tuple[str, ...]  # customer's first message (chat, sms, form)


def _a(article_id: str, title: str, section: str, weight: float, *search: str) -> Article:
    return Article(article_id, title, section, weight, tuple(search))


INTENTS: tuple[Intent, ...] = (
    Intent(
        "login_issue",
        "Cannot sign in: forgotten password, locked account, two-factor code not received.",
        1.5,
        0.14,
        "tech_support",
        "2",
        "tech_menu",
        "1",
        "login_help",
        0.35,
        0.45,
        1.3,
        ("login_reset", "account_unlocked"),
        "account.login_problem",
        ("login", "password"),
        "login",
        (
            _a("KB-1001", "Reset your password", "Account & sign-in", 3.0, "reset password", "forgot password"),
            _a("KB-1002", "Unlock a locked account", "Account & sign-in", 1.5, "account locked", "locked out"),
            _a("KB-1003", "Two-factor code not arriving", "Account & sign-in", 1.0, "2fa code", "verification code"),
        ),
        "accounts",
        (
            "I can't log in to my account",
            "my password reset link doesn't work",
            "I'm locked out of my account",
            "the verification code never arrives",
        ),
    ),
    Intent(
        "billing_question",
        "Questions about a bill: unexpected charges, fees, how the bill is computed.",
        2.0,
        0.19,
        "billing",
        "1",
        "billing_menu",
        "3",
        "billing_agent",
        0.0,
        0.2,
        1.0,
        ("billing_inquiry", "billing_adjustment"),
        "billing.question",
        ("billing",),
        "billing",
        (
            _a("KB-2001", "How to read your bill", "Billing & payments", 4.0, "understand my bill", "bill explained"),
            _a("KB-2002", "Why did my bill go up?", "Billing & payments", 2.0, "bill higher", "extra charge"),
            _a("KB-2003", "Late fees and how to avoid them", "Billing & payments", 1.0, "late fee"),
        ),
        "retention",
        (
            "why is my bill so high this month",
            "there's a charge on my bill I don't recognise",
            "I was charged twice",
            "can you explain the fees on my bill",
        ),
    ),
    Intent(
        "cancel_service",
        "The customer wants to cancel the service or close the account.",
        4.0,
        0.06,
        "retention",
        "3",
        "account_menu",
        "2",
        "cancel_request",
        0.0,
        0.05,
        0.7,
        ("cancel_processed", "cancel_saved"),
        "account.cancel",
        ("cancellation", "retention"),
        "cancellation",
        (
            _a("KB-3001", "How to cancel your service", "Account & sign-in", 2.0, "cancel service", "close account"),
            _a("KB-3002", "Early termination fees", "Billing & payments", 1.0, "termination fee"),
        ),
        "billing",
        ("I want to cancel my service", "please close my account", "how do I cancel", "I'm switching providers"),
    ),
    Intent(
        "open_account",
        "A prospect or customer wants to open a new account or add a line.",
        5.0,
        0.07,
        "sales",
        "4",
        None,
        None,
        "new_account",
        0.0,
        0.1,
        1.1,
        ("new_account_opened", "sales_lead"),
        "sales.new_account",
        ("new_customer", "sales"),
        "new_account",
        (
            _a("KB-4001", "Open a new account", "Getting started", 2.5, "open account", "sign up"),
            _a("KB-4002", "Documents you need to sign up", "Getting started", 1.0, "documents needed"),
        ),
        "accounts",
        (
            "I'd like to open a new account",
            "how do I sign up",
            "can I add a second line",
            "what do I need to open an account",
        ),
    ),
    Intent(
        "balance_check",
        "The customer wants to know the balance or amount due.",
        1.0,
        0.12,
        "billing",
        "1",
        "billing_menu",
        "1",
        "balance_selfservice",
        0.8,
        0.75,
        1.2,
        ("balance_info",),
        "billing.balance",
        ("balance",),
        "balance",
        (
            _a("KB-2101", "Check your balance online", "Billing & payments", 2.0, "balance", "amount due"),
            _a("KB-2102", "When is my payment due?", "Billing & payments", 1.0, "due date"),
        ),
        "billing",
        ("what's my balance", "how much do I owe", "when is my payment due", "what is the amount due"),
    ),
    Intent(
        "payment_arrangement",
        "The customer cannot pay in full and needs a payment plan or an extension.",
        3.0,
        0.09,
        "billing",
        "1",
        "billing_menu",
        "2",
        "payment_plan",
        0.3,
        0.2,
        0.8,
        ("payment_plan_set", "payment_extension"),
        "billing.payment_plan",
        ("payment_plan",),
        "payment_plan",
        (
            _a("KB-2201", "Set up a payment arrangement", "Billing & payments", 2.0, "payment plan", "pay later"),
            _a("KB-2202", "Payment extension options", "Billing & payments", 1.0, "extension"),
        ),
        "retention",
        (
            "I can't pay my bill this month",
            "can I get a payment plan",
            "I need more time to pay",
            "can I split my payment",
        ),
    ),
    Intent(
        "technical_fault",
        "The service does not work: outage, no connection, device fault.",
        2.5,
        0.15,
        "tech_support",
        "2",
        "tech_menu",
        "2",
        "fault_report",
        0.05,
        0.15,
        1.0,
        ("tech_troubleshoot", "tech_dispatch"),
        "tech.fault",
        ("outage", "technical"),
        "technical",
        (
            _a("KB-5001", "Restart your router", "Technical help", 3.0, "no internet", "router"),
            _a("KB-5002", "Check for outages in your area", "Technical help", 2.0, "outage"),
            _a("KB-5003", "Slow connection troubleshooting", "Technical help", 1.5, "slow connection"),
        ),
        "billing",
        (
            "my internet has been down since this morning",
            "the service keeps dropping",
            "nothing works, no connection at all",
            "my device shows an error",
        ),
    ),
    Intent(
        "address_change",
        "The customer moves and needs the service address or billing address changed.",
        1.5,
        0.07,
        "accounts",
        "3",
        "account_menu",
        "1",
        "address_update",
        0.25,
        0.4,
        1.3,
        ("address_updated",),
        "account.address_change",
        ("address",),
        "address_change",
        (
            _a("KB-3101", "Update your address", "Account & sign-in", 2.0, "change address", "moving"),
            _a("KB-3102", "Moving your service to a new home", "Account & sign-in", 1.0, "move service"),
        ),
        "sales",
        ("I'm moving next month", "I need to change my address", "please update my billing address"),
    ),
    Intent(
        "upgrade_plan",
        "The customer wants a bigger plan, a new device or an add-on.",
        3.5,
        0.06,
        "sales",
        "3",
        "account_menu",
        "3",
        "plan_change",
        0.0,
        0.2,
        1.0,
        ("plan_upgraded", "upgrade_quote"),
        "sales.upgrade",
        ("upgrade",),
        "upgrade",
        (
            _a("KB-4101", "Compare our plans", "Getting started", 2.0, "plans", "upgrade"),
            _a("KB-4102", "Add-ons and extras", "Getting started", 1.0, "add on"),
        ),
        "billing",
        ("I want to upgrade my plan", "do you have faster plans", "can I add more data to my plan"),
    ),
    Intent(
        "complaint",
        "The customer complains about service quality or a previous contact.",
        3.0,
        0.05,
        "retention",
        "9",
        None,
        None,
        "complaints",
        0.0,
        0.02,
        0.8,
        ("complaint_logged",),
        "feedback.complaint",
        ("complaint",),
        "complaint",
        (_a("KB-6001", "How to make a complaint", "Contact us", 1.0, "complaint"),),
        "accounts",
        (
            "I want to make a formal complaint",
            "nobody has fixed my problem after three calls",
            "your service has been terrible lately",
        ),
    ),
)
INTENTS_BY_NAME: dict[str, Intent] = {i.name: i for i in INTENTS}

# The article whose readers mostly still call or chat (planted truth); the seed does not change it.
FAILING_ARTICLE = "KB-2001"
MONDAY_SPIKE_INTENT = "login_issue"

ARTICLE_UPDATED: dict[str, str] = {}  # filled below: article_id -> updated_at (UTC)
for _n, _intent in enumerate(INTENTS):
    for _k, _art in enumerate(_intent.articles):
        ARTICLE_UPDATED[_art.article_id] = (
            f"2026-{1 + (_n * 3 + _k) % 9:02d}-{1 + (_n * 7 + _k * 5) % 27:02d}T{9 + _k:02d}:{(_n * 13) % 60:02d}:00Z"
        )


# The help desk's ticket tags per intent (a category tag first, then tags agents add).
TICKET_TAGS: dict[str, tuple[str, ...]] = {
    "login_issue": ("cat_login", "password_reset"),
    "billing_question": ("cat_billing", "double_charge"),
    "cancel_service": ("cat_cancellation",),
    "open_account": ("cat_new_account",),
    "balance_check": ("cat_balance",),
    "payment_arrangement": ("cat_payment_plan", "overdue"),
    "technical_fault": ("cat_technical", "no_service"),
    "address_change": ("cat_address",),
    "upgrade_plan": ("cat_upgrade",),
    "complaint": ("cat_complaint", "escalated"),
}


def intent_code_rows() -> list[tuple[str, str, str]]:
    """Rows of ``knowledge_base/intent_codes.csv``: every mapped code of every tool."""
    rows: list[tuple[str, str, str]] = []
    kinds = ("ivr_node", "call_disposition", "chat_bot_intent", "chat_tag", "faq_article", "form_topic", "ticket_tag")
    for kind in kinds:
        for i in INTENTS:
            if kind == "ivr_node":
                codes: tuple[str, ...] = (i.leaf,)
            elif kind == "call_disposition":
                codes = i.dispositions
            elif kind == "chat_bot_intent":
                codes = (i.bot_intent,)
            elif kind == "chat_tag":
                codes = i.chat_tags
            elif kind == "faq_article":
                codes = tuple(a.article_id for a in i.articles)
            elif kind == "ticket_tag":
                codes = TICKET_TAGS[i.name]
            else:
                codes = (i.form_topic,)
            rows.extend((kind, c, i.name) for c in codes)
    return rows


def all_articles() -> list[tuple[Article, Intent]]:
    return [(a, i) for i in INTENTS for a in i.articles]
