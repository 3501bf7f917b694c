"""How long a test waits before it calls a wait failed: the idle figure, stretched by the machine's load.

The machine is shared and slow at times; a wait that is ample alone fails under load. Waits only
end early when their condition holds, so a longer limit costs a passing test nothing.
RECEPTION_TEST_PATIENCE multiplies every limit (default 1).
"""
from __future__ import annotations

import os


def patience(seconds: float) -> float:
    """`seconds` on an idle machine; more when the 1-minute load exceeds the cores."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * max(1.0, load) * float(os.environ.get("RECEPTION_TEST_PATIENCE", "1"))
