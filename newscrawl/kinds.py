"""Kinds of edit, read off a diff and its two versions when the diff is written.

``edit_kinds`` names what a change did, in a fixed order (KINDS): the headline changed, a
number changed (each kept as "old → new"), a quotation was added, removed or altered (text
inside quotation marks of the page's language: "…", “…”, ”…”, «…», »…«, „…“, 「…」, 『…』),
a paragraph was added or removed, the byline or the publication date changed, a correction
or update notice was added (English and the languages of the international corpus), and
"silent": a change of the text that adds no such notice. A minor change (punctuation or
whitespace only) is never called silent. Paragraphs that only moved count for nothing.

Only what the diff stores and the two versions hold is read, so the kinds of a stored diff
can be computed again at any time (``kinds_fields``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from rapidfuzz import fuzz

from newscrawl.diff import headlines_changed
from newscrawl.normalize import normalize_for_hash

HEADLINE = "headline"
NUMBER = "number"
QUOTE_ADDED = "quote_added"
QUOTE_REMOVED = "quote_removed"
QUOTE_ALTERED = "quote_altered"
PARAGRAPH_ADDED = "paragraph_added"
PARAGRAPH_REMOVED = "paragraph_removed"
BYLINE = "byline"
DATES = "dates"
NOTICE = "notice"
SILENT = "silent"
KINDS = (HEADLINE, NUMBER, QUOTE_ADDED, QUOTE_REMOVED, QUOTE_ALTERED, PARAGRAPH_ADDED,
         PARAGRAPH_REMOVED, BYLINE, DATES, NOTICE, SILENT)  # fmt: skip
# Numbers kept per diff ("12 → 14 dead"); the kind counts them all.
MAX_NUMBERS = 10
# Two quotations this alike (rapidfuzz ratio) are one quotation altered, not one removed and
# one added.
QUOTE_PAIR = 60.0

# Quotation marks by convention: opening mark, the marks that may close it. Straight quotes
# and Swedish/Finnish ”…” open and close with the same mark.
_QUOTE = re.compile(
    r"“([^“”\n]{3,}?)[”“]"  # English, Chinese, Korean; also “…“
    r"|„([^„“”\n]{3,}?)[“”]"  # German, Czech, Polish, Lithuanian, Ukrainian
    r"|«\s?([^«»\n]{3,}?)\s?»"  # French, Spanish, Italian, Russian, Norwegian...
    r"|»([^»«\n]{3,}?)«"  # German and Danish alternative
    r"|「([^「」\n]{2,}?)」|『([^『』\n]{2,}?)』"  # Japanese, Chinese
    r"|‹([^‹›\n]{3,}?)›"
    r'|"([^"\n]{3,}?)"'
    r"|”([^”\n]{3,}?)”"
)
# A number: digits with thousands or decimal separators, and a percent sign if any.
_NUM = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?\s?%?")
_WORD_AFTER = re.compile(r"\s*([^\W\d_][\w'’-]*)")

# Correction and update notices: phrases an editor adds to the text to say it changed.
_NOTICES = [
    # English
    r"^\W*(?:correction|clarification|corrections?\s+and\s+clarifications|editor'?s?’?s?\s+note"
    r"|update[sd]?)\b[^.:]{0,40}[:—–]",
    r"\bthis (?:article|story|report|piece|post|page|version) (?:has been|was|is) "
    r"(?:updated|corrected|amended|changed|edited|revised)",
    r"\ban? (?:earlier|previous|prior|older) version of this (?:article|story|report|piece)",
    r"\b(?:updated|corrected|amended) to (?:reflect|include|correct|clarify|add|remove)",
    r"\bwe (?:have )?(?:corrected|amended|updated) (?:this|the) (?:article|story|report)"
    r"|\bwe regret the error",
    # German
    r"\bberichtigung\b|^\W*korrektur\s*:|\banmerkung der redaktion\b|^\W*aktualisierung\s*:",
    r"\bin einer (?:früheren|vorherigen|ersten|älteren) (?:version|fassung)",
    r"\b(?:dieser|der) (?:artikel|text|beitrag) wurde (?:\w+ )?(?:aktualisiert|korrigiert|"
    r"geändert|ergänzt|berichtigt)",
    # French
    r"\brectificatif\b|\berratum\b|^\W*correction\s*:|^\W*mise à jour\s*:|\bnote de la rédaction",
    r"\bcet article a été (?:\w+ )?(?:mis à jour|modifié|corrigé|actualisé)",
    r"\bune (?:précédente|première|ancienne) version de cet article",
    # Spanish, Galician, Portuguese
    r"\brectificación\b|\bfe de erratas\b|^\W*correcci[óo]n\s*:|^\W*actualizaci[óo]n\s*:"
    r"|\bnota de la redacción|\bnota del editor",
    r"\b(?:este|esta) (?:artículo|artigo|nota|información|noticia) (?:ha sido|fue|foi) "
    r"(?:actualizad[oa]|corregid[oa]|modificad[oa]|actualizado|corrixido)",
    r"\buna versión anterior de (?:este|esta)",
    r"^\W*corre[çc][ãa]o\s*:|\berrata\b|^\W*atualiza[çc][ãa]o\s*:|\bnota da reda[çc][ãa]o",
    r"\b(?:este|esta) (?:artigo|texto|reportagem|notícia) foi (?:atualizad[oa]|corrigid[oa])",
    r"\buma versão anterior (?:deste|desta)",
    # Italian
    r"\brettifica\b|^\W*correzione\s*:|^\W*aggiornamento\s*:|\bnota della redazione",
    r"\bquesto articolo è stato (?:aggiornato|corretto|modificato)",
    r"\buna (?:precedente|prima) versione di questo articolo",
    # Dutch
    r"\brectificatie\b|^\W*correctie\s*:|\bin een eerdere versie van dit artikel",
    r"\bdit artikel (?:is|werd) (?:\w+ )?(?:bijgewerkt|aangepast|gecorrigeerd)",
    # Danish, Norwegian, Swedish, Icelandic
    r"^\W*(?:rettelse|rättelse|korrigering|leiðrétting)\s*:",
    r"^\W*(?:opdateret|oppdatert|uppdaterad|uppfært)\s*:",
    r"\bi en (?:tidligere|tidigare) (?:version|versjon) af|\bi en (?:tidligere|tidigare) "
    r"(?:versjon|version) av",
    r"\bartik(?:len|kelen|eln) (?:er|har) (?:blevet |blitt )?(?:opdateret|rettet|oppdatert|"
    r"korrigert|uppdaterats|korrigerats|rättats)",
    # Polish, Czech, Lithuanian
    r"\bsprostowanie\b|^\W*korekta\s*:|^\W*aktualizacja\s*:|\bw poprzedniej wersji",
    r"^\W*oprava\s*:|^\W*aktualizace\s*:|\bčlánek byl (?:aktualizován|upraven|opraven)"
    r"|\bv předchozí verzi",
    r"\bpatikslinimas\b|^\W*atnaujinta\s*:|\bstraipsnis (?:buvo )?atnaujintas",
    # Russian, Ukrainian
    r"\bпоправка\b|^\W*исправление\s*:|^\W*обновлено\s*:|\bстатья (?:была )?обновлена"
    r"|\bв предыдущей версии",
    r"\bвиправлення\b|^\W*оновлено\s*:|\bстаттю (?:було )?оновлено|\bу попередній версії",
    # Turkish, Indonesian
    r"^\W*düzeltme\s*:|^\W*güncelleme\s*:|\bbu haber güncellen|\bönceki (?:versiyon|sürüm)",
    r"^\W*(?:ralat|koreksi|pembaruan)\s*:|\bartikel ini (?:telah )?(?:diperbarui|dikoreksi|"
    r"direvisi)",
    # Japanese, Chinese, Korean
    r"^\W*(?:訂正|おわび|更正|勘誤|勘误|編按|编者按|정정보도|바로잡습니다)|【(?:更新|追記|訂正)】"
    r"|本文已更新|바로잡습니다",
    # Second round: wordings the labelled sample's first measurement missed (see README)
    r"\bfe de errores\b|\b(?:articolo|notizia) (?:è stat[oa] )?aggiornat[oa]",
    r"\b(?:texto|artigo|notícia) (?:foi )?atualizad[oa]|\b(?:esta|este) (?:nova|artigo|noticia) "
    r"foi actualizad[oa]",
    r"\b(?:saken|artikkelen) (?:er|har blitt) (?:blitt )?(?:oppdatert|rettet|korrigert)",
    r"\bhaber\W+(?:\w+\W+){0,4}güncellendi|\bartykuł (?:został )?zaktualizowany",
    r"\bматериал (?:был )?(?:дополнен|обновл[её]н|исправлен)"
    r"|\b(?:новину|матеріал|статтю) (?:було )?(?:оновлено|доповнено|виправлено)",
    r"\b(?:fréttin|greinin) hefur verið (?:uppfærð|leiðrétt)",
    r"この記事は.{0,10}(?:更新|修正)|이 기사는.{0,10}(?:수정|업데이트)|기사가 수정",
    r"\bđính chính\b|\bbài viết (?:đã được )?cập nhật",
]
_NOTICE = re.compile("|".join(f"(?:{p})" for p in _NOTICES), re.IGNORECASE | re.MULTILINE)


def quotations(text: str) -> list[str]:
    """The quoted passages of ``text``, in order."""
    return [next(g for g in m.groups() if g is not None).strip() for m in _QUOTE.finditer(text)]


def is_notice(text: str) -> bool:
    """Whether ``text`` (a paragraph) says the article was corrected or updated."""
    return _NOTICE.search(text) is not None


def edit_kinds(diff: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``{"kinds": [...], "numbers": ["12 → 14 dead", ...]}`` for a diff between the
    version documents ``old`` and ``new`` (title, paragraphs, byline, published)."""
    found: set[str] = set()
    if headlines_changed(diff):
        found.add(HEADLINE)
    rows = [r for r in diff["paragraphs"] if r["op"] != "equal" and not r.get("moved")]
    if any(r["op"] == "insert" for r in rows):
        found.add(PARAGRAPH_ADDED)
    if any(r["op"] == "delete" for r in rows):
        found.add(PARAGRAPH_REMOVED)
    numbers = _numbers(diff)
    if numbers:
        found.add(NUMBER)
    found |= _quote_kinds(diff, old, new)
    if _norm(old.get("byline")) != _norm(new.get("byline")):
        found.add(BYLINE)
    if _norm(old.get("published")) != _norm(new.get("published")):
        found.add(DATES)
    if _notice_added(old["paragraphs"], new["paragraphs"]):
        found.add(NOTICE)
    elif not diff.get("minor") and (found - {BYLINE, DATES} or rows):
        found.add(SILENT)
    return {"kinds": [k for k in KINDS if k in found], "numbers": numbers[:MAX_NUMBERS]}


def _norm(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _hunks(segments: list[list[str]]) -> list[tuple[str, str, str]]:
    """(deleted, inserted, text after) of each change in a segment list."""
    out: list[tuple[str, str, str]] = []
    deleted = inserted = ""
    for tag, text in [*segments, ["=", ""]]:
        if tag == "-":
            deleted += text
        elif tag == "+":
            inserted += text
        else:
            if deleted or inserted:
                out.append((deleted, inserted, text))
            deleted = inserted = ""
    return out


def _numbers(diff: dict[str, Any]) -> list[str]:
    """ "old → new" for each number replaced by another in an edited headline or paragraph,
    with the word that follows the new one when there is one ("12 → 14 dead")."""
    lists = [diff["title"]] if diff.get("title") else []
    lists += [r["segments"] for r in diff["paragraphs"] if r["op"] == "replace"]
    out = []
    for segments in lists:
        for deleted, inserted, after in _hunks(segments):
            olds = [n.strip() for n in _NUM.findall(deleted)]
            news = [n.strip() for n in _NUM.findall(inserted)]
            if not olds or not news or Counter(olds) == Counter(news):
                continue
            for a, b in zip(olds, news, strict=False):
                if a != b:
                    word = _WORD_AFTER.match(inserted[inserted.rfind(b) + len(b) :] or after)
                    out.append(f"{a} → {b}" + (f" {word.group(1)}" if word else ""))
    return out


def _quote_kinds(diff: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """Quotations in one version and not the other (in hash form, so a quotation that moved
    counts for nothing). One removed from a paragraph and one added to the paragraph edited
    from it, or two alike enough anywhere, are one quotation altered; the rest are added or
    removed."""

    def quotes(texts: list[str]) -> Counter[str]:
        return Counter(normalize_for_hash(q) for t in texts for q in quotations(t))

    before = quotes([old.get("title") or "", *old["paragraphs"]])
    after = quotes([new.get("title") or "", *new["paragraphs"]])
    removed, added = before - after, after - before
    kinds: set[str] = set()
    pairs = [(old.get("title") or "", new.get("title") or "")]
    pairs += [(old["paragraphs"][r["old"]], new["paragraphs"][r["new"]])
              for r in diff["paragraphs"] if r["op"] == "replace"]  # fmt: skip
    for old_text, new_text in pairs:
        gone = quotes([old_text]) & removed
        came = quotes([new_text]) & added
        paired = min(gone.total(), came.total())
        if paired:
            kinds.add(QUOTE_ALTERED)
            removed -= Counter(dict(list(gone.items())[:paired]))
            added -= Counter(dict(list(came.items())[:paired]))
    rest = list(added.elements())
    for quote in removed.elements():
        match = max(rest, key=lambda q: fuzz.ratio(quote, q), default=None)
        if match is not None and fuzz.ratio(quote, match) >= QUOTE_PAIR:
            rest.remove(match)
            kinds.add(QUOTE_ALTERED)
        else:
            kinds.add(QUOTE_REMOVED)
    if rest:
        kinds.add(QUOTE_ADDED)
    return kinds


def _notice_added(old: list[str], new: list[str]) -> bool:
    """Whether a paragraph of ``new`` that ``old`` does not hold as is (in hash form) is a
    notice. Only those are matched: the notice patterns are many."""
    before = {normalize_for_hash(p) for p in old}
    return any(normalize_for_hash(p) not in before and is_notice(p) for p in new)
