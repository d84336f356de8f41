"""Roles and the permissions each one grants.

Permissions name an action on a kind of object. Routes declare the one they need;
separation of duties comes from no single non-admin role holding every permission.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    INVENTORY_ARCHIVE = "inventory.archive"
    # Who owns a model: separation of duties reads it, so a submitter may not change it.
    OWNERSHIP_TRANSFER = "models.transfer_ownership"
    ARTIFACT_DOWNLOAD = "artifact.download"
    ALIAS_WRITE = "alias.write"
    TRUST_GRANT = "trust.grant"
    AUDIT_READ = "audit.read"
    USERS_ADMIN = "users.admin"
    DEPLOY = "deployment.write"
    DEPLOY_OVERRIDE = "deployment.override"  # break-glass: serve outside the life cycle
    PREDICT = "predict"
    LABELS_WRITE = "labels.write"
    LIFECYCLE_DEFINE = "lifecycle.define"
    LIFECYCLE_TRANSITION = "lifecycle.transition"
    TASKS_DECIDE = "tasks.decide"
    MONITORING_WRITE = "monitoring.write"
    EVENTS_REDELIVER = "events.redeliver"
    CHANNELS_READ = "channels.read"  # channels and the notification log
    CHANNELS_MANAGE = "channels.manage"  # add, change, test channels; send again
    ALERTS_READ = "alerts.read"  # alerts, rules, silences
    ALERTS_HANDLE = "alerts.handle"  # acknowledge, resolve, silence
    ALERT_RULES_MANAGE = "alerts.rules"  # create, change, delete rules
    TRAINING_WRITE = "training.write"  # define pipelines, start runs, reproduce versions


class Role(StrEnum):
    VIEWER = "viewer"
    DATA_SCIENTIST = "data-scientist"
    OPERATOR = "operator"
    RISK_MANAGER = "risk-manager"
    ARCHITECT = "architect"
    ADMIN = "admin"
    APPLICATION = "application"


_READ = {Permission.INVENTORY_READ, Permission.CHANNELS_READ, Permission.ALERTS_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_READ),
    Role.DATA_SCIENTIST: frozenset(
        _READ
        | {Permission.INVENTORY_WRITE, Permission.ARTIFACT_DOWNLOAD, Permission.ALIAS_WRITE}
        | {Permission.PREDICT, Permission.LIFECYCLE_TRANSITION, Permission.TRAINING_WRITE}
    ),
    Role.OPERATOR: frozenset(
        _READ
        | {Permission.ARTIFACT_DOWNLOAD, Permission.ALIAS_WRITE, Permission.AUDIT_READ}
        | {Permission.DEPLOY, Permission.PREDICT, Permission.LABELS_WRITE}
        | {Permission.LIFECYCLE_TRANSITION, Permission.TASKS_DECIDE, Permission.MONITORING_WRITE}
        | {Permission.EVENTS_REDELIVER, Permission.CHANNELS_MANAGE, Permission.TRAINING_WRITE}
        | {Permission.ALERTS_HANDLE, Permission.ALERT_RULES_MANAGE}
    ),
    Role.RISK_MANAGER: frozenset(
        _READ
        | {Permission.INVENTORY_ARCHIVE, Permission.TRUST_GRANT, Permission.AUDIT_READ}
        | {Permission.TASKS_DECIDE, Permission.LIFECYCLE_TRANSITION}
        | {Permission.OWNERSHIP_TRANSFER, Permission.ALERTS_HANDLE}
    ),
    # Defines the life cycles models follow; decides nothing about a single model.
    Role.ARCHITECT: frozenset(_READ | {Permission.LIFECYCLE_DEFINE, Permission.AUDIT_READ}),
    Role.ADMIN: frozenset(Permission),
    # A consuming application: asks for predictions and posts ground truth, nothing else.
    Role.APPLICATION: frozenset({Permission.PREDICT, Permission.LABELS_WRITE}),
}


def permissions_of(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
