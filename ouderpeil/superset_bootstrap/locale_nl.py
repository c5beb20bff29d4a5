"""Dutch for Superset's own texts: d3 number and time locales and fixes to its nl language pack.

Superset 6.1 ships an incomplete and partly wrong Dutch pack ("2 options" because the plural
is empty, "Select all" translated as "Alles deselecteren", "Select values" as "Selecteer
eigenaren"). The frontend fetches it from ``/superset/language_pack/nl/``, which sends the
shipped file as it is; ``LanguagePackFixes`` (a WSGI middleware, ``ADDITIONAL_MIDDLEWARE``)
answers that request, after Superset's own login check, with the shipped pack plus our
corrections. ``install_language_pack_fixes`` puts the same pack into Superset's server-side
cache. Only strings board staff and inspectors meet on dashboards and list views are fixed
here; the rest stays as shipped. A few texts are written into Superset's JavaScript without
going through the language pack (the list views' row count "1-4 of 4"); ``AssetTextFixes``
rewrites those in the asset as it is served. Imported by superset_config.py (Superset
virtualenv only).
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
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
    "months": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "shortMonths": [
        "jan",
        "feb",
        "mrt",
        "apr",
        "mei",
        "jun",
        "jul",
        "aug",
        "sep",
        "okt",
        "nov",
        "dec",
    ],
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
    # The list views' filter selects (status, owner, favourite …) say "Choose...", which the
    # shipped pack translates as "Kies een database...".
    "Choose...": ["Kies…"],
}


# Texts Superset 6.1 writes into its JavaScript bundles without translation: exact snippet of
# the shipped asset -> Dutch. A snippet that no longer occurs after an upgrade simply does
# nothing (tests/test_dashboard_browser.py then sees the English in the list view).
ASSET_TEXT_FIXES: dict[bytes, bytes] = {
    # The list views' pagination total (TableCollection's showTotal): "1-4 of 4".
    b"`${t[0]}-${t[1]} of ${e}`": b"`${t[0]}-${t[1]} van ${e}`",
}


def _shipped_pack(locale: str) -> dict:
    import superset.translations.utils as tr

    path = Path(tr.DIR) / locale / "LC_MESSAGES" / "messages.json"
    return json.loads(path.read_text(encoding="utf-8"))


def corrected_pack(locale: str) -> dict:
    pack = _shipped_pack(locale)
    messages = pack.setdefault("locale_data", {}).setdefault("superset", {})
    for msgid, texts in CORRECTIONS.items():
        messages[msgid] = list(texts)
    return pack


@lru_cache(maxsize=4)
def _corrected_pack_bytes(locale: str) -> bytes:
    return json.dumps(corrected_pack(locale), ensure_ascii=False).encode("utf-8")


class LanguagePackFixes:
    """WSGI middleware: the language-pack request goes through Superset as usual (login,
    logging); a 200 answer for a corrected locale gets the corrected pack as its body."""

    PATH = re.compile(r"^/superset/language_pack/([a-z]{2,3}(?:_[A-Z]{2})?)/$")
    LOCALES = ("nl",)

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        match = self.PATH.match(environ.get("PATH_INFO", ""))
        if not match or match.group(1) not in self.LOCALES:
            return self.app(environ, start_response)
        # No 304 from a browser cache that holds the shipped pack.
        environ.pop("HTTP_IF_NONE_MATCH", None)
        environ.pop("HTTP_IF_MODIFIED_SINCE", None)
        status, headers, chunks = _buffered(self.app, environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return chunks
        body = _corrected_pack_bytes(match.group(1))
        return _send(start_response, status, headers, body, "application/json; charset=utf-8")


def _buffered(app, environ) -> tuple[str, list, list[bytes]]:
    """Run the WSGI app and keep its status, headers and body."""
    seen: dict = {}

    def capture(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    result = app(environ, capture)
    try:
        chunks = list(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return seen.get("status", "500 INTERNAL SERVER ERROR"), seen.get("headers", []), chunks


def _send(start_response, status: str, headers: list, body: bytes, content_type=None) -> list:
    """Answer with `body` instead of the app's: its length, no validators of the original
    (ETag, Last-Modified), no encoding; the content type replaced when one is given."""
    drop = {"content-length", "etag", "last-modified", "content-encoding"}
    if content_type:
        drop.add("content-type")
    headers = [(k, v) for k, v in headers if k.lower() not in drop]
    if content_type:
        headers.append(("Content-Type", content_type))
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]


class AssetTextFixes:
    """WSGI middleware: a JavaScript asset that holds an untranslated snippet of
    ``ASSET_TEXT_FIXES`` is served with the Dutch text instead. Assets are asked for
    uncompressed and unconditionally, so the body can be read and no cached English kept."""

    PREFIX = "/static/assets/"

    def __init__(self, app):
        self.app = app
        self._fixed: dict[str, bytes | None] = {}  # path -> rewritten body, None: nothing to fix

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not (path.startswith(self.PREFIX) and path.endswith(".js")):
            return self.app(environ, start_response)
        if self._fixed.get(path, b"") is None:  # seen before, nothing to fix: as shipped
            return self.app(environ, start_response)
        for header in ("HTTP_ACCEPT_ENCODING", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE"):
            environ.pop(header, None)
        status, headers, chunks = _buffered(self.app, environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return chunks
        if path not in self._fixed:
            body = b"".join(chunks)
            fixed = body
            for english, dutch in ASSET_TEXT_FIXES.items():
                fixed = fixed.replace(english, dutch)
            self._fixed[path] = fixed if fixed != body else None
        body = self._fixed[path]
        if body is None:
            start_response(status, headers)
            return chunks
        return _send(start_response, status, headers, body)


def install_language_pack_fixes(locale: str = "nl") -> int:
    """Put the corrected pack into Superset's language-pack cache; returns how many strings
    were corrected (0 when Superset has no pack for the locale)."""
    try:
        import superset.translations.utils as tr

        pack = corrected_pack(locale)
    except (ImportError, OSError, ValueError) as exc:  # no pack: Superset falls back to en
        log.warning("no Superset language pack for %s: %s", locale, exc)
        return 0
    tr.ALL_LANGUAGE_PACKS[locale] = pack
    return len(CORRECTIONS)
