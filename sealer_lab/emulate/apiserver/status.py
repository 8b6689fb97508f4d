"""API errors rendered as meta/v1 Status objects, worded like the real apiserver."""

from __future__ import annotations

from typing import Any

from sealer_lab.emulate.apiserver.resources import Resource

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "forbidden",
    "invalid",
    "not_found",
]


class ApiError(Exception):
    """An HTTP error answer carrying a Status body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _qualified(res: Resource) -> str:
    return f"{res.plural}.{res.group}" if res.group else res.plural


def _details(res: Resource, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return details


def not_found(res: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(res)} "{name}" not found', _details(res, name))


def already_exists(res: Resource, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{_qualified(res)} "{name}" already exists', _details(res, name)
    )


def conflict(res: Resource, name: str, why: str = "") -> ApiError:
    why = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(res)} "{name}": {why}',
        _details(res, name),
    )


def invalid(res: Resource, name: str, why: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f'{res.kind} "{name}" is invalid: {why}',
        _details(res, name),
    )


def forbidden(res: Resource | None, name: str, message: str) -> ApiError:
    if res is None:
        return ApiError(403, "Forbidden", message, {})
    prefix = (
        f'{_qualified(res)} "{name}" is forbidden: '
        if name
        else f"{_qualified(res)} is forbidden: "
    )
    return ApiError(403, "Forbidden", prefix + message, _details(res, name))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)
