"""The ``estimated_performance`` monitor and its CBPE maths (``estimation``)."""
