"""A model's owner: a user, changed only by a governed, audited transfer.

Separation of duties keeps a model's owner from deciding on its versions, so the
owner must be a real user and must not be something the submitter can edit away
(a data scientist once set it to "nobody" and the real owner then approved). An
update never touches it; a transfer needs ``models.transfer_ownership`` (admins and
risk managers), a reason, and is not made by the current owner: someone else must
hand a model over, so no owner can step out of the owner rule alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from modelsteward.context import Steward
from modelsteward.errors import Conflict, Forbidden
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal, user_reference
from modelsteward.registry.models import aliases_of, find_model
from modelsteward.registry.specs import OwnerTransfer
from modelsteward.registry.views import ModelView


def transfer_ownership(
    steward: Steward, actor: Principal, name: str, transfer: OwnerTransfer
) -> ModelView:
    """Give model ``name`` a new owner (or none), audited with before, after and reason."""
    if not actor.can(Permission.OWNERSHIP_TRANSFER):
        raise Forbidden(
            f"role {actor.role!r} lacks permission {Permission.OWNERSHIP_TRANSFER.value!r}"
        )
    with steward.change(actor.name) as change:
        model = find_model(change.session, name, for_update=True)
        previous = model.owner
        if previous is not None and previous == actor.name:
            raise Forbidden(
                f"separation of duties: {actor.name} owns model {name} and may not transfer "
                "it; another person with models.transfer_ownership must"
            )
        if transfer.owner == previous:
            raise Conflict(f"model {name!r} is already owned by {previous or 'nobody'}")
        model.owner = user_reference(change.session, transfer.owner, field="owner")
        model.updated_at = datetime.now(UTC)
        change.record(
            "model.owner_changed",
            "model",
            name,
            before={"owner": previous},
            after={"owner": model.owner, "reason": transfer.reason},
            payload={"owner": model.owner, "previous_owner": previous, "reason": transfer.reason},
        )
        aliases = aliases_of(change.session, [model.id])[model.id]
    return ModelView.of(model, aliases)
