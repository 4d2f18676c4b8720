"""Canonical JSON and the event hash: the bytes that the hash chain is computed over."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """JSON with sorted keys, no spaces and unescaped unicode: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@lru_cache(maxsize=4096)
def _s(value: str | None) -> str:
    # Cached: release, actor, type and keys repeat across thousands of rows.
    return json.dumps(value, ensure_ascii=False)


def event_hash(seq: int, release: str, release_seq: int, type_: str, payload_text: str,
               actor: str, at: str, idempotency_key: str | None, prev_hash: str) -> str:
    """sha256 of the canonical JSON object of every column but `hash` (payload spliced as stored).

    Equal to `sha256(canonical({...all columns..., "payload": json.loads(payload_text)}))` when the
    payload text is canonical, which `append` guarantees; splicing the stored text means that
    verify never re-serialises, and that any byte changed in the stored payload shows.
    """
    text = (f'{{"actor":{_s(actor)},"at":{_s(at)},"idempotency_key":{_s(idempotency_key)},'
            f'"payload":{payload_text},"prev_hash":{_s(prev_hash)},"release":{_s(release)},'
            f'"release_seq":{int(release_seq)},"seq":{int(seq)},"type":{_s(type_)}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
