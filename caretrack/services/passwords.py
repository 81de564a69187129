"""Passwords: how they are hashed, checked without telling whether an account exists, upgraded
to the current hashing at sign-in, and which new passwords are refused."""

from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from caretrack.services.errors import RuleError

#: scrypt with N = 2^17, r = 8, p = 1 (ASVS 5.0 V11.4.2; about 128 MiB and 0.3-0.6 s a hash).
DEFAULT_METHOD = "scrypt:131072:8:1"
MIN_LENGTH = 12
MAX_LENGTH = 128
#: zxcvbn's guessability score (0-4) a new password needs.
MIN_SCORE = 3


def hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD") or DEFAULT_METHOD


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=hash_method())


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a password of anyone", method=method)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; without a hash (an unknown username) a
    dummy hash of the current method is checked, so both answers take the same time."""
    if not password_hash:
        check_password_hash(_dummy_hash(hash_method()), password)
        return False
    return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether ``password_hash`` was made with another method or other parameters than now."""
    return password_hash.split("$", 1)[0] != hash_method()


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of the leaked sets zxcvbn ships."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_new_password(password: str, *, field: str = "new_password",
                       username: str = "") -> None:
    """Refuse a password the policy does not allow (ASVS V6.2).

    :raise RuleError: "password-length" outside 12-128 characters, "password-common" for a
        common or easily guessed one.
    """
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise RuleError("password-length", field, min=MIN_LENGTH, max=MAX_LENGTH)
    if password.lower() in common_passwords():
        raise RuleError("password-common", field)
    inputs = [username] if username else []
    if zxcvbn(password[:64], user_inputs=inputs)["score"] < MIN_SCORE:
        raise RuleError("password-common", field)
