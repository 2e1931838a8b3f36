"""User-facing texts of the proposal checklist (Bahasa Indonesia, short: read on phone screens)."""

NO_BASIS = "belum ada dasar dalam teks yang tersedia; tanyakan ke Camat/DPMD."
CURRENT_ANSWER = "Jawaban tersimpan: {value}"
SAVED = "Tersimpan: {value}."
UNCHANGED = "jawaban lama tidak diubah"

SUDAH, BELUM, NA = "Sudah", "Belum", "Tidak berlaku"
WHY = "Kenapa?"
SKIP = "Lewati"
STATUS_LABELS = {"sudah": SUDAH, "belum": BELUM, "na": NA, "skipped": "Dilewati", "": "Belum dijawab"}

ASK_NAME = (
    "Usulan kerja sama baru. Beri nama singkat untuk usulan ini, misalnya \"Jalan tani Sukamaju–Sukajaya\".\n"
    "(Ketik /batal untuk berhenti; semua jawaban tersimpan.)"
)
NAME_HEADING = "Nama usulan"
STARTED = "Usulan \"{name}\" dibuat. Mari tentukan jenis kerja samanya."
TRIAGE_HEADING = "Jenis kerja sama"
OUTCOME_HEADING = "Hasil penentuan jenis"
STOPPED = "Usulan \"{name}\" disimpan. Ketik /usulan untuk membuat usulan lain."
DONE = (
    "Semua langkah usulan \"{name}\" sudah dilalui. Yang belum lengkap: {missing}.\n"
    "Bapak/Ibu bisa mengunduh dokumennya, melihat /status, atau mengubah jawaban dengan /ubah."
)
DONE_COMPLETE = "lengkap semua"
DONE_MISSING = "{n} langkah"
STALE = "Maaf, tombol itu sudah kedaluwarsa (langkahnya sudah dijawab atau berubah). Tidak ada yang diubah."
WHY_HEADING = "Kenapa langkah ini?"
CANNOT_SKIP_TRIAGE = "Pertanyaan jenis kerja sama ini tidak bisa dilewati. Silakan pilih salah satu jawaban di bawah."
CANNOT_SKIP_NAME = "Nama usulan perlu diisi dulu. Ketik nama singkatnya, atau /batal untuk berhenti."
WHY_NAME = "Nama usulan hanya untuk membedakan usulan Bapak/Ibu satu sama lain; tidak ada aturannya."
WAITING_FOR = "{step} (menunggu: {on})"
WAITING = "menunggu: {on}"
PAUSED = (
    "Panduan usulan \"{name}\" sedang dihentikan (/batal), jadi jawaban itu tidak disimpan. "
    "Pilih Lanjutkan untuk meneruskan."
)
NOTHING_TO_STOP = "Tidak ada panduan usulan yang sedang berjalan. Ketik /usulan untuk memulai atau melanjutkan."
EDIT_STOPPED = "Usulan ini berhenti saat penentuan jenis kerja sama, jadi tidak ada jawaban yang bisa diubah. Ketik /usulan baru untuk usulan lain."
EDIT_HINT = "Silakan jawab lagi langkah ini. Ketik \"tidak jadi\" bila tidak ingin mengubahnya."
EDIT_CANCELLED = "Baik, tidak jadi diubah. Jawaban lama tetap tersimpan."
DOCS_STOPPED = (
    "Usulan \"{name}\" berhenti saat penentuan jenis kerja sama, jadi tidak ada dokumen yang dibuat.\n\n{reason}\n\n"
    "Untuk kerja sama lain, buat usulan baru."
)
NOT_IN_FLOW = "Tidak ada langkah usulan yang sedang ditanyakan. Ketik /usulan untuk memulai atau melanjutkan."
NO_PROPOSAL = "Belum ada usulan kerja sama. Ketik /usulan untuk memulai."
CANCELLED = "Baik, panduan usulan dihentikan. Semua jawaban tersimpan; ketik /usulan untuk melanjutkan kapan saja."
RESUME_MENU = "Usulan aktif: \"{name}\" ({where}). Lanjutkan, atau buat usulan baru?"
RESUME_MENU_STOPPED = "Usulan aktif: \"{name}\" ({where}). Buat usulan baru?"
WHERE_STOPPED = "berhenti: jenisnya di luar cakupan panduan"
WHERE_DONE = "semua langkah dilalui, {n} belum lengkap"
WHERE_COMPLETE = "selesai, semua lengkap"
WHERE_STEPS = "{done}/{total} langkah"
RESUME = "Lanjutkan: {name}"
NEW = "Usulan baru"
OPEN = "Buka: {name}"

ASK_AGAIN = "Kembali ke usulan \"{name}\": (/usulan baru untuk usulan lain)"

EDIT_STAGE = "Pilih tahap yang ingin diubah:"
EDIT_STEP = "Pilih langkah yang ingin diubah:"
EDIT_NOTHING = "Belum ada langkah yang dijawab untuk diubah."
EDIT_TRIAGE = "Jenis kerja sama tidak bisa diubah di sini; buat usulan baru dengan /usulan bila jenisnya berbeda."

STATUS_HEADING = "Status usulan: {name}"
STATUS_TYPE = "Jenis: {title} ({instrument})"
STATUS_LINE = "• {stage} {done}/{total}"
STATUS_MISSING = "  Belum: {items}"
STATUS_MORE = " (+{n} lainnya)"
STATUS_TRIAGE = "Jenis kerja sama belum ditentukan."
STATUS_STOPPED = "Usulan ini berhenti saat penentuan jenis kerja sama:\n\n{reason}"
DOCS_BUTTON = "Unduh dokumen"
SUMMARY_BUTTON = "Ringkasan jawaban"
STATUS_BUTTON = "Status"
CONTINUE_BUTTON = "Lanjutkan usulan"
SUMMARY_HEADING = "Ringkasan: {name}"
SUMMARY_EMPTY = "[belum diisi]"
DOCS_THEN_CONTINUE = "Usulan ini belum selesai. Lanjutkan dari langkah terakhir?"
DOCS_INTRO = "Dokumen usulan \"{name}\" (format Word, bisa diubah). Bagian bertanda [… belum diisi] perlu dilengkapi."
DOCS_NOT_READY = "Dokumen tersedia setelah jenis kerja sama ditentukan. Ketik /usulan untuk melanjutkan."

CONFIRM_DELETE = (
    "Hapus SEMUA data percakapan ini (semua usulan dan jawabannya, riwayat menu)? Tindakan ini tidak bisa dibatalkan."
)
DELETE_YES = "Ya, hapus semua"
DELETE_NO = "Jangan hapus"
DELETED = "Semua data percakapan ini sudah dihapus. Ketik /mulai untuk memulai lagi."
DELETE_KEPT = "Baik, tidak ada yang dihapus."

# Reading typed text at a step (handlers/guide.py).
EMPTY_AT_STEP = "Pesan Bapak/Ibu kosong."
NOTHING_TO_CANCEL = "Tidak ada yang dibatalkan; belum ada yang tersimpan untuk langkah ini."
NOT_A_VALUE = "Mohon tulis {field} (boleh singkat), atau ketik \"lewati\"."
CHOOSE_ONE_PLAIN = "Mohon Bapak/Ibu pilih salah satu pilihan di bawah."
CONFIRM_VALUE = "Simpan \"{value}\" sebagai {field}?"
CONFIRM_SKIP = "Lewati dulu langkah {field}? Bisa diisi nanti dengan /ubah."
CONFIRM_YES = "Ya"
CONFIRM_NO = "Bukan"
CONFIRM_NO_QUESTION = "Bukan, itu pertanyaan"
NOT_SAVED = "Baik, tidak disimpan."
LABEL_NOT_HERE = "Pilihan \"{label}\" tidak ada di langkah ini, jadi tidak disimpan."
QUESTION_NOT_ANSWERED = "Pertanyaan itu belum bisa saya jawab dari teks peraturan yang ada."
BACK_TO_STEP = "Kembali ke usulan"
HINT_NAME = "Nama usulan hanya untuk membedakan usulan Bapak/Ibu, misalnya \"Jalan tani Sukamaju–Sukajaya\" atau \"Air bersih\"."
HINT_CONFIRM = (
    "Pilih Sudah bila langkah ini sudah dilakukan, Belum bila belum, atau Tidak berlaku bila tidak sesuai "
    "dengan kerja sama Bapak/Ibu. Ketik \"kenapa\" untuk melihat dasar aturannya."
)
HINT_CHOICE = "Pilih salah satu jawaban di bawah: ketuk tombolnya, atau ketik nomornya."
HINT_TEXT = (
    "Tulis jawabannya dengan kata-kata Bapak/Ibu sendiri; boleh singkat. Ketik \"lewati\" bila belum tahu; "
    "jawaban bisa diubah nanti dengan /ubah."
)

# Validation of typed answers.
NAME_TOO_SHORT = "Nama usulan terlalu pendek. Mohon tulis nama singkat, misalnya \"Jalan tani\" atau \"Air bersih\"."
TOO_SHORT = "Jawaban terlalu pendek. Mohon tulis sedikit lebih lengkap, atau ketik /lewati."
NO_LETTERS = "Jawaban perlu berisi kata, bukan hanya angka atau tanda baca. Mohon tulis lagi, atau ketik /lewati."
TOO_LONG_FIELD = "Jawaban terlalu panjang ({n} karakter; paling banyak {max}). Mohon diringkas."
NAME_TOO_LONG = "Nama terlalu panjang ({n} karakter; paling banyak {max}). Mohon diringkas."
DURATION_NUMBER = (
    "Mohon tulis jangka waktu dengan satuannya, misalnya \"{n} tahun\" atau \"{n} bulan\", atau dari kapan sampai "
    "kapan. Ketik \"lewati\" untuk melewati langkah ini."
)
DURATION_UNCLEAR = (
    "Jangka waktu belum jelas. Mohon tulis dengan satuan (hari, bulan, tahun) atau dari kapan sampai kapan, "
    "misalnya \"sejak ditandatangani sampai Desember\"."
)
QUESTION_THEN_STEP = "Pertanyaan Bapak/Ibu sudah dijawab di atas."
# A greeting or thanks typed while a step waits: a short reply, then the step again (nothing is saved).
SMALLTALK = {"greeting": "Halo, Bapak/Ibu.", "thanks": "Sama-sama, Bapak/Ibu."}
CONTINUE_STEP = "Kita lanjutkan usulan \"{name}\":"
CHOOSE_ONE = "Mohon Bapak/Ibu pilih salah satu pilihan (1–{n})."
