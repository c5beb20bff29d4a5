"""Modules Great Expectations imports but a gate never uses, loaded on first use instead.

Importing Great Expectations 1.x takes ~2.7 s, and every gate is a process of its own (an
Airflow task), so a day pays for it twice. A third of it is two libraries that only one
expectation needs, ``expect_column_kl_divergence_to_be_less_than``, which imports them at
module level: ``scipy.stats`` (with scipy.spatial and scipy.linalg, ~0.7 s) for its entropy
and ``altair`` (~0.2 s) for its chart. No suite of ours uses that expectation. `defer()`
puts a stand-in (DeferredModule) in their place, so they are executed in full the moment
anything reads one of their attributes, and never otherwise: nothing changes for a caller
that does use them, it only pays later.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

# What GX imports for expect_column_kl_divergence_to_be_less_than alone.
UNUSED_BY_OUR_SUITES = ("scipy.stats", "altair")
_LOADING = threading.Lock()


class DeferredModule(types.ModuleType):
    """Stands in sys.modules for a module not executed yet. The import system reads only
    `__spec__` of a module it finds there (set here), so `import altair` and `from scipy
    import stats` bind this object; any other attribute runs the real module and copies its
    namespace in, so references taken before then work on as the real module.
    (importlib.util.LazyLoader does not do: the import system's `__spec__` check triggers it.)"""

    def __getattr__(self, attr: str):  # only for attributes this object does not have yet
        return getattr(self._load(), attr)

    def _load(self) -> types.ModuleType:
        name = self.__name__
        with _LOADING:
            if sys.modules.get(name) is self:
                del sys.modules[name]
            real = importlib.import_module(name)
            self.__dict__.update(real.__dict__)
            self.__class__ = types.ModuleType  # no more detour through __getattr__
        return real


def defer(*names: str) -> list[str]:
    """Put a DeferredModule in place of each module not imported yet; return their names."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue  # already loaded (or deferred) by this process: nothing to gain
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # its parent package is not installed
            continue
        if spec is None:
            continue
        stand_in = DeferredModule(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in
        deferred.append(name)
    return deferred


def is_loaded(name: str) -> bool:
    """True once the module's own code has run (a deferred module nobody used yet: False)."""
    module = sys.modules.get(name)
    return module is not None and not isinstance(module, DeferredModule)
