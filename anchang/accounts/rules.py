"""Role predicates (django-rules): the vocabulary for "who may do what" across the apps."""

import rules

from anchang.accounts.models import Role


@rules.predicate
def is_admin(user: object) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", None) == Role.ADMIN)


def has_role(*roles: str) -> rules.Predicate:
    return rules.predicate(
        lambda user: getattr(user, "role", None) in roles, name=f"has_role:{','.join(roles)}"
    )


is_manager = has_role(Role.MANAGER)
is_site_staff = has_role(Role.MANAGER, Role.FRONTDESK, Role.CONSULTANT)

rules.add_perm("inventory.view_board", is_admin | is_site_staff | has_role(Role.ATTENDANT))
rules.add_perm("inventory.import_units", is_admin | is_manager)
rules.add_perm("inventory.hold_unit", is_admin | is_manager)
rules.add_perm("accounts.view_staff", is_admin | is_site_staff)
