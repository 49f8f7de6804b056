"""Hand a generated document out in the asked format and record the generation as an event.

The event (action ``<kind>.generate``, e.g. ``report.generate``) carries the name, the parameters,
the format, the size and the SHA-256 of the bytes handed out, so a file can later be matched to its
generation. ``json`` is the document itself as canonical JSON (sorted keys, no spaces).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine

from oson_operator.domain.errors import DomainError
from oson_operator.output import FORMATS, Document, Rendered, document_dict, render
from oson_operator.storage.access import Audit
from oson_operator.storage.events import append_event

ALL_FORMATS = ("json", *FORMATS)


def check_format(fmt: str) -> str:
    if fmt not in ALL_FORMATS:
        raise DomainError("FORMAT_UNKNOWN", status=422, params={"format": fmt})
    return fmt


def render_any(document: Document, fmt: str) -> Rendered:
    if fmt == "json":
        body = json.dumps({"document": document_dict(document)}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        return Rendered(body.encode("utf-8"), "application/json", "json")
    return render(document, fmt)


def publish(engine: Engine, audit: Audit, kind: str, name: str, parameters: dict[str, Any], document: Document,
            fmt: str) -> tuple[Rendered, str]:
    """Render, hash, record the event; returns the rendering and its SHA-256 (hex)."""
    rendered = render_any(document, check_format(fmt))
    digest = hashlib.sha256(rendered.body).hexdigest()
    with engine.begin() as connection:
        append_event(connection, audit.event(
            f"{kind}.generate", record_type=kind, record_id=name,
            details={"parameters": parameters, "format": fmt, "bytes": len(rendered.body), "sha256": digest,
                     "language": document.language}))
    return rendered, digest
