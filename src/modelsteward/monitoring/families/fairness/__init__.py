"""The ``fairness`` monitor and its measures over arrays (``measures``)."""
