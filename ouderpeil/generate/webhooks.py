"""Message events as the messaging platform's webhooks deliver them: JSON lines.

Every line has the canonical keys (event_id, message_id, event_type, occurred_at with the
Europe/Amsterdam offset, error_code, feedback) plus platform fields the loader must ignore
(recipient phone number or e-mail address, provider, attempt). Lines are in arrival order:
at least once (duplicates keep their event_id), and sometimes out of order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ouderpeil.generate.calendar import utc_to_local
from ouderpeil.generate.dirt import DirtQuota, choose_disjoint, inject_rejects
from ouderpeil.generate.events import EVENT_TYPES
from ouderpeil.generate.ids import prefixed
from ouderpeil.generate.render import format_datetimes

EVENT_COLUMN_TYPES = {"occurred_at": "timestamptz"}
PROVIDER = "ouderapp-gateway"


def occurred_at_text(utc: np.ndarray) -> np.ndarray:
    local, offset = utc_to_local(utc)
    text = format_datetimes(local.astype("datetime64[s]"), "%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(
        pa.array(text, pa.string()), pa.array(np.where(offset == 2, "+02:00", "+01:00")), ""
    ).to_numpy(zero_copy_only=False)


def _json_value(values: np.ndarray) -> pa.Array:
    """'"v"' for text, 'null' for None (values hold no quotes or backslashes)."""
    arr = pa.array(values, pa.string())
    quoted = pc.binary_join_element_wise('"', arr, '"', "")
    return pc.if_else(pc.is_null(arr), "null", quoted) if arr.null_count else quoted


def recipients(messages: pd.DataFrame) -> np.ndarray:
    """Fake recipient per message: phone for SMS/WhatsApp, address for e-mail, device for app."""
    fam = messages["family_index"].to_numpy().astype("int64")
    channel = messages["channel"].to_numpy()
    phone = prefixed("+31600", (fam * 7919) % 1_000_000, 6)
    mail = prefixed("ouder", fam % 100_000, 5)
    mail = pc.binary_join_element_wise(pa.array(mail, pa.string()), "@example.nl", "").to_numpy(
        zero_copy_only=False
    )
    device = prefixed("device-", (fam * 104729) % 10**8, 8)
    return np.where(
        np.isin(channel, ("sms", "whatsapp")), phone, np.where(channel == "email", mail, device)
    )


def event_lines(
    rng,
    events: pd.DataFrame,
    messages: pd.DataFrame,
    id_prefix: str,
    id_base: int,
    quota: DirtQuota,
    dirt: dict,
    late_messages: np.ndarray | None = None,
) -> pa.Array:
    """JSON lines of one chunk in arrival order; dirt counts are added to ``dirt``.
    Events of ``late_messages`` (message rows held back to a later file) stay clean, so that
    every late event can be matched once its message arrives."""
    n = len(events)
    if n == 0:
        return pa.array([], pa.string())
    msg_row = events["message_row"].to_numpy()
    utc = events["utc"].to_numpy()
    counts = quota.next_chunk(n)

    # Out of order: the event arrives after the last event of the same message (events are
    # grouped by message here, in time order).
    # Every other event arrives in time order, so only the chosen ones are out of order.
    last = np.searchsorted(msg_row, msg_row, side="right") - 1
    candidates = np.nonzero((last > np.arange(n)) & (utc < utc[last]))[0]
    k_ooo = min(counts.pop("out_of_order_events"), len(candidates))
    ooo = np.sort(rng.choice(candidates, k_ooo, replace=False)) if k_ooo else np.array([], int)
    arrival = utc.copy()
    arrival[ooo] = utc[last[ooo]] + rng.integers(5, 6 * 3600, len(ooo))
    # Reject faults and duplicates never touch a message with an out-of-order event (so the
    # disorder stays visible to a reader), nor each other.
    protected = np.isin(msg_row, msg_row[ooo])
    if late_messages is not None and len(late_messages):
        protected |= np.isin(msg_row, late_messages)
    rows = choose_disjoint(rng, n, counts, exclude=np.nonzero(protected)[0])

    cells = {
        "event_id": prefixed(id_prefix, id_base + np.arange(n), 12),
        "message_id": messages["message_id"].to_numpy()[msg_row].astype(object),
        "event_type": EVENT_TYPES[events["event_type"].to_numpy()].astype(object),
        "occurred_at": occurred_at_text(utc),
        "error_code": events["error_code"].to_numpy(),
        "feedback": events["feedback"].to_numpy(),
    }
    inject_rejects(
        rng,
        cells,
        "message_events",
        "canonical",
        EVENT_COLUMN_TYPES,
        {k: rows[k] for k in ("unknown_labels", "bad_dates", "missing_required")},
    )
    recipient = recipients(messages)[msg_row]
    attempt = np.ones(n, dtype="int64")

    # At-least-once delivery: a retry repeats the event (same event_id) a little later.
    dup = rows["duplicate_events"]
    order_src = np.r_[np.arange(n), dup]
    arrival_all = np.r_[arrival, arrival[dup] + rng.integers(1, 2 * 3600, len(dup))]
    attempt_all = np.r_[attempt, np.full(len(dup), 2)]
    order = np.lexsort((np.arange(len(order_src)), arrival_all))
    src = order_src[order]

    parts = [
        '{"event_id":',
        _json_value(cells["event_id"][src]),
        ',"message_id":',
        _json_value(cells["message_id"][src]),
        ',"event_type":',
        _json_value(cells["event_type"][src]),
        ',"occurred_at":',
        _json_value(cells["occurred_at"][src]),
        ',"error_code":',
        _json_value(cells["error_code"][src]),
        ',"feedback":',
        _json_value(cells["feedback"][src]),
        ',"recipient":',
        _json_value(recipient[src]),
        f',"provider":"{PROVIDER}","attempt":',
        pa.array(attempt_all[order]).cast(pa.string()),
        "}",
    ]
    lines = pc.binary_join_element_wise(*parts, "")

    issued = {"out_of_order_events": len(ooo), **{k: len(v) for k, v in rows.items()}}
    quota.record(issued)
    for k, v in issued.items():
        dirt[k] = dirt.get(k, 0) + v
    return lines
