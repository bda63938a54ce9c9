"""Which numbers the sandbox carriers know; the rest are "not found" (a fixed, documented subset)."""

# - Harbour Post: valid S10 numbers (check digit right) whose serial does not start with 99
#   (so the doc's `WB999999995HK` is not found).
# - Pearl River: those S10 numbers, plus its own `PR` + 10 digits unless they end in 00
#   (so the doc's `PR0000000000` is not found).
# - SwiftLink pushes for any number subscribed that is 4-40 letters and digits.

from __future__ import annotations

import re

from backend.domain import tracking_number

PEARL_RIVER_REF = re.compile(r"^PR\d{10}$", re.ASCII)
SWIFTLINK_NUMBER = re.compile(r"^[A-Z0-9]{4,40}$", re.ASCII)
MAX_NUMBER_LENGTH = 64


def normalized(number: str) -> str:
    return tracking_number.normalize(number)


def known_s10(number: str) -> bool:
    number = normalized(number)
    if tracking_number.check(number) is not tracking_number.NumberCheck.VALID:
        return False
    return number[2:4] != "99"


def harbour_post_knows(number: str) -> bool:
    return len(number) <= MAX_NUMBER_LENGTH and known_s10(number)


def pearl_river_knows(ref: str) -> bool:
    if len(ref) > MAX_NUMBER_LENGTH:
        return False
    ref = normalized(ref)
    if PEARL_RIVER_REF.match(ref):
        return not ref.endswith("00")
    return known_s10(ref)


def swiftlink_accepts(number: str) -> bool:
    return len(number) <= MAX_NUMBER_LENGTH and bool(SWIFTLINK_NUMBER.match(normalized(number)))
