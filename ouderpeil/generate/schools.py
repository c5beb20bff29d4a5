"""Schools and boards: BRIN-vestiging ids, names, municipalities and the CBS schoolweging.

The schoolweging (CBS, po and vo) summarises the expected disadvantage of a school's pupils
from parents' education, income and origin; it runs from about 20 to 40 with a mean near 30.
It drives the parent-education mix of each school's families (families.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ouderpeil.generate.rng import stream
from ouderpeil.generate.scales import Scale

MUNICIPALITIES = (
    "Utrecht",
    "Amersfoort",
    "Nieuwegein",
    "Zeist",
    "Veenendaal",
    "Houten",
    "IJsselstein",
    "Woerden",
    "De Bilt",
    "Soest",
    "Leusden",
    "Utrechtse Heuvelrug",
    "Stichtse Vecht",
    "Lopik",
    "Montfoort",
    "Baarn",
    "Bunschoten",
    "Wijk bij Duurstede",
    "Vijfheerenlanden",
    "De Ronde Venen",
    "Oudewater",
    "Rhenen",
    "Woudenberg",
    "Eemnes",
    "Renswoude",
)
PO_NAMES = (
    "De Regenboog",
    "Het Kompas",
    "De Wegwijzer",
    "De Zonnewijzer",
    "Het Palet",
    "De Klimop",
    "Sint Jozef",
    "De Vlinder",
    "De Springplank",
    "Het Mozaïek",
    "De Fontein",
    "De Bron",
    "Wereldwijs",
    "De Tweemaster",
    "Het Anker",
    "De Linde",
    "Koningin Beatrix",
    "Prins Willem-Alexander",
    "De Achtbaan",
    "Op Dreef",
)
PO_KINDS = (
    "Basisschool",
    "Openbare basisschool",
    "Christelijke basisschool",
    "Daltonschool",
    "Montessorischool",
    "Jenaplanschool",
    "Kindcentrum",
)
VO_NAMES = (
    "Erasmus",
    "Het Nieuwe Lyceum",
    "Revius",
    "Bonifatius",
    "Hofstad",
    "Amadeus",
    "Oostland",
    "Vechtstede",
    "Minkema",
    "Ichthus",
    "Cals",
    "Gregorius",
    "Niftarlake",
)
VO_KINDS = ("College", "Lyceum", "Scholengemeenschap", "Mavo", "Gymnasium")
MBO_NAMES = (
    "ROC Midden Nederland",
    "MBO Utrecht",
    "MBO Amersfoort",
    "Grafisch Lyceum Utrecht",
    "Aeres MBO",
    "Yuverta",
)
MBO_LOCATIONS = (
    "Zorg en Welzijn",
    "Techniek",
    "Economie",
    "Horeca en Toerisme",
    "ICT",
    "Entree",
    "Bouw",
    "Onderwijs en Sport",
)
BOARD_NAMES = {
    "po": (
        "Stichting Primair Onderwijs {m}",
        "Stichting Katholiek Onderwijs {m}",
        "Vereniging Christelijk Primair Onderwijs {m}",
        "Stichting Openbaar Onderwijs {m}",
    ),
    "vo": (
        "Stichting Voortgezet Onderwijs {m}",
        "Stichting Scholengroep {m}",
        "Vereniging Christelijk Voortgezet Onderwijs {m}",
    ),
    "mbo": ("{n}",),
}
# Mean and spread of the schoolweging per sector (CBS: 20-40, mean about 30).
SCHOOLWEGING = {"po": (30.0, 3.0), "vo": (30.5, 2.5)}
# How well a school reaches low-SES families beyond the general SES effects (scales with
# school_equity_spread): a multiplier on the engagement of its laag families. Research finds
# schools differ here: some widen the gap (fewer own contacts with laag parents), some close it
# with outreach (home visits, calls, interpreters). Kinds rotate so every board has a mix.
EQUITY_KINDS = {"kloof": 0.45, "gemiddeld": 1.0, "inclusief": 2.2}


def _brin_codes(rng: np.random.Generator, n: int) -> list[str]:
    """Unique BRIN codes of two digits and two capitals, e.g. 12AB."""
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))
    seen: set[str] = set()
    codes = []
    while len(codes) < n:
        code = f"{rng.integers(0, 100):02d}{''.join(rng.choice(letters, 2))}"
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def _laag_reach_factors(scale: Scale, schools: pd.DataFrame, seed: int) -> np.ndarray:
    """Per school the engagement multiplier of its laag families (1.0 without the spread).
    Its own random stream, so the other columns stay what they were."""
    if not scale.school_equity_spread:
        return np.ones(len(schools))
    rng = stream(seed, "school_equity")
    kinds = list(EQUITY_KINDS.values())
    out = np.ones(len(schools))
    for _, group in schools.groupby("sector", sort=True):
        pattern = np.resize(rng.permutation(kinds), len(group))
        jitter = rng.lognormal(0.0, 0.1, len(group))
        out[group.index.to_numpy()] = pattern * jitter
    return out


def make_schools(scale: Scale, seed: int) -> pd.DataFrame:
    """One row per school (canonical columns) plus hidden columns used by later steps:
    ``school_index`` (stable order) and ``size`` (families at the start)."""
    rng = stream(seed, "schools")
    rows = []
    board_seq = 0
    boards: dict[tuple[str, int], tuple[str, str]] = {}
    brins = _brin_codes(rng, scale.n_schools)
    mbo_vestiging = 0
    for sector in ("po", "vo", "mbo"):
        n_boards = scale.boards[sector]
        for i in range(scale.schools[sector]):
            board_key = ("po" if scale.shared_boards and sector == "vo" else sector, i % n_boards)
            if board_key not in boards:
                board_seq += 1
                m = MUNICIPALITIES[int(rng.integers(len(MUNICIPALITIES)))]
                template = BOARD_NAMES[board_key[0]][board_seq % len(BOARD_NAMES[board_key[0]])]
                name = template.format(m=m, n=MBO_NAMES[board_seq % len(MBO_NAMES)])
                if scale.shared_boards and sector == "po":
                    name = f"Stichting Onderwijs {m}"
                boards[board_key] = (f"{41000 + board_seq * 37:05d}", name)
            board_id, board_name = boards[board_key]
            municipality = MUNICIPALITIES[int(rng.integers(len(MUNICIPALITIES)))]
            brin = brins[len(rows)]
            if sector == "po":
                name = f"{rng.choice(PO_KINDS)} {PO_NAMES[i % len(PO_NAMES)]}"
                if i >= len(PO_NAMES):
                    name += f" {municipality}"
                vestiging = "00"
            elif sector == "vo":
                name = f"{VO_NAMES[i % len(VO_NAMES)]} {rng.choice(VO_KINDS)}"
                if i >= len(VO_NAMES):
                    name += f" {municipality}"
                vestiging = "00"
            else:
                # An mbo institution has many locations (vestigingen) under one BRIN.
                name = f"{board_name.split(' (')[0]} {MBO_LOCATIONS[i % len(MBO_LOCATIONS)]}"
                if i >= len(MBO_LOCATIONS):
                    name += f" {municipality}"
                vestiging = f"{mbo_vestiging % 100:02d}"
                mbo_vestiging += 1
            if sector in SCHOOLWEGING:
                mean, sd = SCHOOLWEGING[sector]
                weging = float(np.clip(rng.normal(mean, sd), 20.0, 40.0).round(2))
            else:
                weging = np.nan
            size_mean = scale.families_per_school[sector]
            size = int(max(30, round(size_mean * rng.lognormal(0, 0.25) / np.exp(0.25**2 / 2))))
            rows.append(
                {
                    "school_id": brin + vestiging,
                    "school_name": name,
                    "sector": sector,
                    "board_id": board_id,
                    "board_name": board_name,
                    "municipality": municipality,
                    "schoolweging": weging,
                    "school_index": len(rows),
                    "size": size,
                }
            )
    schools = pd.DataFrame(rows)
    schools["laag_reach_factor"] = _laag_reach_factors(scale, schools, seed)
    if scale.n_schools > 3:  # keep the scale's documented total despite random school sizes
        for sector, group in schools.groupby("sector"):
            target = scale.schools[sector] * scale.families_per_school[sector]
            schools.loc[group.index, "size"] = np.maximum(
                30, np.round(group["size"] * target / group["size"].sum())
            ).astype(int)
    else:
        schools["size"] = [scale.families_per_school[s] for s in schools["sector"]]
    return schools
