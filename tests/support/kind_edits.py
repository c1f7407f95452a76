"""Edits that carry a kind (``newscrawl.kinds``), with the kinds each one is known to make.

The labels come from what the edit does to the page, written here by hand, not from the
rules of ``newscrawl.kinds``: a notice is a sentence an editor of that language would write
(some in wordings the rules were not written for), a quotation is found with the page's own
marks by a finder of this module. ``labelled_variants`` gives, for a corpus page, each edit
with its expected kinds and the kinds left unscored for it (``dont_care``: a word or number
picked at random may sit inside a quotation).
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from typing import Any

from newscrawl.normalize import clean_text
from tests.support.edits import CMS_EDITS, wrapper_of
from tests.support.mutations import (
    BASIC_EDITS,
    article_paragraphs,
    edit_article_body,
    number_changed,
    parse_html,
    serialize_html,
)

Record = dict[str, Any]

# Country folder of the corpora -> language; folders of two languages are told apart by text.
_LANGUAGE = {
    "uk": "en", "us": "en", "at": "de", "de": "de", "li": "de", "cn": "zh", "tw": "zh",
    "cz": "cs", "dk": "da", "es": "es", "mx": "es", "py": "es", "fr": "fr", "gl": "gl",
    "id": "id", "isl": "is", "it": "it", "jp": "ja", "kr": "ko", "lt": "lt", "no": "no",
    "pl": "pl", "pt": "pt", "ru": "ru", "se": "sv", "tr": "tr", "ua": "uk", "vn": "vi",
}  # fmt: skip
_FRENCH = re.compile(r"\b(?:le|la|les|des|est|une)\b")
_DUTCH = re.compile(r"\b(?:het|een|van|zijn|niet)\b")

# Notices an editor adds, two per language: the first in the commonest wording, the second
# in another one a newsroom uses.
NOTICES = {
    "en": ("Correction: An earlier version of this article gave the wrong date for the hearing.",
           "This article was amended on 3 May to correct the spelling of a name."),
    "de": ("Korrektur: In einer früheren Fassung dieses Artikels stand ein falsches Datum.",
           "Transparenzhinweis: Der Text wurde nachträglich ergänzt."),
    "fr": ("Correction : une version précédente de cet article indiquait une date erronée.",
           "Cet article a été mis à jour avec la réaction du ministère."),
    "es": ("Rectificación: una versión anterior de esta noticia indicaba una fecha errónea.",
           "Fe de errores: en este artículo se atribuyó por error la cita a otro portavoz."),
    "gl": ("Corrección: unha versión anterior desta nova indicaba unha data errónea.",
           "Esta nova foi actualizada coa resposta do ministerio."),
    "it": ("Rettifica: in una precedente versione di questo articolo era indicata una data "
           "errata.", "Articolo aggiornato con la replica del ministero."),
    "pt": ("Correção: uma versão anterior deste texto indicava uma data errada.",
           "Texto atualizado às 14h com a resposta do ministério."),
    "nl": ("Correctie: in een eerdere versie van dit artikel stond een verkeerde datum.",
           "Dit artikel is bijgewerkt met een reactie van het ministerie."),
    "da": ("Rettelse: I en tidligere version af artiklen stod der en forkert dato.",
           "Artiklen er opdateret med ministeriets svar."),
    "no": ("Rettelse: I en tidligere versjon av artikkelen sto det feil dato.",
           "Saken er oppdatert med departementets svar."),
    "sv": ("Rättelse: I en tidigare version av artikeln angavs fel datum.",
           "Artikeln har uppdaterats med departementets svar."),
    "is": ("Leiðrétting: Í fyrri útgáfu fréttarinnar var rangt dagsetning.",
           "Fréttin hefur verið uppfærð."),
    "pl": ("Sprostowanie: w poprzedniej wersji artykułu podaliśmy błędną datę.",
           "Artykuł został zaktualizowany o odpowiedź ministerstwa."),
    "cs": ("Oprava: V předchozí verzi článku bylo uvedeno chybné datum.",
           "Článek byl aktualizován o reakci ministerstva."),
    "lt": ("Patikslinimas: ankstesnėje straipsnio versijoje buvo nurodyta neteisinga data.",
           "Straipsnis atnaujintas ministerijos komentaru."),
    "ru": ("Поправка: в предыдущей версии статьи была указана неверная дата.",
           "Материал дополнен комментарием министерства."),
    "uk": ("Виправлення: у попередній версії статті було вказано неправильну дату.",
           "Новину оновлено коментарем міністерства."),
    "tr": ("Düzeltme: Haberin önceki versiyonunda tarih yanlış verilmişti.",
           "Haber, bakanlığın açıklamasıyla güncellendi."),
    "id": ("Ralat: Versi sebelumnya dari artikel ini menyebutkan tanggal yang salah.",
           "Artikel ini telah diperbarui dengan tanggapan kementerian."),
    "vi": ("Đính chính: Phiên bản trước của bài viết ghi sai ngày.",
           "Bài viết đã được cập nhật với phản hồi của bộ."),
    "ja": ("【訂正】当初の記事で日付に誤りがありました。", "この記事は更新されました。"),
    "zh": ("更正：本文早前版本的日期有误。", "（本文已更新）"),
    "ko": ("바로잡습니다: 이전 기사에서 날짜가 잘못 표기됐습니다.", "이 기사는 수정됐습니다."),
}  # fmt: skip
# A quoted statement in the language's marks, added as a paragraph.
_QUOTED = {
    "en": "The minister said: “We will not back down on this.”",
    "de": "Der Minister sagte: „Wir werden hier nicht nachgeben.“",
    "fr": "Le ministre a déclaré : « Nous ne reculerons pas. »",
    "es": "El ministro dijo: «No vamos a dar marcha atrás».",
    "it": "Il ministro ha detto: «Non faremo marcia indietro».",
    "pl": "Minister powiedział: „Nie wycofamy się z tego”.",
    "cs": "Ministr řekl: „Neustoupíme.“",
    "ru": "Министр заявил: «Мы не отступим».",
    "uk": "Міністр заявив: «Ми не відступимо».",
    "da": "Ministeren sagde: »Vi giver ikke efter.«",
    "sv": "Ministern sade: ”Vi kommer inte att backa.”",
    "no": "Statsråden sa: «Vi kommer ikke til å gi oss.»",
    "ja": "大臣は「譲歩するつもりはない」と述べた。",
    "zh": "部长表示：“我们不会让步。”",
    "ko": "장관은 “물러서지 않겠다”고 말했다.",
}
# Quotation marks the generators look for, opening -> closing.
_MARKS = {"“": "”", "„": "“”", "«": "»", "»": "«", "「": "」", '"': '"'}


def language(page_name: str, record: Record) -> str:
    """The page's language, from its corpus folder (and its text, where a folder has two)."""
    folder = page_name.split("/")[0]
    if folder in _LANGUAGE:
        return _LANGUAGE[folder]
    text = " ".join(record["paragraphs"]).lower()
    if len(_FRENCH.findall(text)) > len(_DUTCH.findall(text)) and folder in ("be", "ch", "lu"):
        return "fr"
    return "nl" if folder == "be" else "de"


def _quote_span(text: str) -> tuple[int, int] | None:
    """Start and end of the first passage between a pair of quotation marks."""
    for i, char in enumerate(text):
        if char in _MARKS:
            end = min((j for c in _MARKS[char] if (j := text.find(c, i + 1)) > i + 3),
                      default=-1)  # fmt: skip
            if end > 0:
                return i + 1, end
    return None


def _insert_after_last(html: str, record: Record, text: str) -> tuple[str, list[str]] | None:
    """``text`` as a new paragraph after the last body paragraph, cloned with its wrappers."""
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    if len(paras) < 2:
        return None
    index = max(paras)
    original = paras[index]
    wrapper = wrapper_of(original)
    clone = copy.deepcopy(wrapper)
    target = clone
    node = original
    path = []
    while node is not wrapper:
        parent = node.getparent()
        path.insert(0, parent.index(node))
        node = parent
    for step in path:
        target = target[step]
    for child in list(target):
        target.remove(child)
    target.text = text
    clone.tail = wrapper.tail
    wrapper.tail = None
    wrapper.addnext(clone)
    old = clean_text(original.text_content())
    edit_article_body(tree, old, f"{old}\n{text}")
    expected = list(record["paragraphs"])
    expected.insert(index + 1, text)
    return serialize_html(tree), expected


def _quote_altered(html: str, record: Record, rng: random.Random) -> tuple[str, list[str]] | None:
    """A word inside a quotation of a body paragraph replaced by another."""
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    for index in sorted(paras)[1:]:
        element = paras[index]
        if next(element.iter("a", "b", "i", "em", "strong", "span"), None) is not None:
            continue  # one text node: the quotation can be edited in place
        text = element.text or ""
        span = _quote_span(text)
        if span is None or clean_text(text) != clean_text(element.text_content()):
            continue
        inside = text[span[0] : span[1]]
        words = [m for m in re.finditer(r"[^\W\d_]{4,}", inside)]
        if not words:
            continue
        word = rng.choice(words)
        start, end = span[0] + word.start(), span[0] + word.end()
        element.text = text[:start] + "xyzzy" + text[end:]
        expected = list(record["paragraphs"])
        expected[index] = clean_text(element.text)
        edit_article_body(tree, clean_text(text), expected[index])
        return serialize_html(tree), expected
    return None


def _quote_removed(html: str, record: Record) -> tuple[str, list[str]] | None:
    """A body paragraph holding a quotation removed with its wrapper."""
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    for index in sorted(paras)[1:]:
        element = paras[index]
        text = clean_text(element.text_content())
        if _quote_span(text) is None or len(paras) < 3:
            continue
        edit_article_body(tree, text, "")
        wrapper_of(element).drop_tree()
        expected = list(record["paragraphs"])
        del expected[index]
        return serialize_html(tree), expected
    return None


@dataclass(frozen=True)
class Labelled:
    """One edited page and the kinds the edit makes, written by hand."""

    edit: str
    html: str
    expected: frozenset[str]
    dont_care: frozenset[str] = frozenset()


QUOTES = frozenset({"quote_added", "quote_removed", "quote_altered"})
# Kinds each generic edit of tests.support.mutations and tests.support.edits makes: known
# from the edit.
_GENERIC = {
    "word_changed": {"silent"},
    "number_changed": {"number", "silent"},
    "headline_changed": {"headline", "silent"},
    "paragraph_added": {"paragraph_added", "silent"},
    "paragraph_removed": {"paragraph_removed", "silent"},
    "paragraph_added_cms": {"paragraph_added", "silent"},
    "paragraph_removed_cms": {"paragraph_removed", "silent"},
    "paragraph_removed_end": {"paragraph_removed", "silent"},
    "headline_everywhere": {"headline", "silent"},
    "end_word_changed": {"silent"},
    "end_number_changed": {"number", "silent"},
}
# Edits at a random place: the word, number or paragraph may hold a quotation.
_RANDOM_PLACE = {"word_changed", "number_changed", "paragraph_removed", "paragraph_removed_cms",
                 "paragraph_removed_end", "end_word_changed", "end_number_changed",
                 "headline_changed", "headline_everywhere"}  # fmt: skip


GENERIC_EDITS = (*BASIC_EDITS, *CMS_EDITS)


def labelled_variants(
    name: str, html: str, record: Record, rng: random.Random, generic: tuple = GENERIC_EDITS
) -> list[Labelled]:
    """Every edit this page allows (of the ``generic`` ones, and all of this module's), each
    with its expected kinds."""
    out = []
    for make in generic:
        variant = make(html, record, rng)
        if variant is None:
            continue
        edit, edited = variant[0], variant[1]
        care = QUOTES if edit in _RANDOM_PLACE else frozenset()
        out.append(Labelled(edit, edited, frozenset(_GENERIC[edit]), care))
    lang = language(name, record)
    for n, notice in enumerate(NOTICES.get(lang, ())):
        added = _insert_after_last(html, record, notice)
        if added:
            kinds = {"paragraph_added", "notice"}
            out.append(Labelled(f"notice_{n + 1}", added[0], frozenset(kinds)))
        # a correction of a number, with its notice
        fixed = number_changed(html, record, rng)
        if fixed and n == 0:
            both = _insert_after_last(fixed[1], {**record, "paragraphs": fixed[3]}, notice)
            if both:
                kinds = {"number", "paragraph_added", "notice"}
                out.append(Labelled("number_with_notice", both[0], frozenset(kinds), QUOTES))
    if lang in _QUOTED:
        added = _insert_after_last(html, record, _QUOTED[lang])
        if added:
            kinds = {"paragraph_added", "quote_added", "silent"}
            out.append(Labelled("quote_added", added[0], frozenset(kinds)))
    altered = _quote_altered(html, record, rng)
    if altered:
        out.append(Labelled("quote_altered", altered[0], frozenset({"quote_altered", "silent"})))
    removed = _quote_removed(html, record)
    if removed:
        kinds = {"paragraph_removed", "quote_removed", "silent"}
        out.append(Labelled("quote_removed", removed[0], frozenset(kinds)))
    return out
