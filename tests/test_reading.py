"""The table of cases for reading typed input at a step (handlers/reading.py): what each message means."""

import pytest

from handlers.reading import fold, read, read_duration, strip_prefixes
from knowledge.normalise import Normaliser

CONFIRM = ("Sudah", "Belum", "Tidak berlaku", "Kenapa?")
TEXT = ("Lewati", "Kenapa?")
TRIAGE_YN = ("Ya", "Tidak", "Kenapa?")
smalltalk = Normaliser.default().smalltalk

# (typed, expecting, labels, kind, value or None for "any")
CASES = [
    # the list in focus: its number or its label
    ("1", "confirm", CONFIRM, "choice", None),
    ("4", "confirm", CONFIRM, "choice", None),
    ("Tidak berlaku", "confirm", CONFIRM, "choice", None),
    ("kenapa?", "confirm", CONFIRM, "choice", None),
    ("2.", "text", TEXT, "choice", None),
    ("lewati", "text", TEXT, "choice", None),
    ("9", "confirm", CONFIRM, "number", None),
    ("7", "duration", TEXT, "number", None),
    # command words without the slash
    ("status", "confirm", CONFIRM, "command", "status"),
    ("Status pak", "name", (), "command", "status"),
    ("dokumen", "text", TEXT, "command", "dokumen"),
    ("batal", "name", (), "command", "batal"),
    ("menu", "text", TEXT, "command", "mulai"),
    ("mulai", "confirm", CONFIRM, "command", "mulai"),
    ("lanjut", "text", TEXT, "command", "usulan"),
    ("lanjutkan", "confirm", CONFIRM, "command", "usulan"),
    ("hapus", "text", TEXT, "command", "hapus"),
    ("tanya", "text", TEXT, "command", "tanya"),
    ("help", "text", TEXT, "command", "bantuan"),
    ("bantuan", "confirm", CONFIRM, "command", "bantuan"),
    ("ubah", "confirm", CONFIRM, "command", "ubah"),
    ("ringkasan", "text", (), "command", "ringkasan"),
    # calling off
    ("tidak jadi", "text", TEXT, "cancel", None),
    ("gak jadi pak", "name", (), "cancel", None),
    # greetings and thanks alone
    ("terima kasih", "text", TEXT, "smalltalk", "thanks"),
    ("selamat pagi bu", "confirm", CONFIRM, "smalltalk", "greeting"),
    ("Assalamualaikum", "name", (), "smalltalk", "greeting"),
    # everyday yes / not yet / no / not applicable
    ("sudah pak", "confirm", CONFIRM, "yes", None),
    ("iya sudah", "confirm", CONFIRM, "yes", None),
    ("udh", "confirm", CONFIRM, "yes", None),
    ("sudha", "confirm", CONFIRM, "yes", None),
    ("sudaaah", "confirm", CONFIRM, "yes", None),
    ("yes", "confirm", CONFIRM, "yes", None),
    ("sampun", "confirm", CONFIRM, "yes", None),
    ("Alhamdulillah sudah pak", "confirm", CONFIRM, "yes", None),
    ("muhun", "yesno", TRIAGE_YN, "yes", None),
    ("belum pak", "confirm", CONFIRM, "not_yet", None),
    ("blm ada", "confirm", CONFIRM, "not_yet", None),
    ("belom", "confirm", CONFIRM, "not_yet", None),
    ("dereng", "confirm", CONFIRM, "not_yet", None),
    ("teu acan", "confirm", CONFIRM, "not_yet", None),
    ("belum, masih proses", "confirm", CONFIRM, "not_yet", None),
    ("nggak", "confirm", CONFIRM, "no", None),
    ("no", "yesno", TRIAGE_YN, "no", None),
    ("mboten", "yesno", TRIAGE_YN, "no", None),
    ("tidak, belum", "confirm", CONFIRM, "not_yet", None),
    ("tdk berlaku", "confirm", CONFIRM, "na", None),
    ("tidak perlu", "confirm", CONFIRM, "na", None),
    ("sudah tapi belum lengkap", "confirm", CONFIRM, "value", None),  # mixed: not read as yes
    ("susah", "confirm", CONFIRM, "value", None),  # a real word, not a typo of "sudah"
    ("yyyyyyyyyyyyyyyyyy", "confirm", CONFIRM, "value", None),
    # questions about the step itself
    ("maksudnya desa sy sendiri atau desa mitra", "name", TEXT, "help", None),
    ("gimana cara ngisinya", "name", TEXT, "help", None),
    ("contohnya apa?", "text", TEXT, "help", None),
    ("ini diisi apa pak", "text", TEXT, "help", None),
    ("maksudnya?", "confirm", CONFIRM, "help", None),
    ("?", "text", TEXT, "help", None),
    ("bingung", "confirm", CONFIRM, "help", None),
    ("wajib?", "confirm", CONFIRM, "why", None),
    ("itu wajib?", "confirm", CONFIRM, "why", None),
    ("dasar hukumnya apa", "text", TEXT, "why", None),
    # questions about the rules
    ("apa itu bkad?", "confirm", CONFIRM, "question", "apa itu bkad?"),
    ("siapa saja anggota bkad", "text", TEXT, "question", None),
    ("tanya: perber itu apa", "text", TEXT, "question", "perber itu apa"),
    ("bagaimana kalau dibagi dua", "text", TEXT, "question", None),
    ("Bpd terlibat dalam kerja sama desa?", "text", TEXT, "question", None),
    # values
    ("Sukamaju", "name", TEXT, "value", "Sukamaju"),
    ("Desa Sukamaju", "name", TEXT, "value", "Desa Sukamaju"),
    ("Pembangunan jalan tani", "text", TEXT, "value", None),
    ("3 tahun", "duration", TEXT, "value", None),
    ("", "text", TEXT, "empty", None),
    ("...", "text", TEXT, "value", "..."),
]


@pytest.mark.parametrize("typed,expecting,labels,kind,value", CASES, ids=[f"{c[1]}:{c[0]!r}" for c in CASES])
def test_reading_table(typed, expecting, labels, kind, value):
    r = read(typed, expecting, labels, smalltalk=smalltalk)
    assert r.kind == kind, r
    if value is not None:
        assert r.value == value


@pytest.mark.parametrize("typed", ["Tes", "test", "coba", "gak tau"])
def test_doubtful_names_are_checked_before_they_are_stored(typed):
    r = read(typed, "name", (), smalltalk=smalltalk)
    assert (r.kind, r.certain) == ("value", False)


def test_a_long_name_is_checked_and_a_question_word_start_is_not_sure():
    assert read("desa kami yang ada di ujung kecamatan dekat sungai besar", "name").certain is False
    r = read("bagaimana kalau dibagi dua", "text")
    assert (r.kind, r.certain) == ("question", False)
    assert read("bagaimana kalau dibagi dua?", "text").certain is True


@pytest.mark.parametrize(
    "typed,canonical",
    [("setahun", "1 tahun"), ("2th", "2 tahun"), ("1thn", "1 tahun"), ("1 thn", "1 tahun"), ("6 bln", "6 bulan"),
     ("dua tahun", "2 tahun"), ("2025-2027", "2025–2027"), ("2025 s.d. 2027", "2025–2027"), ("18 bulan", "18 bulan"),
     ("1,5 tahun", "1,5 tahun"), ("sebulan", "1 bulan"), ("selama 3 tahun", "3 tahun"), ("seminggu", "1 minggu")],
)  # fmt: skip
def test_durations_as_people_write_them(typed, canonical):
    assert read_duration(typed) == canonical


@pytest.mark.parametrize("typed", ["lama sekali", "5", "sampai proyek selesai", "2027-2025", "tahun depan"])
def test_what_is_not_only_a_duration(typed):
    assert read_duration(typed) is None


def test_prefixes_the_field_already_says_are_dropped():
    assert strip_prefixes("Desa Sukamaju", ("Desa", "Ds.")) == "Sukamaju"
    assert strip_prefixes("ds. sukamaju", ("Desa", "Ds.")) == "sukamaju"
    assert strip_prefixes("Kec. Cibeber", ("Kecamatan", "Kec.")) == "Cibeber"
    assert strip_prefixes("Kab Cianjur", ("Kabupaten", "Kab.")) == "Cianjur"
    assert strip_prefixes("Kota Banjar", ("Kabupaten", "Kab.")) == "Kota Banjar"  # a kota stays a kota
    assert strip_prefixes("Desa Sukajaya, Ds. Mekarsari, Cikadu", ("Desa", "Ds."), items=True) == "Sukajaya, Mekarsari, Cikadu"
    assert strip_prefixes("Desa", ("Desa",)) == "Desa"  # only the prefix: left for the validation to judge
    assert strip_prefixes("Desawisata Indah", ("Desa",)) == "Desawisata Indah"  # not a word of its own


def test_fold():
    assert fold("Sudah, Pak!") == "sudah pak" and fold("N/A") == "n a" and fold("Éé") == "ee"


@pytest.mark.parametrize("typed,expecting,kind,value", [
    ("wiyurejo pak", "name", "value", "wiyurejo"), ("Sukamaju ya bu.", "name", "value", "Sukamaju"),
    ("Jalan tani, bu", "text", "value", "Jalan tani"), ("Ibu Sri Wahyuni", "name", "value", "Ibu Sri Wahyuni"),
    ("dereng pak, rencana bulan ngajeng", "confirm", "not_yet", None), ("sudah pak, kemarin", "confirm", "yes", None),
    ("sudah, tapi belum lengkap", "confirm", "value", None), ("pak", "name", "smalltalk", "greeting"),
    ("bu?", "text", "help", None),
])  # fmt: skip
def test_courtesy_around_an_answer(typed, expecting, kind, value):
    r = read(typed, expecting, smalltalk=smalltalk)
    assert r.kind == kind, r
    if value is not None:
        assert r.value == value
