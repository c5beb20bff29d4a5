"""Loading: inbox files (CSV, Excel, JSON lines) into the raw layer of the warehouse.

See docs/LOADING.md for formats, profiles and reject reasons."""

from ouderpeil.loading.loader import load_file, load_inbox
from ouderpeil.loading.report import FileLoadResult, LoadReport

__all__ = ["load_inbox", "load_file", "LoadReport", "FileLoadResult"]
