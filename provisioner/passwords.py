"""First passwords a young child can type: a short common word and two digits (``Tiger47``).

Passwords come from ``secrets``, are written only to the import file and the login slips of
the batch that creates or resets the account, and are never stored in the state or logged.
Each platform states what it accepts as a ``PasswordRule``; the generator draws until the
rule is met.

Every password has at least ``MIN_LENGTH`` (6) characters: with three-letter words in the list,
a five-character ``Cat47`` is too easily guessed. A platform that documents a longer minimum
says so in its rule (Microsoft 365: 8), and a school may ask for more (``password_min_length``,
``PasswordRule.at_least``).

Ambiguous characters are left out: the digits are 2 to 9 (no 0 or 1) and no word starts with
i or o, so a capital I, a lower-case l, O and 0 never meet on a slip.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, replace

DIGITS = "23456789"
MIN_LENGTH = 6

# Short, common, friendly words a six-year-old can read; no word starts with i or o.
WORDS = tuple(
    """
    acorn anchor angel ant apple apron arrow aunt badge baker ball banana band barn basket
    beach bean bear bed bee bell berry bike bird biscuit boat book boot bread brick bridge
    brush bubble bucket bunny bus butter cake camel candle canoe cape card carrot castle cat
    chair chalk cherry chick circle cloud clown coat comet cookie corn cow crab crayon crown
    cub cup daisy deer desk dice dog doll dolphin donkey door dragon drum duck eagle egg elf
    falcon farm feather fern fig fish flag flower flute fox frog garden gate giraffe goat
    goose grape grass guitar hamster hat hedge hen hill honey horse house jelly jet jumper
    kangaroo kettle key king kite kitten koala ladder lake lamb lamp leaf lemon lion lizard
    llama map maple melon milk mitten monkey moon mouse mug nest newt note panda parrot path
    peach pear pebble pencil penguin pepper piano pig pillow pirate pizza planet plum pony
    puffin pumpkin puppy queen rabbit rain rainbow river robin rocket rose ruler sail sandal
    scarf seal seed shark sheep shell ship shoe snail snow sock spoon star sun swan table
    teapot tiger toast tomato train tree truck tulip turtle umbrella unicorn van violin wagon
    walrus water whale wheel window wolf yacht yoyo zebra
    """.split()
)


@dataclass(frozen=True)
class PasswordRule:
    """What a platform accepts, and the shape of the passwords this tool gives it.

    ``words`` capitalised words joined by ``separator``, then ``digits`` digits:
    ``Tiger47`` by default, ``Tiger-Cloud-47`` with two words and a hyphen.
    """

    words: int = 1
    digits: int = 2
    separator: str = ""
    min_length: int = MIN_LENGTH
    max_length: int = 30
    require_upper: bool = False
    require_lower: bool = True
    require_digit: bool = True
    require_symbol: bool = False

    def at_least(self, length: int) -> PasswordRule:
        """This rule with at least ``length`` characters, and another word once one word and the
        digits would rarely reach it (most words have five or six letters), so passwords stay varied."""
        length = max(self.min_length, length)
        words = self.words
        while words * (6 + len(self.separator)) + self.digits < length:
            words += 1
        return replace(self, min_length=length, words=words, max_length=max(self.max_length, length))

    def accepts(self, password: str) -> bool:
        return (
            self.min_length <= len(password) <= self.max_length
            and (not self.require_upper or any(map(str.isupper, password)))
            and (not self.require_lower or any(map(str.islower, password)))
            and (not self.require_digit or any(map(str.isdigit, password)))
            and (not self.require_symbol or any(map(string.punctuation.__contains__, password)))
        )


CHILD_FRIENDLY = PasswordRule()
_CAPITALISED = tuple(word.capitalize() for word in WORDS)
_DRAWS_A_READ = 256  # how many draws one read of the random source holds


def generate(rule: PasswordRule = CHILD_FRIENDLY) -> str:
    """A new random password that meets ``rule``."""
    return next(supply(rule, draws=4))


def supply(rule: PasswordRule = CHILD_FRIENDLY, *, draws: int = _DRAWS_A_READ) -> Iterator[str]:
    """New random passwords that meet ``rule``, as many as are taken.

    Each word and digit is drawn uniformly and independently, as ``secrets.choice`` would, from
    one draw over every combination split into its parts; a draw is taken as ``secrets.randbelow``
    takes it (the combinations' bit length of random bits, drawn again while out of range), from
    random bytes read ``draws`` at a time: a trust's first apply makes a quarter of a million
    passwords, and the operating system's random source is then read a few hundred times, not
    once a password."""
    combinations = len(WORDS) ** rule.words * len(DIGITS) ** rule.digits
    bits = combinations.bit_length()
    width = (bits + 7) // 8
    surplus = width * 8 - bits
    # The digits' part of a draw, below len(DIGITS) ** digits, as the digits it stands for (the
    # first digit its remainder by len(DIGITS), and so on): a table made once, not a loop a password.
    numbers = [""]
    for _ in range(rule.digits):
        numbers = [number + digit for digit in DIGITS for number in numbers]
    spread = len(numbers)
    # A capitalised word has an upper-case and a lower-case letter, and the number a digit: where
    # the rule asks for no more than that, a candidate's length alone says whether it is accepted.
    by_length = not rule.require_symbol and (rule.words or not (rule.require_upper or rule.require_lower)) \
        and (rule.digits or not rule.require_digit)  # fmt: skip
    shortest, longest = rule.min_length, rule.max_length
    refused = 0
    while True:
        random = secrets.token_bytes(width * draws)
        for start in range(0, len(random), width):
            draw = int.from_bytes(random[start:start + width]) >> surplus
            if draw >= combinations:
                continue
            if rule.words == 1:
                draw, index = divmod(draw, len(WORDS))
                words = [_CAPITALISED[index]]
            else:
                words = []
                for _ in range(rule.words):
                    draw, index = divmod(draw, len(WORDS))
                    words.append(_CAPITALISED[index])
            number = numbers[draw % spread]
            candidate = rule.separator.join([*words, number]) if rule.separator else "".join(words) + number
            if shortest <= len(candidate) <= longest if by_length else rule.accepts(candidate):
                refused = 0
                yield candidate
            else:
                refused += 1
                if refused >= 10_000:
                    raise ValueError(f"no password of the form {rule} can meet its own length limits")
