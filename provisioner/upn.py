"""Unique Pupil Number (UPN) checks.

A UPN is 13 characters: a check letter, the 3-digit LA number of the allocating school, the
4-digit establishment number, 2 digits of the allocation year and a 3-character serial. A
permanent UPN ends in a digit; a temporary one ends in a letter. The check letter comes from
characters 2-13 weighted 2..13 (a digit counts as its value, a final letter as its position
in ALPHABET), summed mod 23 and mapped through ALPHABET. I, O and S are never used.

Messages never quote the UPN: it is a DfE "blind number".
"""

from __future__ import annotations

from itertools import compress
from operator import mul, not_

ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_LETTER_VALUE = {letter: i for i, letter in enumerate(ALPHABET)}
_DIGITS = frozenset("0123456789")
_VALUE = {**{d: int(d) for d in "0123456789"}, **_LETTER_VALUE}
_DIGIT_WEIGHTS = range(2, 13)  # characters 2-12; character 13 has weight 13
_DIGIT_OFFSET = 48 * sum(_DIGIT_WEIGHTS)


def _ranges(*spans: tuple[int, int] | int) -> frozenset[int]:
    codes: set[int] = set()
    for span in spans:
        if isinstance(span, int):
            codes.add(span)
        else:
            codes.update(range(span[0], span[1] + 1))
    return frozenset(codes)


# Census rule 1530: post-1999 LA codes plus the pseudo-LA codes 001-005.
LA_CODES: frozenset[int] = _ranges(
    (1, 5), (201, 213), (301, 320), (330, 336), (340, 344), (350, 359), (370, 373), (380, 384),
    (390, 394), 420, (660, 681), (701, 708), (800, 803), (805, 808), (810, 813), 815, 816,
    (820, 823), 825, 826, 830, 831, (835, 837), 840, 841, 845, 846, (850, 852), (855, 857), 860,
    861, (865, 896), 908, 909, 916, 919, 921, 925, 926, 928, 929, 931, 933, (935, 938),
)  # fmt: skip


def _normal(upn: str) -> str:
    if upn.isalnum() and upn.isupper():  # the common case: nothing to do
        return upn
    return "".join(upn.split()).upper()


def _well_formed(upn: str) -> bool:
    return (
        len(upn) == 13
        and upn[0] in _LETTER_VALUE
        and upn.isascii()
        and upn[1:12].isdigit()
        and (upn[12] in _DIGITS or upn[12] in _LETTER_VALUE)
    )


def _format_problem(upn: str) -> str | None:
    if _well_formed(upn):
        return None
    if len(upn) != 13:
        return (
            f"a UPN has 13 characters (a letter, then 12 digits; a temporary UPN ends in a letter), "
            f"this one has {len(upn)}"
        )
    if upn[0] not in _LETTER_VALUE:
        return "a UPN starts with a check letter (A-Z except I, O and S)"
    if not all(ch in _DIGITS for ch in upn[1:12]):
        return "characters 2 to 12 of a UPN are digits"
    return "a UPN ends in a digit, or for a temporary UPN a letter other than I, O and S"


def _check_letter(upn: str) -> str:
    """Check letter for a normalised, well-formed UPN.

    Characters 2-12 are ASCII digits, so each byte is 48 + its value: the weighted sum of the
    bytes less 48 times the sum of the weights 2..12 is the weighted sum of the digits.
    """
    digits = sum(map(mul, _DIGIT_WEIGHTS, upn[1:12].encode("ascii"))) - _DIGIT_OFFSET
    return ALPHABET[(digits + 13 * _VALUE[upn[12]]) % 23]


def check_letter(upn: str) -> str:
    """The check letter a 13-character UPN should start with (its own first letter is ignored).

    Raises ValueError if characters 2-13 are not a UPN's digits (and final letter).
    """
    upn = _normal(upn)
    if not _well_formed("A" + upn[1:]):
        raise ValueError("not a 13-character UPN")
    return _check_letter(upn)


def upn_problem(upn: str) -> str | None:
    """None if ``upn`` is a well-formed UPN with the right check letter, else what is wrong.

    Case and spaces are ignored. The message never quotes the UPN.
    """
    upn = _normal(upn)
    problem = _format_problem(upn)
    if problem:
        return problem
    if _check_letter(upn) != upn[0]:
        return (
            "the UPN's check letter (its first character) does not match the rest: "
            "a character was probably mistyped; copy the UPN again from the MIS"
        )
    return None


def la_code_known(upn: str) -> bool:
    """Whether characters 2-4 are an LA code the census accepts (including pseudo-LAs 001-005)."""
    code = _normal(upn)[1:4]
    return len(code) == 3 and code.isascii() and code.isdigit() and int(code) in LA_CODES


# A UPN needing no message, found a column at a time (``_well_formed_column``): the UPNs of 13
# characters joined by line breaks, as bytes, so that character p of every UPN is ``joined[p::14]``;
# each such column is made 1 where its byte may stand there and 0 where it may not (one
# ``bytes.translate``), and the columns are ANDed as big integers, a byte a UPN. The LA code:
# characters 2 and 3 made one byte (10 times the first digit, plus the second: no carry), which a
# table makes the codes' third digits it may have, as bits (0 to 7 in one byte, 8 and 9 in
# another); ANDed with the third digit as its bit. (A pattern of the codes' nested choices took
# 20 ms for a trust's 50,000 UPNs, and made each UPN found a string again; this takes 3 to 6.)
def _one_where(allowed: bytes | str) -> bytes:
    """A translate table making each byte 1 where it is in ``allowed``, else 0."""
    allowed = allowed.encode("ascii") if isinstance(allowed, str) else allowed
    return bytes(1 if byte in allowed else 0 for byte in range(256))


_ALLOWED_AT = [_one_where(ALPHABET), *[_one_where("0123456789")] * 11, _one_where("0123456789" + ALPHABET)]
_DIGIT_OF = {ord(digit): int(digit) for digit in "0123456789"}  # a byte that is no digit is made 0 below
_TENS = bytes(10 * _DIGIT_OF.get(byte, 0) for byte in range(256))
_UNITS = bytes(_DIGIT_OF.get(byte, 0) for byte in range(256))
_THIRD_DIGITS = [  # the third digits an LA code beginning with the two of this byte may have
    bytes(sum(1 << (third - low) for third in range(low, low + 8) if 10 * prefix + third in LA_CODES)
          if prefix < 100 else 0 for prefix in range(256))
    for low in (0, 8)
]  # fmt: skip
_AS_BIT = [bytes(1 << (_DIGIT_OF[byte] - low) if low <= _DIGIT_OF.get(byte, -1) < low + 8 else 0
                 for byte in range(256)) for low in (0, 8)]  # fmt: skip
_NOT_ZERO = bytes([0] + [1] * 255)


def _well_formed_column(upns: list[str]) -> list[str]:
    """The cells that are a well-formed UPN (``_well_formed``) with an LA code the census accepts
    (``la_code_known``), in their order: see _ALLOWED_AT."""
    # A character outside ASCII is one "?", which no place allows: each UPN stays 13 bytes.
    of_13, count = upns, len(upns)
    joined = "\n".join(upns).encode("ascii", "replace")
    line_breaks = b"\n" * (count - 1)
    if len(joined) != 14 * count - 1 or joined.count(b"\n") != count - 1 or joined[13::14] != line_breaks:
        # Some cell is not 13 characters: the others are looked at.
        of_13 = list(compress(upns, map((13).__eq__, map(len, upns))))
        count = len(of_13)
        joined = "\n".join(of_13).encode("ascii", "replace")

    def column(position: int, table: bytes) -> int:
        return int.from_bytes(joined[position::14].translate(table), "big")

    sound = column(0, _ALLOWED_AT[0])
    for position in range(1, 13):
        sound &= column(position, _ALLOWED_AT[position])
    prefixes = (column(1, _TENS) + column(2, _UNITS)).to_bytes(count, "big")
    known = 0
    for half in (0, 1):
        known |= int.from_bytes(prefixes.translate(_THIRD_DIGITS[half]), "big") & column(3, _AS_BIT[half])
    sound &= int.from_bytes(known.to_bytes(count, "big").translate(_NOT_ZERO), "big")
    flags = sound.to_bytes(count, "big")
    return of_13 if b"\x00" not in flags else list(compress(of_13, flags))


def sound_upns(upns: list[str]) -> set[str]:
    """The UPNs of a column that need no message (``upn_problem`` None, ``la_code_known``), found
    a column at a time: the well-formed ones with an LA code the census accepts
    (``_well_formed_column``), then their check letters worked out together
    (``_check_letters_differ``). A trust's roster checks its 50,000 UPNs so; the rest are judged
    one by one."""
    found = _well_formed_column(upns)
    differ = _check_letters_differ(found)
    if not differ.strip(b"\x00"):  # every check letter right
        return set(found)
    return set(compress(found, map(not_, differ)))


# The check letters of a column of well-formed UPNs, worked out for the whole column at once
# (``_check_letters_differ``): each of characters 2 to 13 becomes its weighted value mod 23 by
# one ``bytes.translate`` of that character's column, and the columns are added as big integers,
# a byte a UPN. Six values below 23 add up to less than 256, so no byte carries into the next:
# after six columns the sums are taken mod 23 (another translate), then the other six added.
_WEIGHTED = [bytes.maketrans(b"0123456789", bytes(weight * digit % 23 for digit in range(10)))
             for weight in _DIGIT_WEIGHTS]  # fmt: skip
_LAST_WEIGHTED = bytes(13 * _VALUE[chr(byte)] % 23 if chr(byte) in _VALUE else 0 for byte in range(256))
_MOD_23 = bytes(total % 23 for total in range(256))
_LETTER_OF = bytes(ord(ALPHABET[total % 23]) for total in range(256))  # a sum mod 23, as its check letter


def _check_letters_differ(upns: list[str]) -> bytes:
    """For each well-formed UPN (13 ASCII characters, ``_SOUND_LINE``), 0 where its first
    letter is its check letter (``_check_letter``), another byte where it is not. A call of
    ``_check_letter`` for each of a trust's 50,000 UPNs took 60 to 90 ms; this takes under 10."""
    count = len(upns)
    joined = "\n".join(upns).encode("ascii")  # every UPN 13 bytes and its line break: character p at p::14

    def weighted(position: int, table: bytes) -> int:
        return int.from_bytes(joined[position::14].translate(table), "big")

    total = sum(weighted(position, _WEIGHTED[position - 1]) for position in range(1, 7))
    total = int.from_bytes(total.to_bytes(count, "big").translate(_MOD_23), "big")
    total += sum(weighted(position, _WEIGHTED[position - 1]) for position in range(7, 12))
    total += weighted(12, _LAST_WEIGHTED)
    letters = total.to_bytes(count, "big").translate(_LETTER_OF)
    return (int.from_bytes(letters, "big") ^ int.from_bytes(joined[0::14], "big")).to_bytes(count, "big")
