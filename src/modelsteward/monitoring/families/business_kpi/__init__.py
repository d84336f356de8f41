"""The ``business_kpi`` monitor and its SQL sandbox (``sql``); KPI functions are
``monitoring.kpi_functions``."""
