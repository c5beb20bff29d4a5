"""Calibration targets: Monitor Ouderbetrokkenheid 2014 (docs/spec/reference/monitor-2014.md).

Survey answers are drawn so that each sector's share matches these figures on average; the SES
and other differences of ``surveys.py`` are layered on top and the intercept is solved so that
the sector average stays at the monitor's value (``calibrated_intercept``).
"""

from __future__ import annotations

import numpy as np

# Share of parents (0-1) per sector, report table in the comment.
MONITOR_2014: dict[str, dict[str, float]] = {
    "talk_daily": {"po": 0.70, "vo": 0.70, "mbo": 0.48},  # 6.2
    "read_aloud_weekly": {"po": 0.65},  # 6.3 (daily 32 + weekly 33)
    "homework_help_weekly": {"vo": 0.51},  # 6.4 (daily 7 + weekly 44)
    "tips_received": {"po": 0.45, "vo": 0.32, "mbo": 0.28},  # 6.5
    "support_no_contact": {"po": 0.23, "vo": 0.44, "mbo": 0.52},  # 6.5
    "tip_usefulness": {"po": 0.72, "vo": 0.67, "mbo": 0.64},  # 6.6
    "contact_insufficient": {"po": 0.19, "vo": 0.23, "mbo": 0.37},  # 4.3
    "can_contribute": {"po": 0.57, "vo": 0.44, "mbo": 0.32},  # 6.11
    "teacher_open": {"po": 0.49, "vo": 0.40, "mbo": 0.28},  # 6.12
    "expectations_clear": {"po": 0.44, "vo": 0.39, "mbo": 0.28},  # 6.12
    "helps_school": {"po": 0.80, "vo": 0.50, "mbo": 0.50},  # ch. 5 (approximate)
}

# Table 6.6: heel veel / tamelijk veel / niet zo veel / weinig of niets.
TIP_USEFULNESS_DETAIL = {
    "po": (0.13, 0.59, 0.26, 0.02),
    "vo": (0.11, 0.56, 0.29, 0.05),
    "mbo": (0.12, 0.52, 0.36, 0.00),
}

# Table 4.1: mean grade for progress, behaviour, bullying, support at home. q_comm_grade is one
# overall grade, calibrated to the mean of the four topics.
COMM_GRADES_BY_TOPIC = {
    "po": (7.5, 7.3, 6.6, 6.8),
    "vo": (7.4, 6.9, 6.3, 6.4),
    "mbo": (6.4, 6.1, 5.5, 5.9),
}
COMM_GRADE_MEAN = {s: float(np.mean(g)) for s, g in COMM_GRADES_BY_TOPIC.items()}

# Table 6.3: of the parents who read aloud at least weekly, the daily share (32 of 65).
READ_ALOUD_DAILY_SHARE = 32 / 65
# Table 6.4: of the parents who help at least weekly, the daily share (7 of 51).
HOMEWORK_DAILY_SHARE = 7 / 51


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibrated_intercept(target: float, shifts: np.ndarray) -> float:
    """The intercept a with mean(logistic(a + shifts)) == target (bisection).

    ``shifts`` are the respondents' own log-odds differences (SES, work, school); solving on the
    actual respondents keeps the sector average at the monitor's figure whatever the mix, while
    the realised share still varies by sampling error."""
    if len(shifts) == 0:
        return 0.0
    values, counts = np.unique(np.round(shifts, 6), return_counts=True)
    lo, hi = -15.0, 15.0
    for _ in range(60):
        mid = (lo + hi) / 2
        mean = float(np.dot(logistic(mid + values), counts) / counts.sum())
        lo, hi = (mid, hi) if mean < target else (lo, mid)
    return (lo + hi) / 2
