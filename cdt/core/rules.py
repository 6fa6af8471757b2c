"""A service's refusal, and the one way a page shows it.

Services (cdt/<feature>/services.py) own the transaction and the business rules: a view parses
its form, calls the service and, when the service refuses, shows the refusal next to the field
it concerns with `apply_rule_error(form, error)`. Views never commit, roll back or check a rule
themselves (tests/test_services_own_transactions.py).
"""
from __future__ import annotations


class RuleError(ValueError):
    """A broken business rule: `message` (translated, for the user) about `field` (the form field's
    name; None: the whole form). Nothing was saved."""

    def __init__(self, field: str | None, message: str):
        super().__init__(str(message))
        self.field = field
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


class ConflictError(Exception):
    """The record changed after the form was opened; nothing was saved."""


def apply_rule_error(form, error: RuleError) -> None:
    """Show a service's refusal on the form: under its field when the form has one by that name,
    else at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors or []) + [error.message]
    else:
        form.form_errors.append(error.message)
