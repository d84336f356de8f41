"""The ``performance`` monitor (``family``) and its classification and regression metrics
with bands (``metrics``), whose ``positive_of`` the other label-reading families share."""
