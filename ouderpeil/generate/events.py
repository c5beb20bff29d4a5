"""Delivery webhooks for messages: queued -> sent -> delivered -> read/clicked/replied.

Realism (docs/SAMPLE_DATA.md): SMS fails most (numbers change), and families whose number or
address is foreign or outdated (more often Polish, Ukrainian, Tigrinya and Arabic speakers, and
low-SES families) fail repeatedly; e-mail bounces. SMS reports no reads. Low-SES parents read
fewer messages. Tips can be rated (feedback nuttig / niet_nuttig). Delays are lognormal:
seconds for the gateway, minutes to hours for reading.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ouderpeil.generate.calendar import local_to_utc
from ouderpeil.generate.rng import stream

EVENT_TYPES = np.array(
    ["queued", "sent", "delivered", "read", "clicked", "replied", "failed", "bounced", "feedback"]
)
_T = {name: i for i, name in enumerate(EVENT_TYPES)}

# Delivery failure: a family with a bad number/address fails most of the time.
BAD_ADDRESS_RATE = 0.04  # families whose number/address on file is wrong
BAD_ADDRESS_LANGUAGE = {"pl": 2.5, "uk": 2.5, "ti": 2.5, "ar": 1.8}  # x base rate
BAD_ADDRESS_LOW_SES = 1.5
FAIL_IF_BAD = {"sms": 0.90, "whatsapp": 0.80, "app": 0.60, "email": 0.80}
FAIL_OTHERWISE = {"sms": 0.04, "whatsapp": 0.012, "app": 0.01, "email": 0.015}
ERROR_CODES = {
    "sms": ("30003", "30005", "30006"),
    "whatsapp": ("63016", "131026"),
    "app": ("device_unregistered",),
    "email": ("550 5.1.1", "552 5.2.2"),
}
# Read (of delivered, on channels that report reads), by SES; channel factor on top.
READ_RATE = {"hoog": 0.82, "midden": 0.74, "laag": 0.56, "onbekend": 0.62}
READ_CHANNEL = {"app": 1.0, "whatsapp": 1.12, "email": 0.80, "sms": 0.0}
CLICK_RATE = {"tip": 0.30, "organisatorisch": 0.15}  # of read messages with a link
REPLY_RATE = {
    "voortgang": 0.12,
    "aanmoediging": 0.08,
    "tip": 0.05,
    "organisatorisch": 0.03,
    "herinnering": 0.02,
}  # of delivered
REPLY_LOW_SES = 0.7
FEEDBACK_RATE = 0.35  # of read tips (of delivered tips on SMS: 0.15)
FEEDBACK_RATE_SMS = 0.15
USEFUL_RATE = {"po": 0.76, "vo": 0.71, "mbo": 0.67}  # a tip rated nuttig
USEFUL_SES = {"laag": 0.05, "midden": 0.0, "hoog": -0.03, "onbekend": 0.0}
QUEUED_CHANNELS = ("sms", "whatsapp", "email")  # the app pushes without a queue event


def _lognormal_seconds(rng, median_s: float, sigma: float, n: int, cap_s: float) -> np.ndarray:
    return np.minimum(rng.lognormal(np.log(median_s), sigma, n), cap_s).astype("int64") + 1


def bad_address_families(fams: pd.DataFrame, seed: int, school_index: int) -> np.ndarray:
    """family_index values whose number/address is wrong (stable over the years)."""
    rng = stream(seed, "bad-address", school_index)
    lang = fams["home_language"].to_numpy()
    rate = (
        BAD_ADDRESS_RATE * np.vectorize(lambda x: BAD_ADDRESS_LANGUAGE.get(x, 1.0))(lang)
        if len(fams)
        else np.zeros(0)
    )
    rate = rate * np.where(fams["parent_education"].to_numpy() == "laag", BAD_ADDRESS_LOW_SES, 1)
    return fams["family_index"].to_numpy()[rng.random(len(fams)) < rate]


def make_events(
    messages: pd.DataFrame, bad_families: np.ndarray, rng_key: tuple, seed: int
) -> pd.DataFrame:
    """All webhook events of the messages, in message order: columns message_row, event_type
    (index into EVENT_TYPES), utc (seconds), error_code, feedback, step (order within the
    message)."""
    rng = stream(seed, "events", *rng_key)
    k = len(messages)
    channel = messages["channel"].to_numpy()
    purpose = messages["purpose"].to_numpy()
    ses = messages["parent_education"].to_numpy()
    sent_local = messages["sent_at"].to_numpy().astype("datetime64[s]").astype("int64")
    t0 = local_to_utc(sent_local)
    rows = np.arange(k)

    bad = np.isin(messages["family_index"].to_numpy(), bad_families)
    base_fail = np.vectorize(FAIL_OTHERWISE.get)(channel) if k else np.zeros(0)
    bad_fail = np.vectorize(FAIL_IF_BAD.get)(channel) if k else np.zeros(0)
    failed = rng.random(k) < np.where(bad, bad_fail, base_fail)
    queued = np.isin(channel, QUEUED_CHANNELS)
    t_queued = t0 + rng.integers(0, 3, k)
    t_sent = t_queued + _lognormal_seconds(rng, 3, 0.8, k, 600)
    # Phones that are off get app/WhatsApp pushes hours later.
    slow = rng.random(k) < 0.05
    t_delivered = t_sent + np.where(
        slow,
        _lognormal_seconds(rng, 7200, 1.0, k, 86400 * 2),
        _lognormal_seconds(rng, 6, 1.0, k, 3600),
    )
    read_p = (
        np.vectorize(READ_RATE.get)(ses) * np.vectorize(READ_CHANNEL.get)(channel)
        if k
        else np.zeros(0)
    )
    read = ~failed & (rng.random(k) < np.minimum(read_p, 0.97))
    t_read = t_delivered + _lognormal_seconds(rng, 2400, 1.4, k, 86400 * 7)
    click_p = np.vectorize(lambda p: CLICK_RATE.get(p, 0.0))(purpose) if k else np.zeros(0)
    clicked = read & (rng.random(k) < click_p)
    t_clicked = t_read + _lognormal_seconds(rng, 40, 1.0, k, 3600)
    reply_p = (
        np.vectorize(REPLY_RATE.get)(purpose) * np.where(ses == "laag", REPLY_LOW_SES, 1)
        if k
        else np.zeros(0)
    )
    replied = ~failed & (rng.random(k) < reply_p)
    t_replied = np.where(read, t_read, t_delivered) + _lognormal_seconds(rng, 900, 1.2, k, 86400)
    is_tip = purpose == "tip"
    feedback = is_tip & np.where(
        channel == "sms",
        ~failed & (rng.random(k) < FEEDBACK_RATE_SMS),
        read & (rng.random(k) < FEEDBACK_RATE),
    )
    t_feedback = np.where(read, t_read, t_delivered) + _lognormal_seconds(rng, 90, 1.0, k, 86400)
    useful_p = (
        (
            np.vectorize(USEFUL_RATE.get)(messages["sector"].to_numpy())
            + np.vectorize(USEFUL_SES.get)(ses)
        )
        if k
        else np.zeros(0)
    )
    useful = rng.random(k) < useful_p
    error = _error_codes(rng, channel)

    pieces = [
        (queued, _T["queued"], t_queued, None, None),
        (np.ones(k, bool), _T["sent"], t_sent, None, None),
        (~failed, _T["delivered"], t_delivered, None, None),
        (failed & (channel != "email"), _T["failed"], t_delivered, error, None),
        (failed & (channel == "email"), _T["bounced"], t_delivered, error, None),
        (read, _T["read"], t_read, None, None),
        (clicked, _T["clicked"], t_clicked, None, None),
        (replied, _T["replied"], t_replied, None, None),
        (feedback, _T["feedback"], t_feedback, None, np.where(useful, "nuttig", "niet_nuttig")),
    ]
    frames = []
    for step, (mask, etype, t, err, fb) in enumerate(pieces):
        idx = rows[mask]
        frames.append(
            pd.DataFrame(
                {
                    "message_row": idx,
                    "event_type": np.full(len(idx), etype, dtype="int8"),
                    "utc": t[idx],
                    "step": np.full(len(idx), step, dtype="int8"),
                    # object dtype: no conversion to (and back from) pandas' Arrow strings
                    "error_code": pd.Series(
                        err[idx] if err is not None else np.full(len(idx), None), dtype=object
                    ),
                    "feedback": pd.Series(
                        fb[idx] if fb is not None else np.full(len(idx), None), dtype=object
                    ),
                }
            )
        )
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["message_row", "utc", "step"], kind="stable").reset_index(drop=True)


def _error_codes(rng, channel: np.ndarray) -> np.ndarray:
    out = np.empty(len(channel), dtype=object)
    for ch, codes in ERROR_CODES.items():
        m = channel == ch
        out[m] = np.asarray(codes, dtype=object)[rng.integers(0, len(codes), int(m.sum()))]
    return out
