"""Fake free text and contact details for the columns the loader must ignore.

Real exports carry names, phone numbers, e-mail addresses, notes and message bodies next to
the data; the loader must never read them (docs/spec/PRIVACY.md). Values are fake (example.nl addresses,
numbers in the unassigned 06-00 range) and use only characters Windows-1252 can encode; some
notes contain separators, quotes and line breaks, as real notes do.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SURNAMES = np.array(
    [
        "de Vries",
        "Jansen",
        "van den Berg",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "Yılmaz".replace("ı", "i"),
        "El Amrani",
        "Kaya",
        "Öztürk",
        "Bouzid",
        "Kowalski",
        "Nowak",
        "Tesfay",
        "Kovalenko",
        "Martina",
        "Özdemir",
        "Benali",
        "Çelik",
        "Müller",
        "Gómez",
        "Nguyen",
    ]
)
INITIALS = np.array(list("ABCDEFGHIJKLMNPRSTWY"))
STREETS = np.array(
    [
        "Dorpsstraat",
        "Kerkstraat",
        "Schoolstraat",
        "Molenweg",
        "Lindenlaan",
        "Julianastraat",
        "Wilhelminapark",
        "Beatrixlaan",
        "Oranjestraat",
        "Prinses Irenelaan",
        "Vondellaan",
        "Biltstraat",
        "Amsterdamsestraatweg",
    ]
)
NOTES = np.array(
    [
        "Gesprek over rekenen; afspraak vervolg in maart",
        "Moeder maakt zich zorgen over pesten in de klas",
        'Vader vraagt of de "leesbegeleiding" doorgaat',
        "Ouders tevreden over de voortgang, geen actie",
        "Tolk aanwezig; gesprek verliep goed",
        "Afspraak verzet i.v.m. werk ouder",
        "Zorgen over thuissituatie; IB'er ingelicht",
        "Huiswerkplanning besproken. Ouder helpt met agenda",
        "Niet verschenen, opnieuw uitgenodigd",
        "Gesprek over schooladvies (havo/vwo), ouders twijfelen",
        "Leerling mist veel lessen:\nverzuimcoördinator op de hoogte",
        "Vraag over de ouderbijdrage (€ 45,00)",
        "",
    ]
)
BODIES = {
    "voortgang": (
        "Goed nieuws: {n} heeft deze week veel geleerd bij rekenen!",
        "{n} werkt hard aan lezen. Vraag vanavond eens wat er gelezen is.",
    ),
    "tip": (
        "Tip: lees vanavond 15 minuten samen en praat over het verhaal.",
        "Tip: oefen de tafels van 6 tijdens het koken. Lukt het? Laat het ons weten!",
        "Tip: vraag {n} wat het leukste moment van de dag was.",
    ),
    "aanmoediging": (
        "Wat fijn dat u betrokken bent bij {n}. Ga zo door!",
        "Complimenten: {n} doet erg zijn/haar best deze week.",
    ),
    "organisatorisch": (
        "Vrijdag is er een studiedag: de school is gesloten.",
        "Denk aan de gymkleren op dinsdag. De schoolreis kost € 25.",
    ),
    "herinnering": (
        "Herinnering: morgen tienminutengesprekken, zie het rooster.",
        "Vergeet niet het toestemmingsformulier te tekenen.",
    ),
}
REMARKS = np.array(
    [
        "",
        "",
        "",
        "",
        "Fijne school!",
        "Meer informatie over huiswerk graag",
        "Communicatie via de app kan beter; te veel berichten",
        "Ik mis de tienminutengesprekken",
        "Leraar is erg betrokken, dank!",
    ]
)


def _join(*parts) -> np.ndarray:
    arrays = [p if isinstance(p, str) else pa.array(p, pa.string()) for p in parts]
    return pc.binary_join_element_wise(*arrays, "").to_numpy(zero_copy_only=False)


def names(rng, n: int) -> np.ndarray:
    return _join(
        INITIALS[rng.integers(0, len(INITIALS), n)],
        ". ",
        SURNAMES[rng.integers(0, len(SURNAMES), n)],
    )


def phones(rng, n: int) -> np.ndarray:
    digits = pc.utf8_lpad(pa.array(rng.integers(0, 1_000_000, n)).cast(pa.string()), 6, "0")
    return _join("06-00", digits)


def emails(rng, n: int) -> np.ndarray:
    digits = pa.array(rng.integers(10, 9999, n)).cast(pa.string())
    return _join("ouder", digits, "@example.nl")


def addresses(rng, n: int, town: str = "Utrecht") -> np.ndarray:
    numbers = pa.array(rng.integers(1, 250, n)).cast(pa.string())
    return _join(STREETS[rng.integers(0, len(STREETS), n)], " ", numbers, ", ", town)


def notes(rng, n: int) -> np.ndarray:
    return NOTES[rng.integers(0, len(NOTES), n)]


def bodies(rng, purposes: np.ndarray) -> np.ndarray:
    out = np.empty(len(purposes), dtype=object)
    first_names = np.array(
        [
            "Sem",
            "Emma",
            "Noah",
            "Julia",
            "Mohamed",
            "Sara",
            "Lucas",
            "Fatima",
            "Daan",
            "Zoë",
            "Yusuf",
            "Olena",
        ]
    )
    for purpose, templates in BODIES.items():
        m = purposes == purpose
        k = int(m.sum())
        t = np.asarray(templates, dtype=object)[rng.integers(0, len(templates), k)]
        who = first_names[rng.integers(0, len(first_names), k)]
        out[m] = [a.replace("{n}", b) for a, b in zip(t, who)]
    return out


def remarks(rng, n: int) -> np.ndarray:
    return REMARKS[rng.integers(0, len(REMARKS), n)]
