"""Deterministic sample data for Ouderpeil (docs/SAMPLE_DATA.md).

    generate(out_dir, scale="small", seed=1, school_years=("2024-2025", "2025-2026")) -> dict
    generate_day(out_dir, scale, seed, day) -> dict

Same arguments, same bytes. Modules: scales (sizes), calendar (school days, holidays, clock
offsets), schools / families / contacts / messages / events / surveys (the model),
monitor (calibration targets), dirt (deliberate faults), profiles / render / freetext / output /
writers / webhooks (file formats), core (generate) and day (generate_day).
"""

from ouderpeil.generate.core import DEFAULT_SCHOOL_YEARS, generate
from ouderpeil.generate.day import generate_day
from ouderpeil.generate.dirt import DIRT_RATES
from ouderpeil.generate.scales import SCALES

__all__ = ["generate", "generate_day", "DIRT_RATES", "SCALES", "DEFAULT_SCHOOL_YEARS"]
