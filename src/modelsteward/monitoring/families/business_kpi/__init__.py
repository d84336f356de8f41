"""The ``business_kpi`` monitor and its SQL sandbox (``sql``); KPI functions are
``functions``."""
