"""waiting.py: wait for a condition, never sleep a fixed time."""

import time


def wait_for(condition, timeout=10):
    """condition()'s first true value, asked every 50 ms for up to timeout
    seconds and once more when they are up, or None."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
