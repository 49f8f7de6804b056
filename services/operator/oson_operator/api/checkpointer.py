"""Background task: a signed event-log checkpoint every ``event_checkpoint_interval_seconds``.

Started from the application lifespan; does nothing unless ``event_signing_key_file`` is set and
the interval is above zero. Every app VM runs it; a transaction-level advisory lock makes only one
of them write a given checkpoint, and nothing is written while no event has arrived. A failure
(database down, export directory full) is logged and retried at the next interval: it must never
stop the service.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from oson_operator.storage.events import EventKeyError, load_private_key, write_checkpoint

log = logging.getLogger("oson_operator.events.checkpointer")


async def run_checkpointer(app_state: Any, stop: asyncio.Event) -> None:
    """Write checkpoints until ``stop`` is set. ``app_state`` is ``app.state`` (settings, engine)."""
    settings = app_state.settings
    interval = float(settings.event_checkpoint_interval_seconds)
    if settings.event_signing_key_file is None or interval <= 0:
        log.info("event-log checkpoints are off (OSON_EVENT_SIGNING_KEY_FILE unset or interval 0)")
        return
    try:
        key = load_private_key(settings.event_signing_key_file)
    except EventKeyError as exc:
        log.error("event-log checkpoints are off: %s", exc)
        return
    export_dir = settings.event_checkpoint_dir
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        try:
            checkpoint = await asyncio.to_thread(
                write_checkpoint, app_state.engine, key, export_dir, skip_if_busy=True, skip_if_unchanged=True
            )
        except Exception:  # the next interval tries again
            log.exception("event-log checkpoint failed")
            continue
        if checkpoint is not None:
            log.info("event-log checkpoint %s written", checkpoint.id)
