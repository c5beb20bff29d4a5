"""Peak memory of the running process, for bench.stage and the script bench/queries.py
(which runs in any virtualenv, so this module imports only the standard library)."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mib() -> float:
    """Peak RSS of this process since exec (VmHWM).

    Not ru_maxrss: on Linux that starts from the parent's RSS at fork time and survives the
    exec, so a lean stage started by a big parent would inherit the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
