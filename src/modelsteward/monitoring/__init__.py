"""Monitoring: monitors of a deployment run over windows of its prediction log, stored as points.

- ``specs`` (the stored, frozen specs), ``service`` (create, change, run now, read points),
  ``tables`` and ``views``; ``runner`` runs a monitor, ``outcomes`` stores the run and raises
  ``metric.breached`` / ``metric.recovered``; ``jobs`` schedules due runs, ``defaults`` gives
  every deployment its monitors, ``pinning`` pins a baseline to a window of the log.
- ``families/<type>/``: one folder (or module) per monitor family, holding its run and its
  maths (``data_quality/quality``, ``performance/metrics``, ``business_kpi/functions``...);
  ``families.registry`` is the allow-list that stored specs resolve through.
- ``windows`` reads the log (DuckDB); ``bands`` and ``points`` give every figure its 95%
  band and status; ``drift`` and ``multivariate`` are the drift methods over stored profiles
  (``modelsteward.profiles``); ``report`` renders the offline HTML report; ``overview`` and
  ``prometheus`` feed the deployment page and ``/metrics``.
"""
