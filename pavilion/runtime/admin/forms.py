"""Admin forms (Flask-WTF, so every one carries a CSRF token); project fields are validated against the core."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from pavilion.core import QueueConfig
from pavilion.runtime import platforms
from pavilion.runtime.errors import BadInput
from pavilion.runtime.inputs import loads_json, text_problem
from pavilion.runtime.projects import MAX_QUEUE, MAX_RATE, QUEUE_KEYS

QUEUE_FIELDS: tuple[str, ...] = QUEUE_KEYS


class CleanForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no type hints
    """A form whose every text field is checked like API input: no control characters, no lone surrogates."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))  # resets every field's errors, so it goes first
        for field in self:
            if isinstance(field.data, str) and (problem := text_problem(field.data)) is not None:
                field.errors = [*field.errors, f"{field.label.text} {problem}"]
                valid = False
        return valid


class LoginForm(CleanForm):
    """Username and password; the view never says which of the two was wrong."""

    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Log in")


class ActionForm(CleanForm):
    """An empty form for the launch / stop / expire buttons: it only carries the CSRF token."""

    submit = SubmitField("Go")


class MigrateForm(CleanForm):
    """Promote one chosen waiting worker now (force: even past max_active)."""

    worker_id = StringField("Worker", validators=[DataRequired(), Length(max=64)])
    force = BooleanField("Force past max_active")
    submit = SubmitField("Migrate")


def _queue_size(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=0, max=MAX_QUEUE)])


def _rate(label: str) -> DecimalField:
    return DecimalField(label, places=2, validators=[InputRequired(), NumberRange(min=Decimal(0), max=MAX_RATE)])


class ProjectForm(CleanForm):
    """A project: name, policy and queue sizes, platform, pay rates and the task shown to active workers."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description shown to workers before they join", validators=[Length(max=5000)])
    policy = SelectField("Policy", validators=[DataRequired()])
    min_active = _queue_size("min_active")
    max_active = _queue_size("max_active")
    min_waiting = _queue_size("min_waiting")
    max_waiting = _queue_size("max_waiting")
    platform = SelectField("Platform", validators=[DataRequired()])
    platform_settings = TextAreaField(
        "Platform settings (JSON object, no secrets)", validators=[Optional(), Length(max=20_000)]
    )
    reward = _rate("Reward per submission")
    waiting_wage_per_hour = _rate("Waiting wage per hour")
    active_wage_per_hour = _rate("Active wage per hour")
    task_url = StringField(
        "Task URL (empty: the built-in demo task)",
        validators=[Optional(), URL(require_tld=False), Length(max=2000)],
    )
    max_waiting_s = IntegerField(
        "Waiting workers may leave and get paid after (seconds)",
        validators=[InputRequired(), NumberRange(min=0, max=86_400)],
    )
    submit = SubmitField("Save")

    def set_choices(self, policies: Sequence[str], platform_names: Sequence[str]) -> None:
        """Fill the two select fields (the registries are read at request time, never at import)."""
        self.policy.choices = [(name, name) for name in policies]
        self.platform.choices = [(name, name) for name in platform_names]

    def validate_platform_settings(self, field: TextAreaField) -> None:
        if field.data and field.data.strip():
            try:
                value = loads_json(field.data, "the platform settings")
            except BadInput as error:
                raise ValidationError(str(error)) from None
            if not isinstance(value, dict):
                raise ValidationError("must be a JSON object, like {\"title\": \"...\"}")

    def validate(self, extra_validators: Any = None) -> bool:
        """Every check at once: each field's own, the queue sizes through pavilion.core.QueueConfig (the active pair
        and the waiting pair on their own, so both can be wrong together), and the platform's settings."""
        valid = super().validate(extra_validators)
        sized = not any(getattr(self, name).errors or getattr(self, name).data is None for name in QUEUE_FIELDS)
        if sized:
            sizes = self.queue_sizes()
            pairs = ({**sizes, "min_waiting": 0, "max_waiting": 0}, {**sizes, "min_active": 1, "max_active": 1})
            for pair in pairs:
                try:
                    QueueConfig(**pair)
                except ValueError as error:
                    getattr(self, _field_named_in(str(error)) or "max_active").errors.append(str(error))
                    valid = False
        if not self.platform_settings.errors and self.platform.data in dict(self.platform.choices or []):
            try:
                platforms.validate_settings(str(self.platform.data), self.settings())
            except ValueError as error:
                self.platform_settings.errors.append(str(error))
                valid = False
        return valid

    def invalid_fields(self) -> list[tuple[str, str, str]]:
        """(field id, label, its messages) of every invalid field, in the form's order: the summary above the form."""
        return [(field.id, field.label.text, "; ".join(map(str, field.errors))) for field in self if field.errors]

    def queue_sizes(self) -> dict[str, int]:
        return {name: int(getattr(self, name).data) for name in QUEUE_FIELDS}

    def settings(self) -> dict[str, Any]:
        text = (self.platform_settings.data or "").strip()
        return dict(json.loads(text)) if text else {}


def _field_named_in(message: str) -> str | None:
    """The queue field a QueueConfig error starts with (its messages name the field first)."""
    return next((name for name in QUEUE_FIELDS if message.startswith(name)), None)

