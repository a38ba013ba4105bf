from datetime import date

from provisioner.models import Pupil
from provisioner.usernames import FALLBACK, FoldedNames, UsernameAllocator, ascii_fold, base_username


def pupil(forename: str, surname: str) -> Pupil:
    return Pupil(
        key="mis:1", row=2, mis_id="1", legal_forename=forename, legal_surname=surname, forename=forename,
        surname=surname, year_group="3", class_name="3A", date_of_birth=date(2018, 1, 1),
    )  # fmt: skip


def test_names_are_transliterated_for_usernames_only():
    assert ascii_fold("Zoë") == "zoe"
    assert ascii_fold("Łukasz") == "lukasz"
    assert ascii_fold("O’Brien") == "obrien"
    assert ascii_fold("O'Neill") == "oneill"
    assert ascii_fold("Smith-Jones") == "smithjones"
    assert ascii_fold("de la Cruz") == "delacruz"
    assert ascii_fold("Søren Straße") == "sorenstrasse"
    the_pupil = pupil("Zoë", "O’Brien")
    assert base_username("{forename}{surname_initial}", the_pupil) == "zoeo"
    assert the_pupil.display_name == "Zoë O’Brien"


def test_a_name_with_no_latin_letters_gets_a_fallback():
    assert base_username("{forename}{surname_initial}", pupil("Лев", "Иванов")) == FALLBACK
    assert base_username("{forename}", pupil("李", "王")) == FALLBACK


def test_names_folded_once_for_a_plan_give_the_same_usernames():
    # A plan folds each distinct name once for all its platforms; the usernames must not change.
    names = [("Zoë", "O’Brien"), ("zoe", "obrien"), ("ZOE", "OBRIEN"), ("Anne-Marie", "de la Cruz"), ("Лев", "Иванов"),
             ("Aziz", ""), ("", ""), ("Li9", "2nd"), ("ŁUKASZ", "Straße"), ("İsmail", "Öz"), ("abc", "x y")]
    templates = ["{forename}{surname_initial}", "{forename}.{surname}{year_group}", "{surname_initial}{forename}",
                 "Pupil {forename}", "{year_group}"]
    folded = FoldedNames()
    for template in templates:
        for forename, surname in names:
            the_pupil = pupil(forename, surname)
            assert base_username(template, the_pupil, folded) == base_username(template, the_pupil)
    assert folded["Zoë"] == ascii_fold("Zoë") == "zoe"
    assert ascii_fold("zoeo3") == "zoeo3" and ascii_fold("123") == "123" and ascii_fold("Zoe") == "zoe"


def test_a_single_name_pupil_gets_a_username_without_a_surname_part():
    assert base_username("{forename}{surname_initial}", pupil("Aziz", "")) == "aziz"


def test_collisions_take_counters_and_respect_the_length_limit():
    allocate = UsernameAllocator(set(), 20).allocate
    assert allocate("lilyl") == "lilyl"
    assert allocate("lilyl") == "lilyl2"
    assert allocate("lilyl") == "lilyl3"
    short = UsernameAllocator({"abcdefgh"}, 8)
    assert short.allocate("abcdefghij") == "abcdefg2"
    assert len(short.allocate("abcdefghij")) == 8


def test_a_freed_name_is_never_reissued():
    # Usernames ever issued stay in `taken` (the state keeps them), so counters keep climbing.
    taken = {"samp", "samp2"}
    assert UsernameAllocator(taken, 20).allocate("samp") == "samp3"
