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

    def set_choices(self, policies: Sequence[str], platforms: Sequence[str]) -> None:
        """Fill the two select fields (the registries are read at request time, never at import)."""
        self.policy.choices = [(name, name) for name in policies]
        self.platform.choices = [(name, name) for name in platforms]

    def validate_platform_settings(self, field: TextAreaField) -> None:
        if field.data and field.data.strip():
            try:
                value = loads_json(field.data, "the platform settings")
            except BadInput as error:
                raise ValidationError(str(error)) from None
            if not isinstance(value, dict):
                raise ValidationError("must be a JSON object, like {\"title\": \"...\"}")

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then the queue sizes as a whole through pavilion.core.QueueConfig."""
        if not super().validate(extra_validators):
            return False
        try:
            QueueConfig(**self.queue_sizes())
        except ValueError as error:
            field = _field_named_in(str(error)) or "max_active"
            getattr(self, field).errors.append(str(error))
            return False
        return True

    def queue_sizes(self) -> dict[str, int]:
        return {name: int(getattr(self, name).data) for name in QUEUE_FIELDS}

    def settings(self) -> dict[str, Any]:
        text = (self.platform_settings.data or "").strip()
        return dict(json.loads(text)) if text else {}


def _field_named_in(message: str) -> str | None:
    """The queue field a QueueConfig error starts with (its messages name the field first)."""
    return next((name for name in QUEUE_FIELDS if message.startswith(name)), None)

