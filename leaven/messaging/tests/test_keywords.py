"""Reading opt-out, opt-in and help words: every word in both languages, any case, with or
without accents and punctuation; inside a sentence they go to review."""

from __future__ import annotations

import pytest

from leaven.messaging.keywords import classify

OPT_OUT_EN = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT"]
OPT_OUT_ES = ["PARAR", "ALTO", "BAJA", "CANCELAR", "DETENER"]


def _variants(word: str) -> list[str]:
    accented = {
        "PARAR": "PÁRAR",
        "ALTO": "ÁLTO",
        "BAJA": "BAJÁ",
        "CANCELAR": "CANCELÁR",
        "DETENER": "DETÉNER",
        "STOP": "STÓP",
        "END": "ÉND",
        "QUIT": "QUÍT",
        "CANCEL": "CANCÉL",
        "REVOKE": "REVÓKE",
        "STOPALL": "STÓPALL",
        "UNSUBSCRIBE": "UNSÚBSCRIBE",
        "OPT OUT": "OPT-OUT",
    }
    return [
        word,
        word.lower(),
        word.title(),
        f"  {word}. ",
        f"¡{word}!",
        f'"{word}"',
        accented[word],
        f"{accented[word].lower()}!!",
        f"\n{word}\n",
    ]


@pytest.mark.parametrize("word", OPT_OUT_EN + OPT_OUT_ES)
def test_every_opt_out_word_alone_is_an_opt_out_in_its_language(word):
    language = "es" if word in OPT_OUT_ES else "en"
    for text in _variants(word):
        found = classify(text)
        assert (found.kind, found.language) == ("opt_out", language), text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("HELP", "en"),
        ("help", "en"),
        (" Help? ", "en"),
        ("AYUDA", "es"),
        ("¡ayúda!", "es"),
        ("Ayuda.", "es"),
    ],
)
def test_help_words(text, language):
    found = classify(text)
    assert (found.kind, found.language) == ("help", language)


@pytest.mark.parametrize("text", ["START", "start", "Unstop!", " Start. "])
def test_start_words(text):
    assert classify(text).kind == "opt_in"


@pytest.mark.parametrize(
    "text",
    [
        "we have to STOP this bill",
        "Hay que PARAR la redada",
        "no quiero la baja de mi hijo",
        "I want to opt out of the march but stay",
    ],
)
def test_opt_out_word_inside_a_sentence_goes_to_review(text):
    assert classify(text).kind == "review"


@pytest.mark.parametrize("text", ["See you Saturday", "stopping by later", "gracias", ""])
def test_ordinary_replies(text):
    assert classify(text).kind == ""
