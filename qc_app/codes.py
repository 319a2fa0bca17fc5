"""Every code the platform prints and reads back: item (QC…), consignment (SJ…), claim (PF…) and
certificate numbers, check codes and claim secrets. Unguessable, in Crockford base32, most
with a check character (Luhn mod 32).

Certificate numbers carry 60 random bits plus a check character, so a typo is caught before any
lookup and numbers cannot be enumerated. Check codes are printed on the certificate and typed
by consumers; they are compared against a stored hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
# Crockford: letters that look like digits are read as those digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def random_code(length: int) -> str:
    """`length` random characters of the Crockford alphabet (5 bits each)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def check_char(body: str) -> str:
    """Luhn mod N over the base32 body: catches every single error and most transpositions."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * _INDEX[char]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def with_check(body: str) -> str:
    return body + check_char(body)


def has_valid_check(code: str) -> bool:
    body, check = code[:-1], code[-1:]
    return bool(body) and all(c in _INDEX for c in code) and check_char(body) == check


def normalize(text: str) -> str:
    """What a person typed or a scanner sent, in canonical form (upper case, no spaces)."""
    return "".join(text.split()).upper().translate(_READ_AS)


def new_certificate_number(prefix: str) -> str:
    return f"{prefix}-{with_check(random_code(12))}"


def is_certificate_number(text: str) -> bool:
    prefix, _, body = text.partition("-")
    return prefix.isalnum() and len(body) == 13 and has_valid_check(body)


def new_item_code() -> str:
    return "QC" + with_check(random_code(9))


def new_consignment_code() -> str:
    return "SJ" + with_check(random_code(7))


def new_claim_number() -> str:
    """PF-… (赔付): read back through normalize()."""
    return "PF-" + with_check(random_code(10))


def new_claim_secret() -> str:
    """130 random bits, grouped for copying by hand (no I/L/O/U to misread)."""
    raw = random_code(26)
    return "-".join(raw[i : i + 5] for i in range(0, 26, 5))


def new_check_code() -> str:
    """8 characters (40 bits), printed as XXXX-XXXX; rate limits make guessing futile."""
    return random_code(8)


def format_check_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_check_code(text: str) -> str:
    return normalize(text).replace("-", "")


def check_code_digest(key: bytes, number: str, code: str) -> str:
    """What is stored of a check code: HMAC-SHA256 under the deployment's key
    (Config.CHECK_CODE_KEY, derived from QC_CHECK_CODE_KEY), never the code.

    ASVS 6.5.2 asks for a password KDF when a secret has fewer than 112 bits; a check code has
    40. A KDF protects a stolen database by making each guess slow; the key does it by making
    guesses impossible: the key is not in the database (nor its backups), and without it no
    offline guess can be checked, while online guesses meet the per-client budgets
    (verification/throttle.py). A fast HMAC also keeps the consumer page fast; a KDF costing
    ~50 ms per attempt would make every typed code a small denial-of-service lever.

    The HMAC wraps the earlier bare SHA-256 digest so that migration 0009 could re-key stored
    rows without knowing their codes.
    """
    bare = hashlib.sha256(f"qc-check-v1|{number}|{code}".encode()).hexdigest()
    return hmac.new(key, bare.encode(), hashlib.sha256).hexdigest()


def check_code_matches(key: bytes, number: str, code: str, digest: str) -> bool:
    return hmac.compare_digest(check_code_digest(key, number, normalize_check_code(code)), digest)
