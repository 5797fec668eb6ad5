"""math-verify, imported on first use, and its timeouts where they work.

math-verify pulls in sympy (half a second), so nothing imports it until an answer is
actually read or compared. It bounds `parse` and `verify` with `signal.alarm`, which only
works in a process's main thread: we keep its 5 s timeouts there and turn them off in other
threads (a caller such as a search engine's worker thread). `sal evaluate` grades in worker
processes, whose main threads keep the timeouts.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

TIMEOUT_SECONDS = 5


def timeout() -> int | None:
    """math-verify's alarm-based timeout where it works (the main thread), else none."""
    return TIMEOUT_SECONDS if threading.current_thread() is threading.main_thread() else None


@lru_cache(maxsize=1)
def math_verify():
    import math_verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # per-answer timeout warnings
    return math_verify
