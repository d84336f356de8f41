"""Retraining: pipeline definitions attached to models, runs in separate processes, and
the candidates they register with their lineage."""
