"""The ``data_quality`` monitor (``family``) and its per-column rates (``quality``), which the
offline report also reads."""
