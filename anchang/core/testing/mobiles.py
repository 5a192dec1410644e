"""Valid mainland mobiles for tests and demo data.

Faker's zh_CN numbers include unassigned prefixes (149…) that our validation rightly refuses,
so numbers are built here from prefixes that phonenumbers accepts as mobile.
"""

import random

MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
)


def mobile_for(seed: int) -> str:
    """A deterministic, valid national mobile (11 digits) for a seed."""
    rng = random.Random(seed)
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
