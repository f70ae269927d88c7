"""One seed, several streams: the demo draws everything from numpy Generators seeded by the caller's seed.

The village registry, the users and their exports draw from default_rng(seed). The roster and the activity export
were added later, each on a stream of its own (default_rng([seed, stream])), so that adding them changed none of the
files that were there before, and so that a change to one of them leaves the others' bytes alone. The wall clock is
never read.
"""

import numpy as np

DEFAULT_SEED = 20230217

ROSTER_STREAM = 0x5E1A
ACTIVITY_STREAM = 0xAC71


def stream(seed: int, which: int) -> np.random.Generator:
    """The Generator of one stream (ROSTER_STREAM, ACTIVITY_STREAM) of this seed."""
    return np.random.default_rng([int(seed), which])
