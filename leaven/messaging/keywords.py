"""Reading opt-out, opt-in and help words in incoming texts, in English and Spanish."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

OPT_OUT = {
    "STOP": "en",
    "STOPALL": "en",
    "UNSUBSCRIBE": "en",
    "CANCEL": "en",
    "END": "en",
    "QUIT": "en",
    "REVOKE": "en",
    "OPT OUT": "en",
    "PARAR": "es",
    "ALTO": "es",
    "BAJA": "es",
    "CANCELAR": "es",
    "DETENER": "es",
}
OPT_IN = {"START": "en", "UNSTOP": "en"}
HELP = {"HELP": "en", "AYUDA": "es"}


@dataclass(frozen=True)
class Keyword:
    kind: str  # "opt_out", "opt_in", "help", "review" or "" (an ordinary reply)
    language: str = "en"


def fold(text: str) -> str:
    """Upper case, accents removed, punctuation turned to spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.sub(r"[^\w]+|_", " ", plain.upper())
    return " ".join(words.split())


def classify(body: str) -> Keyword:
    """What an incoming text asks for. Only a message that is nothing but the word counts;
    an opt-out word inside a sentence goes to a person for review."""
    folded = fold(body)
    for table, kind in ((OPT_OUT, "opt_out"), (OPT_IN, "opt_in"), (HELP, "help")):
        if folded in table:
            return Keyword(kind, table[folded])
    padded = f" {folded} "
    for word, language in OPT_OUT.items():
        if f" {word} " in padded:
            return Keyword("review", language)
    return Keyword("")
