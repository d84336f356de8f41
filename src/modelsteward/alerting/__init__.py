"""Alerting: rules over monitor metrics, alerts, silences, channels and notifications.

Monitoring reports; alerting listens to its events through the outbox and decides what
deserves a person's attention. See docs/alerting.md.
"""
