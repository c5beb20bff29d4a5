"""Dutch for Superset's own texts: d3 number and time locales and fixes to its nl language pack.

Superset 6.1 ships an incomplete and partly wrong Dutch pack ("2 options" because the plural
is empty, "Select all" translated as "Alles deselecteren", "Select values" as "Selecteer
eigenaren"). ``install_language_pack_fixes`` loads the shipped pack once and lays our
corrections over it in Superset's own cache (``superset.translations.utils``), so every page
and the frontend's bootstrap data get the corrected pack. Only strings board staff and
inspectors meet on dashboards and list views are fixed here; the rest stays as shipped.
Imported by superset_config.py (runs inside the Superset virtualenv only).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

# d3-format locale nl-NL: decimal comma, thousands dot.
D3_FORMAT = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["€ ", ""]}

# d3-time-format locale nl-NL (d3-time-format/locale/nl-NL.json), so axes read "mrt 2026".
D3_TIME_FORMAT = {
    "dateTime": "%a %e %B %Y %X",
    "date": "%d-%m-%Y",
    "time": "%H:%M:%S",
    "periods": ["", ""],
    "days": ["zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"],
    "shortDays": ["zo", "ma", "di", "wo", "do", "vr", "za"],
    "months": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
               "september", "oktober", "november", "december"],
    "shortMonths": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt",
                    "nov", "dec"],
}

# msgid -> Dutch (a list holds singular and plural). Wrong or empty in the shipped pack.
CORRECTIONS: dict[str, list[str]] = {
    "%s option": ["%s optie", "%s opties"],
    "%s option(s)": ["%s optie(s)"],
    "N/A": ["n.v.t."],
    "All": ["Alle"],
    "Select all": ["Alles selecteren"],
    "Select All": ["Alles selecteren"],
    "Deselect all": ["Alles deselecteren"],
    "Select values": ["Kies waarden"],
    "Select value": ["Kies een waarde"],
    "Select Value": ["Kies een waarde"],
    "Select tab": ["Kies een tabblad"],
    "Select page size": ["Aantal per pagina"],
    "Select database": ["Kies een database"],
    "Select a database": ["Kies een database"],
    "Select dashboard": ["Kies een dashboard"],
    "Showing %s of %s items": ["%s van %s items"],
    "No data": ["Geen gegevens"],
    "No results": ["Geen resultaten"],
    "No results match your filter criteria": ["Geen resultaten bij deze filters"],
    "Apply filters": ["Filters toepassen"],
    "Clear all": ["Alles wissen"],
    "Filters out of scope (%d)": ["Filters buiten bereik (%d)"],
    "Search": ["Zoeken"],
    "Search...": ["Zoeken…"],
    "Loading...": ["Bezig met laden…"],
    "Last modified": ["Laatst gewijzigd"],
    "Modified by": ["Gewijzigd door"],
    "Owners": ["Eigenaren"],
    "Published": ["Gepubliceerd"],
    "Draft": ["Concept"],
    "Favorite": ["Favoriet"],
    "Actions": ["Acties"],
    "Download": ["Downloaden"],
    "Refresh dashboard": ["Dashboard vernieuwen"],
    "Enter fullscreen": ["Volledig scherm"],
    "Exit fullscreen": ["Volledig scherm sluiten"],
    "View as table": ["Als tabel bekijken"],
    "View query": ["Query bekijken"],
    "Force refresh": ["Opnieuw laden"],
    "Share": ["Delen"],
    "Copy permalink to clipboard": ["Permalink kopiëren"],
    "Fetched %s": ["Opgehaald %s"],
    "Cached %s": ["Uit cache %s"],
    "Applied filters (%d)": ["Toegepaste filters (%d)"],
    "Applied filters: %s": ["Toegepaste filters: %s"],
    "Required": ["Verplicht"],
    "Required filter": ["Verplicht filter"],
    "Filter value is required": ["Kies een waarde voor dit filter"],
    "Please choose a database": ["Kies een database"],
    "Choose a database...": ["Kies een database…"],
}


def _shipped_pack(locale: str) -> dict:
    import superset.translations.utils as tr

    path = Path(tr.DIR) / locale / "LC_MESSAGES" / "messages.json"
    return json.loads(path.read_text(encoding="utf-8"))


def install_language_pack_fixes(locale: str = "nl") -> int:
    """Put the corrected pack into Superset's language-pack cache; returns how many strings
    were corrected (0 when Superset has no pack for the locale)."""
    try:
        import superset.translations.utils as tr

        pack = _shipped_pack(locale)
    except (ImportError, OSError, ValueError) as exc:  # no pack: Superset falls back to en
        log.warning("no Superset language pack for %s: %s", locale, exc)
        return 0
    messages = pack.setdefault("locale_data", {}).setdefault("superset", {})
    for msgid, texts in CORRECTIONS.items():
        messages[msgid] = list(texts)
    tr.ALL_LANGUAGE_PACKS[locale] = pack
    return len(CORRECTIONS)
