"""The simulation's rates and the parameters of its planted truths, in one place for every channel.

Changing a value here changes the generated data for every seed.
"""

from __future__ import annotations

# Local-time hour profiles of new problems (relative weights), hour 0 to 23.
HOURS_WEEKDAY = (
    (0.04, 0.02, 0.02, 0.02, 0.03, 0.07)  # 00-05
    + (0.2, 0.45, 0.9, 1.25, 1.3, 1.2)  # 06-11
    + (1.0, 1.1, 1.1, 1.0, 0.9, 0.75)  # 12-17
    + (0.55, 0.48, 0.38, 0.28, 0.17, 0.08)  # 18-23
)
HOURS_WEEKEND = (
    (0.05, 0.03, 0.02, 0.02, 0.02, 0.04)  # 00-05
    + (0.1, 0.25, 0.5, 0.8, 0.95, 1.0)  # 06-11
    + (0.95, 0.9, 0.85, 0.8, 0.7, 0.6)  # 12-17
    + (0.5, 0.45, 0.38, 0.3, 0.18, 0.09)  # 18-23
)
# New episodes per customer per day (times the customer's propensity), Monday..Sunday.
EPISODE_RATE = (0.092, 0.085, 0.083, 0.083, 0.08, 0.04, 0.022)
ANON_FAQ_RATE = 0.012  # anonymous help-center visits per CRM customer per day
ANON_CHAT_RATE = 0.0015  # anonymous bot chats per CRM customer per day
OPENING_HOURS = ((8, 21), (8, 21), (8, 21), (8, 21), (8, 21), (9, 18), (10, 16))  # agents, local time, Mon..Sun
MAX_SPAN_DAYS = 14  # no follow-up contact later than this after the episode started

# Planted truths (tests/test_generator.py and the cockpit tests find them in the data).
# Monday 08:00-11:00 volume of the spike intent relative to other weekdays. 5, not 3: tickets (spread over every
# hour) and follow-up contacts dilute the spike in the marts' contacts, where at 3 a noisy intent with a few Monday
# contacts (payment_arrangement, 21) could rank above it; the planted spike must be the clear strongest.
SPIKE_FACTOR = 5.0
FAILING_FOLLOW = 0.72  # readers of the failing article who then call or chat within 24 h
NORMAL_FOLLOW = 0.15
WEAK_RESOLVE = 0.30  # the weak agent's resolution rate
STRONG_RESOLVE = 0.95  # the strong agent's resolution rate on calls of the strong agent's intent
NORMAL_RESOLVE = 0.76  # every other agent's, on calls and SMS
CHAT_RESOLVE = 0.78  # every other agent's, in chats
MAX_OUTBOUND_7D = 7  # the dialer's limit of attempts per customer in 7 days (the planted customers exceed it)
CAMPAIGN_START_DAY = 1  # over-contacted customer k gets 10 attempts on days CAMPAIGN_START_DAY + k .. + 4
