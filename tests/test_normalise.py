"""Normalisation: spelling variants, abbreviations and other names of desa become the same tokens."""

import pytest

from knowledge.normalise import Normaliser, fold


@pytest.fixture(scope="module")
def norm():
    return Normaliser.default()


def test_fold_removes_case_accents_punctuation():
    assert fold("Kerja-Sama  antar-Desa?!") == "kerja sama antar desa"
    assert fold("pihak ke-3") == "pihak ke 3"
    assert fold("Assalamu'alaikum") == "assalamualaikum"


@pytest.mark.parametrize(
    "variants",
    [
        ["kerja sama antar desa", "kerjasama antardesa", "Kerja Sama antar-Desa", "kerja sama antar nagari", "kerjasama antar gampong"],
        ["peraturan bersama kepala desa", "perber kades", "Perber Kades", "peraturan bersama kades"],
        ["pihak ketiga", "pihak ke-3", "pihak ke 3", "pihak ketiga"],
        ["musyawarah antar desa", "MAD", "musyawarah antar-Desa"],
        ["bum desa bersama", "bumdesma", "BUMDes bersama", "badan usaha milik desa bersama"],
        ["musyawarah desa", "musdes", "Musdes"],
        ["badan kerja sama antar desa", "BKAD", "badan kerjasama antardesa"],
        ["apb desa", "APBDes", "apbdes"],
    ],
)
def test_variants_normalise_alike(norm, variants):
    forms = {norm.text(v) for v in variants}
    assert len(forms) == 1, forms


def test_stopwords_dropped_and_words_stemmed(norm):
    assert norm.tokens("apakah kerja sama itu") == ["kerjasama"]
    assert "selesai" in norm.tokens("penyelesaian perselisihan")


def test_smalltalk(norm):
    assert norm.smalltalk("Halo") == "greeting"
    assert norm.smalltalk("assalamualaikum pak") == "greeting"
    assert norm.smalltalk("terima kasih banyak bu") == "thanks"
    assert norm.smalltalk("halo, apa itu bkad") is None


def test_approval_is_not_purpose(norm):
    """Sastrawi stems both "setuju" and "tujuan" to "tuju"; the data file keeps them apart."""
    assert set(norm.tokens("persetujuan BPD")).isdisjoint(norm.tokens("tujuan kerja sama"))


def test_out_of_scope_terms_need_no_cooperation_anchor(norm):
    assert norm.out_of_scope(norm.tokens("dana desa kapan cair"))
    assert norm.out_of_scope(norm.tokens("cara lapor SPJ dana desa"))
    assert not norm.out_of_scope(norm.tokens("pencairan dana kerja sama antar desa"))
    assert not norm.out_of_scope(norm.tokens("apa itu bkad"))


@pytest.mark.parametrize(
    "chat, standard",
    [
        ("kerjasama sm desa sebelah hrs pake perber ga", "kerja sama dengan desa sebelah harus pakai perber tidak"),
        ("bumdes kmi udh bs kerjasama dgn pt tuh", "BUM Desa kami sudah bisa kerja sama dengan perusahaan itu"),
        ("sblm teken pks msh perlu musdes kah", "sebelum tanda tangan perjanjian kerja sama masih perlu musdes"),
        ("piye carane kerjo bareng karo deso liyane", "bagaimana caranya kerja sama dengan desa lain"),
        ("baa caronyo karajo samo jo nagari lain", "bagaimana caranya kerja sama dengan desa lain"),
    ],
)
def test_chat_abbreviations_and_regional_fillers_read_as_the_standard_words(norm, chat, standard):
    """Fillers and abbreviations must not become rare words that match (or sink) a phrasing by themselves."""
    assert norm.tokens(chat) == norm.tokens(standard)


def test_kak_stays_a_term(norm):
    # "kak" is also a form of address, but KAK (kerangka acuan kerja) is a term of the pihak ketiga stages.
    assert "kak" in norm.tokens("apa isi KAK kerja sama dengan pihak ketiga")


def test_out_of_scope_terms_are_found_anywhere_in_the_question(norm):
    """Terms are looked up by their first token: a term at the start, in the middle and at the end is found, a
    term whose words are apart is not."""
    n = norm
    assert n.out_of_scope(n.tokens("kerja sama provinsi dengan kabupaten"))
    assert n.out_of_scope(n.tokens("tanya soal sister city pemda"))
    assert n.out_of_scope(n.tokens("bagaimana prosedur kerja sama pemerintah provinsi"))
    assert not n.out_of_scope(n.tokens("kerja sama desa beda provinsi bisa?"))
    assert not n.out_of_scope(n.tokens("sister kami tinggal di city"))


@pytest.mark.parametrize("text, named", [
    ("apakah bpd terlibat", True),  # a [key_terms] thing, no kerja sama word
    ("siapa yang menandatangani kerjasama", True),  # a kerja sama anchor
    ("cara mengurus ktp", False),
    ("", False),
])
def test_names_in_scope_reads_anchors_and_key_terms(norm, text, named):
    assert norm.names_in_scope(norm.tokens(text)) is named
