"""Stable pseudonyms for the leaderboards of courses that enable them.

A pseudonym is derived, never stored: an HMAC (keyed by SECRET_KEY) of the course and the user
picks an adjective, an animal and a number, so it is the same on every visit, differs between
courses, and cannot be turned back into the user without the key. (Changing SECRET_KEY changes
every pseudonym.) 64 x 64 x 100 combinations: two students of a course rarely share one, and if
they do the board still tells them apart by rank and numbers."""
from __future__ import annotations

from django.utils.crypto import salted_hmac

ADJECTIVES = (
    "agile", "amber", "ancient", "azure", "bold", "brave", "bright", "brisk", "calm", "clever", "cosmic", "crimson",
    "curious", "daring", "deft", "eager", "electric", "emerald", "fearless", "fierce", "gentle", "gilded", "golden",
    "graceful", "happy", "hidden", "humble", "icy", "jolly", "keen", "kind", "lively", "lucky", "lunar", "mellow",
    "mighty", "misty", "nimble", "noble", "patient", "plucky", "polar", "proud", "quick", "quiet", "radiant",
    "rapid", "rustic", "scarlet", "serene", "silent", "silver", "sly", "solar", "spry", "steady", "stellar",
    "sunny", "swift", "tidy", "vivid", "wandering", "wise", "zesty",
)
ANIMALS = (
    "albatross", "alpaca", "badger", "beaver", "bison", "bobcat", "capybara", "caracal", "cheetah", "condor",
    "cormorant", "coyote", "crane", "dingo", "dolphin", "eagle", "egret", "falcon", "ferret", "finch", "gazelle",
    "gecko", "gibbon", "heron", "hedgehog", "ibex", "ibis", "jackal", "jaguar", "kestrel", "kingfisher", "koala",
    "lemur", "leopard", "lynx", "magpie", "manatee", "marmot", "meerkat", "mongoose", "moose", "narwhal", "ocelot",
    "octopus", "okapi", "orca", "osprey", "otter", "panda", "pangolin", "pelican", "penguin", "puffin", "quokka",
    "raccoon", "raven", "salamander", "seal", "sparrow", "tapir", "toucan", "walrus", "wombat", "yak",
)


def pseudonym_for(*, course_id: int, user_id: int) -> str:
    digest = salted_hmac("leaderboard.pseudonym", f"{course_id}:{user_id}", algorithm="sha256").digest()
    adjective = ADJECTIVES[digest[0] % len(ADJECTIVES)]
    animal = ANIMALS[digest[1] % len(ANIMALS)]
    number = int.from_bytes(digest[2:4], "big") % 100
    return f"{adjective}-{animal}-{number:02d}"
