"""Monitoring: baseline profiles, drift and data quality math, monitors and offline reports.

The statistics (``profile``, ``drift``, ``quality``, ``report``) are pure functions over
Arrow tables, pandas frames or stored profiles; monitors run them over windows of the
prediction log and store the results as metric points.
"""
