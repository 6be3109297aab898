"""Encryption of source credentials at rest (Fernet, key from settings)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.KIZUNA_CREDENTIALS_KEY
    if not key:
        # Derived so the embedded default works with no set-up; production sets its own key.
        digest = hashlib.sha256(("kizuna-credentials:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode())


def encrypt_json(data: dict[str, Any]) -> str:
    """Encrypt a credentials dict to a token safe to store."""
    return _fernet().encrypt(json.dumps(data).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    """Decrypt a token written by encrypt_json."""
    result: dict[str, Any] = json.loads(_fernet().decrypt(token.encode()))
    return result
