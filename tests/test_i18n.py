"""The message catalogs (backend/i18n.py): complete in Dutch and English, up to date with the code, and a
third language added by dropping in a .po file."""

from __future__ import annotations

import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from backend.i18n import LOCALE_DIR, Catalogs, DataWords, Msg, preferred_language, translate

ROOT = Path(__file__).resolve().parents[1]
COMPLETE = ("nl", "en")


def _po(lang: str, locale_dir: Path = LOCALE_DIR) -> Catalog:
    with (locale_dir / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The msgids `make messages` extracts from the code and templates now (pyproject.toml's [tool.babel])."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    done = subprocess.run([pybabel, "-q", "extract", "-o", pot], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


class TestCatalogs:
    @pytest.mark.parametrize("lang", COMPLETE)
    def test_every_msgid_of_the_code_is_translated(self, extracted: set[str], lang: str) -> None:
        catalog = _po(lang)
        translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        assert sorted(extracted - translated) == []  # `make messages`, then translate what it added

    @pytest.mark.parametrize("lang", COMPLETE)
    def test_the_catalog_holds_no_msgid_the_code_dropped(self, extracted: set[str], lang: str) -> None:
        assert sorted({m.id for m in _po(lang) if m.id} - extracted) == []  # `make messages` removes them

    @pytest.mark.parametrize("lang", COMPLETE)
    def test_a_translation_fills_the_same_placeholders(self, lang: str) -> None:
        wrong = {m.id: m.string for m in _po(lang) if m.id and _placeholders(m.id) != _placeholders(m.string)}
        assert wrong == {}

    def test_dutch_is_not_english(self) -> None:
        # Words that read the same in both languages are few; a copied English catalog would not be.
        catalog = [m for m in _po("nl") if m.id]
        same = [m.id for m in catalog if m.id == m.string]  # 'EAN', 'null', 'specialist'...
        assert len(same) < len(catalog) / 20, same

    def test_the_compiled_catalogs_answer(self) -> None:
        assert translate("nl", "Not found") == "Niet gevonden"
        assert translate("en", "Not found") == "Not found"
        assert translate("nl", "The field '{field}' is owned by the server and may not be sent.", field="state") == (
            "Het veld 'state' wordt door de server bepaald en mag niet worden meegestuurd."
        )

    def test_an_unoffered_language_is_never_chosen(self) -> None:
        assert preferred_language("de-DE,de;q=0.9") == "nl"


class TestAThirdLanguage:
    @pytest.fixture
    def locale_dir(self, tmp_path: Path) -> Path:
        """The package's catalogs and a tiny German one dropped beside them, compiled as the build does."""
        shutil.copytree(LOCALE_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.mo"))
        german = Catalog(locale="de", fuzzy=False)
        german.add("Not found", "Nicht gefunden")
        german.add("Too many requests", "")  # not translated yet: English
        (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)
        with (tmp_path / "de" / "LC_MESSAGES" / "messages.po").open("wb") as f:
            write_po(f, german)
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run([pybabel, "-q", "compile", "-d", tmp_path], check=True, capture_output=True)
        return tmp_path

    def test_it_is_offered_and_chosen_by_accept_language(self, locale_dir: Path) -> None:
        catalogs = Catalogs(locale_dir)
        assert catalogs.languages == {"nl", "en", "de"}
        assert catalogs.preferred_language("de-DE,de;q=0.9,nl;q=0.8") == "de"
        assert catalogs.preferred_language(None) == "nl"

    def test_it_speaks_what_it_translates_and_english_for_the_rest(self, locale_dir: Path) -> None:
        catalogs = Catalogs(locale_dir)
        assert catalogs.translate("de", "Not found") == "Nicht gefunden"
        assert catalogs.translate("de", "Too many requests") == "Too many requests"
        assert catalogs.translate("nl", "Too many requests") == "Te veel verzoeken"


class TestWordedLater:
    def test_a_msg_words_its_parameters_in_the_readers_language(self) -> None:
        device = Msg("charger")
        said = Msg("Your {device} is online.", {"device": device})
        assert (said.words("nl"), said.words("en")) == ("Uw laadpaal is online.", "Your charger is online.")

    def test_data_words_read_english_in_a_third_language(self) -> None:
        label = DataWords("meterkast", "meter cabinet")
        assert (label.words("nl"), label.words("de")) == ("meterkast", "meter cabinet")

    def test_no_words_are_no_words_not_the_catalog_header(self) -> None:
        assert translate("nl", "") == "" and Msg("").words("nl") == ""
