"""ValidationError keeps (field, message) pairs next to its strings; FormErrors files them by field."""

from vibenvr.pages import FormErrors
from vibenvr.validation import ConflictError, FieldError, ValidationError


def test_validation_errors_keep_their_strings_and_the_structured_pairs():
    exc = ValidationError([FieldError("schedule.monday[0]", "ends before it starts"), "confirm: the passwords differ"])
    assert exc.errors == ["schedule.monday[0] ends before it starts", "confirm: the passwords differ"]
    assert str(exc) == "schedule.monday[0] ends before it starts; confirm: the passwords differ"
    assert exc.field_errors == [
        ("schedule.monday[0]", "ends before it starts"),
        (None, "confirm: the passwords differ"),
    ]


def test_form_errors_use_the_structured_field_and_parse_plain_text():
    exc = ValidationError(
        [
            FieldError("name", "must not be empty"),
            FieldError("privacy_masks[0][1]", "is outside the picture"),
            FieldError("schedule.monday[0]", "ends before it starts"),
            "confirm: the passwords differ",
            "Something odd happened.",
        ]
    )
    errors = FormErrors.from_exception(exc)
    assert errors == {
        "name": ["must not be empty"],
        "privacy_masks": ["polygon 1, point 2 is outside the picture"],
        "schedule.monday": ["Monday window 1 ends before it starts"],
        "confirm": ["the passwords differ"],
        "_form": ["Something odd happened."],
    }


def test_a_field_that_is_not_a_form_path_falls_back_to_the_text():
    exc = ValidationError([FieldError('cameras[3] "Garage": name', "must not be empty")])
    assert FormErrors.from_exception(exc) == {"cameras": ['item 4 "Garage": name must not be empty']}
    assert FormErrors.from_exception(ConflictError("name is already taken")) == {"name": ["is already taken"]}
