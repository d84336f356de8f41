"""Notification channels: where alerts are sent, and the durable log of what was sent.

A channel subscribes to the alert events (``alerting.events``) through the outbox; it
never reads alert tables. Each routed event becomes a notification row, delivered with
retries and a log of attempts. See docs/notifications.md.
"""
