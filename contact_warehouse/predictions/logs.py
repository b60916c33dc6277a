"""The prediction models' log lines (python ``logging``, logger ``contact_warehouse.predictions``) in dbt's log:
a dbt Python model runs inside dbt, whose events do not include the standard logging of the code it calls."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

LOGGER = "contact_warehouse.predictions"


@contextlib.contextmanager
def forwarded_to_dbt() -> Iterator[None]:
    """While in the block, INFO and above of ``LOGGER`` are written to dbt's log (console and logs/dbt.log) as
    adapter events (each line says which model); the logger's level and handlers are as before afterwards."""
    from dbt.adapters.events.logging import AdapterLogger  # only inside dbt: the library never needs dbt

    dbt_log = AdapterLogger("contact_warehouse")

    class ToDbt(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            (dbt_log.warning if record.levelno >= logging.WARNING else dbt_log.info)(record.getMessage())

    logger, handler = logging.getLogger(LOGGER), ToDbt(logging.INFO)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False  # once, in dbt's log, not again on stdout by a handler of the root logger
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
