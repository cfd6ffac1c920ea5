"""Keyset pagination for list endpoints: `limit` rows after an opaque `cursor`, in a stable order.

The cursor encodes the sort key of the last row of the previous page (never an offset), so a page
costs the same at the end of a list of 5,000 as at its start, and rows added or removed between
two requests shift nothing. Rows the caller may not see are skipped without ending the page early."""
import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import tuple_
from sqlmodel import Session

from controlplane.services.errors import Invalid

T = TypeVar("T")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def encode(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, width: int) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        key = None
    if not isinstance(key, list) or len(key) != width or not all(isinstance(k, str) for k in key):
        raise Invalid("cursor is not one this list gave out: pass `next_cursor` from the previous page as it is, "
                      "or leave it out to start from the first page")
    return key


def page(session: Session, stmt: Any, keys: Sequence[Any], key_of: Callable[[T], Sequence[Any]], limit: int,
         cursor: str | None, visible: Callable[[T], bool] = lambda _r: True) -> tuple[list[T], str | None]:
    """Up to `limit` visible rows of `stmt` ordered by the columns `keys` (unique together), after
    `cursor`; and the cursor of the next page (None on the last)."""
    after = decode(cursor, len(keys)) if cursor else None
    out: list[T] = []
    batch = limit + 1
    while len(out) <= limit:
        q = stmt.order_by(*keys).limit(batch)
        if after is not None:
            q = q.where(tuple_(*keys) > tuple_(*after)) if len(keys) > 1 else q.where(keys[0] > after[0])
        rows = list(session.exec(q))
        for row in rows:
            after = list(key_of(row))
            if visible(row):
                out.append(row)
        if len(rows) < batch:
            break
        batch = min(batch * 2, 5000)
    if len(out) > limit:
        return out[:limit], encode(key_of(out[limit - 1]))
    return out, None
