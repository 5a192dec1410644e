"""Form helpers shared by the apps' views."""

from django import forms

from anchang.core.errors import DomainError


def apply_domain_error(form: forms.Form, error: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's field errors next to the form's fields, the rest above the form (rule 11).

    `field_map` renames a service's field to the form's where they differ (`start_at` → `date`).
    """
    if not error.fields:
        form.add_error(None, error.message)
        return
    for name, message in error.fields.items():
        target = (field_map or {}).get(name, name)
        form.add_error(target if target in form.fields else None, message)
