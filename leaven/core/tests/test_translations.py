"""Spanish is first-class: every string Leaven shows is in the Spanish catalog, translated,
not fuzzy, and the compiled catalog (committed, so a machine without gettext still gets
Spanish) matches it.

To add or update translations:

    make messages
    # translate the new entries in each django.po it names, then `make messages` again

An app with its own `locale/` folder (leaven/<app>/locale) keeps its strings in its own
catalog, as makemessages does: a string belongs to the catalog of the nearest `locale/`
folder above it, else to leaven/locale.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
LOCALE = PACKAGE / "locale" / "es" / "LC_MESSAGES"
PO_FILE = LOCALE / "django.po"
HOW_TO_FIX = "run `make messages`, translate the new entries, then `make messages` again"


def po_files() -> list[Path]:
    """Every Spanish catalog: the project's and any app's own."""
    return sorted(PACKAGE.glob("**/locale/es/LC_MESSAGES/django.po"))


def catalog_root(po_file: Path) -> Path:
    """The folder whose sources feed this catalog (the parent of its `locale/`)."""
    return po_file.parents[3]


def catalog_of(source: Path) -> Path:
    """The catalog a source file's strings belong to: the nearest `locale/` above it."""
    roots = sorted((catalog_root(po) for po in po_files()), key=lambda p: len(p.parts))
    owner = max((r for r in roots if source.is_relative_to(r)), key=lambda p: len(p.parts))
    return owner / "locale" / "es" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    msgid: str = ""
    msgstr: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def parse_po(text: str) -> list[Entry]:
    """A small reader for the subset of the PO format that gettext writes."""
    entries: list[Entry] = []
    current = Entry()
    started = False
    last: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal current, started, last
        if started:
            entries.append(current)
        current, started, last = Entry(), False, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        elif line.startswith("#"):
            if started and last is not None and last[0].startswith("msgstr"):
                finish()
            if line.startswith("#,"):
                current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, literal = match.groups()
            if keyword in ("msgid", "msgctxt") and last is not None and last[0] == "msgstr":
                finish()
            value = ast.literal_eval(literal)
            started = True
            current.obsolete = current.obsolete or obsolete
            if index is not None:
                current.msgstr_plural[int(index)] = value
                last = ("msgstr", int(index))
            else:
                setattr(current, keyword, value)
                last = ("msgstr" if keyword == "msgstr" else keyword, None)
            continue
        if line.startswith('"') and last is not None:
            value = ast.literal_eval(line)
            name, index = last
            if index is not None:
                current.msgstr_plural[index] += value
            else:
                setattr(current, name, getattr(current, name) + value)
            continue
        raise AssertionError(f"unreadable line in a catalog: {raw!r}")
    finish()
    return entries


def catalog_entries(po_file: Path = PO_FILE) -> list[Entry]:
    entries = parse_po(po_file.read_text(encoding="utf-8"))
    return [e for e in entries if e.msgid and not e.obsolete]


# Strings the code marks for translation, found the way makemessages finds them.
_PY_FUNCS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
_TEMPLATE_CALL = re.compile(r"\b(n?p?gettext)\((.*?)\)\s", re.S)
_STRING = re.compile(r"""u?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def _source_files(*suffixes: str) -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*"))
        if path.suffix in suffixes
        and "tests" not in path.relative_to(PACKAGE).parts
        and "migrations" not in path.relative_to(PACKAGE).parts
    ]


def marked_strings(po_file: Path = PO_FILE) -> set[tuple[str | None, str]]:
    """The strings marked in the sources that belong to this catalog."""
    from django.utils.translation.template import templatize

    found: set[tuple[str | None, str]] = set()
    for path in _source_files(".py"):
        if catalog_of(path) != po_file:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in _PY_FUNCS:
                continue
            ctx_i, msg_i, plural_i = _PY_FUNCS[name]
            args = node.args
            if len(args) <= msg_i or not isinstance(args[msg_i], ast.Constant):
                continue
            if not isinstance(args[msg_i].value, str):
                continue
            context = args[ctx_i].value if ctx_i is not None else None
            found.add((context, args[msg_i].value))
    for path in _source_files(".html", ".txt"):
        if catalog_of(path) != po_file:
            continue
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for func, inner in _TEMPLATE_CALL.findall(code):
            strings = [ast.literal_eval(s) for s in _STRING.findall(inner)]
            if not strings:
                continue
            if func.startswith("np") or func.startswith("p"):
                context, message = strings[0], strings[1]
            else:
                context, message = None, strings[0]
            found.add((context, message))
    return found


def test_catalog_exists_and_is_spanish():
    entries = parse_po(PO_FILE.read_text(encoding="utf-8"))
    header = next(e for e in entries if e.msgid == "")
    assert "Language: es\n" in header.msgstr
    assert "charset=UTF-8" in header.msgstr
    assert "fuzzy" not in header.flags
    assert len(catalog_entries()) > 300


@pytest.mark.parametrize("po_file", po_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_entry_is_translated_and_none_is_fuzzy(po_file):
    entries = catalog_entries(po_file)
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}; {HOW_TO_FIX}"
    assert not fuzzy, f"fuzzy (check and clear the flag): {fuzzy}; {HOW_TO_FIX}"


@pytest.mark.parametrize("po_file", po_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_placeholders_survive_translation(po_file):
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
    for entry in catalog_entries(po_file):
        if entry.msgid_plural is None:
            assert sorted(placeholder.findall(entry.msgid)) == sorted(
                placeholder.findall(entry.msgstr)
            ), entry.msgid


@pytest.mark.parametrize("po_file", po_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_marked_string_is_in_the_catalog(po_file):
    known = {(e.msgctxt, e.msgid) for e in catalog_entries(po_file)}
    missing = sorted(
        message
        for context, message in marked_strings(po_file)
        if (context, message) not in known and (context, message.replace("%%", "%")) not in known
    )
    assert not missing, f"not in the Spanish catalog: {missing}; {HOW_TO_FIX}"


@pytest.mark.parametrize("po_file", po_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_compiled_catalog_matches_the_po_file(po_file):
    mo_file = po_file.with_suffix(".mo")
    assert mo_file.exists(), f"{mo_file} is missing; {HOW_TO_FIX}"
    with mo_file.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog
    stale = []
    for entry in catalog_entries(po_file):
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if catalog.get(key) != entry.msgstr:
                stale.append(entry.msgid)
        else:
            for index, text in entry.msgstr_plural.items():
                if catalog.get((key, index)) != text:
                    stale.append(entry.msgid)
    assert not stale, f"django.mo is older than django.po for {stale}; {HOW_TO_FIX}"
    singular = [k for k in catalog if isinstance(k, str) and k]
    assert len(singular) == len([e for e in catalog_entries(po_file) if e.msgid_plural is None])


@pytest.mark.django_db
def test_people_page_in_spanish(client_for, coordinator, make_person):
    make_person(given_name="María", family_name="Muñoz", stage="supporter")
    client = client_for(coordinator)
    client.cookies["django_language"] = "es"
    response = client.get("/people/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in page
    assert "Personas" in page
    assert "Cerrar sesión" in page
    assert "Simpatizante" in page  # a model choice, translated on the Python side
    assert "Cualquier etapa" in page  # a form choice
    assert "People" not in page.replace("Leaven", "")


@pytest.mark.django_db
def test_python_side_messages_in_spanish(client_for, coordinator, make_person):
    maria = make_person(given_name="María", family_name="Muñoz")
    client = client_for(coordinator)
    client.cookies["django_language"] = "es"
    response = client.post(
        f"/people/{maria.pk}/phones/new/", {"number": "12", "kind": "mobile", "sms_status": "none"}
    )
    assert "Escriba un número de teléfono válido." in response.content.decode()
    response = client.post(
        f"/people/{maria.pk}/phones/new/",
        {"number": "312 555 0142", "kind": "mobile", "sms_status": "none"},
        follow=True,
    )
    page = response.content.decode()
    assert "Guardado." in page
    assert "Celular" in page
    assert "Sin permiso para SMS" in page
