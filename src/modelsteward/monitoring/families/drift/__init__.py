"""The ``data_drift`` and ``prediction_drift`` monitors: their run, points, Dask path and baseline.

The drift methods themselves are ``monitoring.drift``.
"""
