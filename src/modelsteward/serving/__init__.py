"""Execution environment: deployments, rollout steps, the serving runtime, traffic routing."""
