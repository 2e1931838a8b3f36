"""Metamorphic wrappers: a question dressed as people send it (greeting, introduction, thanks, context, emoji).

Wrapping a question must not change its outcome or its entry; `./pandu eval --wrapped` measures that.
Names and sentences are picked deterministically from the question, so a run is repeatable.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

DESA = ["Sukamaju", "Mekarsari", "Karanganyar", "Sidomulyo", "Tanjung Harapan", "Lubuk Basung", "Wonosari",
        "Sumber Rejo", "Pagar Alam", "Batu Belah", "Nagari Koto Baru", "Gampong Meunasah"]
KECAMATAN = ["Cibeber", "Ngawen", "Sungai Tarab", "Kuta Alam", "Pangkalan", "Tegalrejo", "Mandor", "Sei Rampah"]
KABUPATEN = ["Cianjur", "Gunungkidul", "Tanah Datar", "Aceh Besar", "Karawang", "Magelang", "Landak", "Serdang Bedagai"]
NAMA = ["Budi Santoso", "Siti Aminah", "Hendra", "Yuliani", "Made Sudarta", "Rahmat Hidayat", "Agus", "Nurhayati"]
CONTEXT_BEFORE = [
    "Saya baru tiga bulan menjabat.",
    "Kemarin kami sudah rapat dengan perangkat di balai.",
    "Ini pertama kalinya kami mengurus hal seperti ini.",
    "Kami masih bingung karena belum pernah ada contohnya di wilayah kami.",
]
CONTEXT_AFTER = [
    "Soalnya di tempat kami belum ada yang paham.",
    "Karena minggu depan mau dibahas di rapat.",
    "Kami ingin memastikan supaya tidak salah langkah.",
    "Warga juga banyak yang menanyakan hal ini.",
]


def _pick(items: list[str], q: str, salt: int) -> str:
    return items[(zlib.crc32(q.encode("utf-8")) + salt) % len(items)]


def _asked(q: str) -> str:
    """The question as a sentence: capitalised, ending with a question mark."""
    q = q.strip().rstrip(".?! ")
    return (q[:1].upper() + q[1:] + "?") if q else q


def salam_izin(q: str) -> str:
    return f"Assalamualaikum wr wb, mohon izin bertanya pak, {q.strip()}"


def pagi_perkenalan(q: str) -> str:
    return (f"Selamat pagi, saya kepala desa {_pick(DESA, q, 1)} kecamatan {_pick(KECAMATAN, q, 2)}. "
            f"{_asked(q)}")


def terima_kasih_emoji(q: str) -> str:
    return f"{q.strip()} terima kasih 🙏"


def konteks_sebelum(q: str) -> str:
    return f"{_pick(CONTEXT_BEFORE, q, 3)} {_asked(q)}"


def konteks_sesudah(q: str) -> str:
    return f"{_asked(q)} {_pick(CONTEXT_AFTER, q, 4)}"


def baris_baru(q: str) -> str:
    return f"Pak admin\n\n{q.strip()}\n\nMakasih"


def surat_resmi(q: str) -> str:
    return (
        f"Yth. Bapak/Ibu Admin,\nSaya {_pick(NAMA, q, 5)}, sekretaris desa {_pick(DESA, q, 6)}, "
        f"Kec. {_pick(KECAMATAN, q, 7)}, Kab. {_pick(KABUPATEN, q, 8)}.\n{_asked(q)}\n"
        "Atas perhatiannya kami ucapkan terima kasih.\nWassalamualaikum wr. wb."
    )


def perkenalan_satu_kalimat(q: str) -> str:
    return f"Saya operator desa {_pick(DESA, q, 9)} mau tanya {q.strip()}"


def jawa_sopan(q: str) -> str:
    return f"Nuwun sewu pak, badhe tanglet. {_asked(q)} Matur nuwun 🙏🙏"


def emoji_sapaan(q: str) -> str:
    return f"Halo bu 👋😊 {q.strip()} ya bu 🙏"


WRAPPERS: dict[str, Callable[[str], str]] = {
    "salam + izin bertanya": salam_izin,
    "selamat pagi + perkenalan": pagi_perkenalan,
    "terima kasih + emoji": terima_kasih_emoji,
    "konteks sebelum": konteks_sebelum,
    "konteks sesudah": konteks_sesudah,
    "baris baru": baris_baru,
    "surat resmi": surat_resmi,
    "perkenalan satu kalimat": perkenalan_satu_kalimat,
    "jawa sopan": jawa_sopan,
    "emoji + sapaan": emoji_sapaan,
}


def wrap_all(q: str) -> list[tuple[str, str]]:
    """(wrapper name, wrapped message) for every wrapper."""
    return [(name, fn(q)) for name, fn in WRAPPERS.items()]
