"""UPN check letter and LA code (uk-school-data.md §2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.upn import ALPHABET, check_letter, la_code_known, sound_upns, upn_problem


@pytest.mark.parametrize(
    "upn",
    ["B801200005001", "X00180001701A", "A123456789012", "P207000016049", "b801200005001", "B801 2000 05001"],
)
def test_valid_upns(upn: str) -> None:
    assert upn_problem(upn) is None


def test_published_worked_example_is_wrong() -> None:
    # Arbor's and Pupil Asset's "corrected" UPN: the weighted sum is 266, not 267, so P not Q.
    assert check_letter("Q207000016049") == "P"
    assert "check letter" in upn_problem("Q207000016049")


def test_check_letter_of_vectors() -> None:
    assert [check_letter(u) for u in ("B801200005001", "X00180001701A", "A123456789012")] == ["B", "X", "A"]


@pytest.mark.parametrize(
    ("upn", "phrase"),
    [
        ("B80120000500", "13 characters"),
        ("B8012000050011", "13 characters"),
        ("", "13 characters"),
        ("1801200005001", "starts with a check letter"),
        ("I801200005001", "starts with a check letter"),  # I, O, S are never used
        ("B8012000O5001", "digits"),
        ("B80120000500S", "ends in a digit"),
        ("B80120000500٣", "ends in a digit"),  # a non-ASCII digit is not a UPN digit
    ],
)
def test_malformed_upns(upn: str, phrase: str) -> None:
    problem = upn_problem(upn)
    assert problem is not None and phrase in problem


def test_check_letter_needs_a_upn_body() -> None:
    with pytest.raises(ValueError):
        check_letter("B8012000O5001")


def test_la_codes() -> None:
    assert la_code_known("B801200005001")  # Bristol
    assert la_code_known("X00180001701A")  # pseudo-LA 001, which python-stdnum wrongly rejects
    assert (
        la_code_known("A820000000000") and la_code_known("A875000000000") and la_code_known("A681000000000")
    )
    assert not la_code_known("A123456789012")
    assert not la_code_known("A000000000000") and not la_code_known("A999000000000")
    assert not la_code_known("A")


bodies = st.tuples(st.text("0123456789", min_size=11, max_size=11), st.sampled_from("0123456789" + ALPHABET))


@given(bodies)
def test_computed_check_letter_makes_a_valid_upn(body: tuple[str, str]) -> None:
    rest = body[0] + body[1]
    assert upn_problem(check_letter("A" + rest) + rest) is None


@given(bodies, st.integers(1, 12), st.data())
def test_any_single_character_change_is_detected(body: tuple[str, str], position: int, data) -> None:
    rest = body[0] + body[1]
    upn = check_letter("A" + rest) + rest
    allowed = "0123456789" if position < 12 else "0123456789" + ALPHABET

    def value(c: str) -> int:
        return int(c) if c.isdigit() else ALPHABET.index(c)

    # A final digit d and the letter ALPHABET[d] count the same (0 and A, 1 and B...): by design.
    new = data.draw(st.sampled_from([c for c in allowed if value(c) != value(upn[position])]))
    changed = upn[:position] + new + upn[position + 1 :]
    # 23 is prime and every weight and change is below 23, so a single change always shows.
    assert upn_problem(changed) is not None


def test_messages_never_quote_the_upn() -> None:
    for upn in ("Q207000016049", "B80120000500", "I801200005001", "B8012000O5001"):
        assert upn not in upn_problem(upn)


@given(st.lists(st.one_of(
    bodies.map(lambda body: check_letter("A" + body[0] + body[1]) + body[0] + body[1]),  # sound, or an unknown LA
    st.sampled_from(["B801200005001", "b801200005001", "B801 2000 05001", "Q207000016049", "B80120000500", "",
                     "A123456789012", "B80120000500٣", "X00180001701A", "A801200005001\nB801200005001"]),
    st.text("0123456789AB \n", max_size=14),
)))
def test_a_column_of_upns_is_judged_as_each_upn_alone(upns: list[str]) -> None:
    # A roster's UPN column is checked a column at a time: the UPNs found sound are exactly those
    # that, written as they are, draw no message one by one.
    alone = {upn for upn in upns if upn.isalnum() and upn.isupper() and upn_problem(upn) is None and la_code_known(upn)}
    assert sound_upns(upns) == alone


def test_a_long_column_of_upns_with_every_first_letter() -> None:
    # Each body with each of the 23 letters first: exactly the one with its check letter is sound,
    # however long the column (the check letters are worked out for the whole column at once).
    bodies = [f"{la}{n:08d}{last}" for la in ("801", "207", "003") for n in range(0, 99_999_999, 1_234_567)
              for last in ("0", "7", "A", "Z")]  # fmt: skip
    upns = [letter + body for body in bodies for letter in ALPHABET]
    assert sound_upns(upns) == {check_letter("A" + body) + body for body in bodies}
    assert len(sound_upns(upns)) == len(bodies)
