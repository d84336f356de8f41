"""The ``champion_challenger`` monitor and its significance tests (``comparison``)."""
