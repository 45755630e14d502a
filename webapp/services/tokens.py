"""Signed tokens: the reproduce form's locked matching set and private status links.

Each kind has its own salt, so a token of one kind never passes as the other. Flask is
imported for one reason: the signing key is the app's SECRET_KEY, read when signing.
"""

from __future__ import annotations

import hmac

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from pydantic import ValidationError

from webapp.models import Submission
from webapp.schemas import LockPayload, StatusPayload
from webapp.services import matching

LOCK_SALT = "trustbench.reproduce-lock.v1"
STATUS_SALT = "trustbench.status-link.v1"
# A reproduce form may stay open while the operator runs the benchmark; a week is
# plenty, and an expired form only needs a reload.
LOCK_MAX_AGE_SECONDS = 7 * 24 * 3600


class LockError(ValueError):
    """The locked fields cannot be trusted; the message is for the operator."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def lock_payload(hub: Submission) -> LockPayload:
    key = matching.key_of(hub)
    return LockPayload(
        hub=hub.id,
        model=key.model[0],
        hardware=key.hardware[0],
        count=key.hardware[1],
        quant=key.quant[0],
        engine=key.engine[0],
        names=[key.model[1], key.hardware[2], key.quant[1], key.engine[1]],
    )


def lock_token(hub: Submission) -> str:
    return _serializer(LOCK_SALT).dumps(lock_payload(hub).model_dump())


def read_lock(token: str | None, hub: Submission) -> LockPayload:
    """The locked matching set, or LockError when it is missing, forged, altered,
    expired, or does not belong to this hub as it is now."""
    if not token or not token.strip():
        raise LockError(
            "The locked configuration was missing from the form."
        )
    try:
        data = _serializer(LOCK_SALT).loads(token.strip(), max_age=LOCK_MAX_AGE_SECONDS)
        payload = LockPayload.model_validate(data)
    except (BadData, ValidationError, TypeError) as error:
        raise LockError(
            "The locked configuration (model, hardware, quant and runtime) was altered or "
            "has expired."
        ) from error
    if payload != lock_payload(hub):
        raise LockError(
            "The locked configuration did not match this benchmark as it is now."
        )
    return payload


def status_token(submission: Submission) -> str:
    payload = StatusPayload(id=submission.id, nonce=submission.status_nonce)
    return _serializer(STATUS_SALT).dumps(payload.model_dump())


def read_status(token: str) -> StatusPayload | None:
    """The payload of a status link, or None for anything bad (the page answers 404)."""
    try:
        return StatusPayload.model_validate(_serializer(STATUS_SALT).loads(token))
    except (BadData, ValidationError, TypeError):
        return None


def nonce_matches(payload: StatusPayload, submission: Submission) -> bool:
    return hmac.compare_digest(payload.nonce.encode(), (submission.status_nonce or "").encode())
