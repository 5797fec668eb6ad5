"""Hub reachability, checked once so offline machines fail in a second, not after retries."""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse


@functools.cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the Hugging Face Hub answers a TCP connect (and offline mode is not forced)."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def go_offline_unless_reachable() -> bool:
    """Switch huggingface_hub/datasets to cache-only mode when the Hub cannot be reached.

    Must run before those libraries are imported; returns whether the Hub is reachable.
    """
    online = hub_reachable()
    if not online:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
    return online
