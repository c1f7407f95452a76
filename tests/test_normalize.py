from newscrawl.normalize import clean_text, content_hash, loose_hash, normalize_for_hash


def test_clean_text_keeps_display_form_but_drops_controls_and_extra_space():
    assert (
        clean_text("  It\u2019s\u00a0a \u201ctest\u201d\x00\n\n ok\ud800 ")
        == "It\u2019s a \u201ctest\u201d ok"
    )


def test_clean_text_composes_to_nfc():
    assert clean_text("Cafe\u0301") == "Caf\u00e9"


def test_typographic_variants_hash_alike():
    assert normalize_for_hash("\u201cA\u201d \u2014 it\u2019s\u2026") == '"A" - it\'s...'
    assert content_hash("T", ["It\u2019s \u201cok\u201d"]) == content_hash("T", ['It\'s "ok"'])


def test_real_edits_change_the_hash():
    base = content_hash("Title", ["Ten people died.", "More later."])
    assert content_hash("Title", ["Eleven people died.", "More later."]) != base
    assert content_hash("Title!", ["Ten people died.", "More later."]) != base
    assert content_hash("Title", ["Ten people died."]) != base
    assert content_hash("Title", ["Ten people died. More later."]) != base  # merged paragraphs


def test_empty_paragraphs_do_not_count():
    assert content_hash("T", ["a", "", "  ", "b"]) == content_hash("T", ["a", "b"])


def test_loose_hash_ignores_punctuation_and_whitespace_only():
    assert loose_hash("T", ["Hello, world."]) == loose_hash("T", ["Hello world"])
    assert loose_hash("T", ["Hello world"]) != loose_hash("T", ["Hello there world"])


def test_other_headlines_are_hashed_and_their_absence_keeps_the_plain_hash():
    plain = content_hash("Title", ["Body."])
    assert content_hash("Title", ["Body."], []) == plain
    social = content_hash("Title", ["Body."], ["Social headline"])
    assert social != plain
    assert content_hash("Title", ["Body."], ["Social headline, edited"]) != social
    assert content_hash("Title", ["Body.", "Social headline"]) != social  # not a paragraph
    assert loose_hash("Title", ["Body."], ["Social headline!"]) == loose_hash(
        "Title", ["Body."], ["Social headline"]
    )


def test_other_headlines_hash_the_same_in_any_order():
    assert content_hash("T", ["B."], ["One", "Two"]) == content_hash("T", ["B."], ["Two", "One"])
