"""Fast time arithmetic and ISO-8601 formatting for the generator.

Times are integer epoch seconds (UTC). Local times use precomputed hourly UTC-offset tables per timezone
(daylight saving time included), and formatted strings are built from a per-minute prefix cache.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .catalog import TIMEZONES

_SEC = tuple(f"{s:02d}" for s in range(60))


def _suffix(offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    o = abs(offset)
    return f"{sign}{o // 3600:02d}:{o % 3600 // 60:02d}"


class Clock:
    """Epoch/local conversions for the simulated period (plus margins)."""

    def __init__(self, start_date: date, horizon_days: int) -> None:
        self.start_date = start_date
        # Naive local seconds are counted from start_date 00:00 "as if UTC".
        self.base = int(datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC).timestamp())
        self.t0 = self.base - 2 * 86400
        n_hours = (horizon_days + 5) * 24
        self.offsets: list[list[int]] = []
        for name in TIMEZONES:
            zone = ZoneInfo(name)
            table = []
            for h in range(n_hours):
                dt = datetime.fromtimestamp(self.t0 + h * 3600, tz=UTC).astimezone(zone)
                table.append(int(dt.utcoffset().total_seconds()))  # type: ignore[union-attr]
            self.offsets.append(table)
        self.n_hours = n_hours
        self._prefix: dict[int, str] = {}
        self._suffix = {o: _suffix(o) for table in self.offsets for o in set(table)}
        self._epoch = datetime(1970, 1, 1)

    def offset(self, t: int, tzi: int) -> int:
        h = (t - self.t0) // 3600
        if h < 0:
            h = 0
        elif h >= self.n_hours:
            h = self.n_hours - 1
        return self.offsets[tzi][h]

    def local_to_epoch(self, tzi: int, day: int, secs: int) -> int:
        """Epoch of ``secs`` seconds after local midnight of day index ``day`` in timezone ``tzi``."""
        naive = self.base + day * 86400 + secs
        t = naive - self.offset(naive, tzi)
        return naive - self.offset(t, tzi)

    def local_day(self, t: int, tzi: int) -> int:
        """Day index (0 = start_date) of epoch ``t`` in timezone ``tzi``."""
        return (t + self.offset(t, tzi) - self.base) // 86400

    def local_secs(self, t: int, tzi: int) -> int:
        """Seconds since local midnight."""
        return (t + self.offset(t, tzi) - self.base) % 86400

    def _pre(self, minute: int) -> str:
        p = self._prefix.get(minute)
        if p is None:
            p = (self._epoch + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:")
            self._prefix[minute] = p
        return p

    def fmt_local(self, t: int, tzi: int) -> str:
        """``2026-10-05T09:14:03-04:00`` in the timezone's local offset."""
        o = self.offset(t, tzi)
        local = t + o
        return self._pre(local // 60) + _SEC[local % 60] + self._suffix[o]

    def fmt_utc(self, t: int) -> str:
        """``2026-10-05T13:14:03Z``."""
        return self._pre(t // 60) + _SEC[t % 60] + "Z"

    def day_date(self, day: int) -> date:
        return self.start_date + timedelta(days=day)
