"""Errors the policy service raises for bad requests; each carries the HTTP status it maps to."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses; the message is safe to show the client, nothing was changed."""

    status = 400


class NotFound(ServiceError, LookupError):
    """No such project, worker or assignment (or not this client's); a LookupError, as PlatformHost promises."""

    status = 404


class Conflict(ServiceError):
    """The request does not fit the project's state (stopped, not launched, worker not waiting, ...)."""

    status = 409


class BadInput(ServiceError):
    """A missing field, a wrong type, a value out of range; the message names the field."""

    status = 400
