"""User-facing texts (Bahasa Indonesia). Keep them short: they are read on phone screens."""

GREETING = (
    "Selamat datang di Pandu Kerja Sama Desa, Bapak/Ibu.\n\n"
    "Saya membantu dua hal:\n"
    "• menjawab pertanyaan tentang aturan kerja sama Desa, lengkap dengan pasalnya;\n"
    "• memandu penyusunan usulan kerja sama langkah demi langkah.\n\n"
    "Silakan pilih, atau langsung ketik pertanyaan Bapak/Ibu."
)

MENU_ASK = "Tanya aturan"
MENU_PROPOSAL = "Siapkan usulan kerja sama"
MENU_HELP = "Bantuan"

ASK_PROMPT = (
    "Silakan ketik pertanyaan Bapak/Ibu tentang kerja sama Desa. Contoh:\n"
    "• kerja sama antar desa dituangkan dalam apa?\n"
    "• siapa saja anggota BKAD?\n"
    "• bagaimana jika terjadi perselisihan?"
)

HELP = (
    "Cara memakai Pandu:\n"
    "• Ketik pertanyaan biasa, misalnya \"apa itu BKAD\".\n"
    "• Pilih tombol, atau ketik nomor/nama pilihannya.\n"
    "• Di bawah jawaban ada tombol \"Bunyi pasal\" untuk melihat teks peraturannya.\n\n"
    "Perintah:\n"
    "/mulai – menu utama\n"
    "/tanya – bertanya tentang aturan\n"
    "/usulan – siapkan atau lanjutkan usulan kerja sama\n"
    "/status – kemajuan usulan\n"
    "/ubah – ubah jawaban langkah sebelumnya\n"
    "/lewati – lewati langkah ini (tetap tercatat belum)\n"
    "/batal – berhenti dari panduan usulan (jawaban tetap tersimpan)\n"
    "/dokumen – unduh dokumen usulan (Word)\n"
    "/ringkasan – ringkasan usulan di percakapan\n"
    "/bantuan – petunjuk ini\n"
    "/tentang – tentang Pandu\n"
    "/hapus – hapus semua data percakapan ini"
)

ABOUT = (
    "Pandu Kerja Sama Desa adalah asisten yang menjawab pertanyaan tentang kerja sama antar-Desa dan "
    "kerja sama Desa dengan pihak ketiga, dari kumpulan kutipan peraturan yang dikurasi, selalu dengan "
    "pasalnya.\n\n"
    "Peraturan yang dicakup:\n{regulations}\n\n"
    "Basis pengetahuan versi {version} ({date}).\n\n"
    "Pandu bukan nasihat hukum dan bukan pengganti Camat, Dinas PMD, atau salinan resmi peraturan (JDIH). "
    "Sebagian teks belum dicocokkan dengan salinan resmi; hal itu selalu disebutkan. "
    "Pandu tidak menyimpan nomor telepon, dan /hapus menghapus semua data percakapan ini."
)

CITATION_LABEL = "Dasar"
EXCERPT_BUTTON = "Bunyi pasal"
EXCERPT_HEADING = "Bunyi pasal"
EXCERPT_VERBATIM_NOTE = "Teks dari salinan peraturan; belum dicocokkan dengan salinan resmi (JDIH)."
EXCERPT_VERIFIED_NOTE = "Sudah dicocokkan dengan salinan resmi: {where}."
EXCERPT_PARAPHRASE = "(uraian sekunder, bukan bunyi resmi pasal)"
UNVERIFIED_MARK = "⚠️ "

SUGGEST = "Maaf, saya belum yakin maksud pertanyaan Bapak/Ibu. Maksud Bapak/Ibu:"
NOT_FOUND = (
    "Maaf, pertanyaan itu di luar cakupan Pandu. Pandu hanya menjawab aturan kerja sama Desa: "
    "kerja sama antar-Desa, kerja sama dengan pihak ketiga, Peraturan Bersama Kepala Desa, Perjanjian "
    "Bersama, BKAD, Musyawarah antar-Desa, BUM Desa bersama, dan penyelesaian perselisihan.\n\n"
    "Silakan ketik pertanyaan lain, atau pilih menu."
)
NOT_IN_TEXTS = (
    "Maaf, teks peraturan yang tersedia di Pandu tidak menjawab hal itu secara pasti, jadi Pandu tidak akan "
    "menebak. Untuk kepastian, silakan tanyakan ke Camat atau Dinas PMD kabupaten/kota.\n\n"
    "Topik terdekat yang ada dasarnya:"
)
NO_QUESTION = "Baik, Bapak/Ibu. Silakan tulis pertanyaan tentang kerja sama Desa, atau pilih menu."
GREETING_SHORT = "Halo, Bapak/Ibu. Ada yang bisa saya bantu tentang kerja sama Desa?"
THANKS = "Sama-sama, Bapak/Ibu. Silakan bertanya lagi kapan saja."

EMPTY = "Pesan Bapak/Ibu kosong. Silakan ketik pertanyaan, atau /mulai untuk menu."
TOO_LONG = "Maaf, pesan terlalu panjang ({n} karakter). Mohon ringkas pertanyaan Bapak/Ibu, paling banyak {max} karakter."
UNSUPPORTED = "Maaf, Pandu hanya memahami pesan teks. Silakan ketik pertanyaan Bapak/Ibu."
UNKNOWN_COMMAND = "Maaf, perintah {cmd} tidak dikenal. Ketik /bantuan untuk daftar perintah."
EXPIRED = "Maaf, menu ini sudah kedaluwarsa. Silakan ketik /mulai untuk menu terbaru."
OUT_OF_RANGE = "Nomor {n} tidak ada dalam pilihan. Silakan pilih nomor 1 sampai {max}."
NO_LIST = "Tidak ada daftar pilihan yang sedang ditampilkan. Ketik /mulai untuk menu, atau ketik pertanyaan Bapak/Ibu."
RESUME_HINT = "Panduan usulan sedang dihentikan. Ketik /usulan untuk melanjutkannya, atau ketik pertanyaan Bapak/Ibu."
ERROR = "Maaf, terjadi gangguan saat memproses pesan Bapak/Ibu. Silakan coba lagi sebentar lagi."
PROPOSAL_OFFER = "Siapkan usulan kerja sama"
MAIN_MENU = "Menu utama"

# The command menu channels show (Telegram setMyCommands): (command, description), as in HELP.
COMMAND_MENU = (
    ("mulai", "Menu utama"),
    ("tanya", "Bertanya tentang aturan kerja sama Desa"),
    ("usulan", "Siapkan atau lanjutkan usulan kerja sama"),
    ("status", "Kemajuan usulan"),
    ("ringkasan", "Ringkasan usulan"),
    ("bantuan", "Petunjuk pemakaian"),
    ("tentang", "Tentang Pandu"),
    ("hapus", "Hapus semua data percakapan ini"),
)

# Admin commands (/statistik, /muatulang): only chats listed in config [admin] chats see these.
STATS_HEADING = "Statistik Pandu"
STATS = (
    "Percakapan: {chats} (aktif {active})\n{channels}\nUsulan kerja sama: {proposals}\n\n"
    "Pertanyaan tercatat: {questions}\n"
    "• dijawab: {answer}\n• ditawari topik: {suggest}\n• di luar cakupan: {none}"
)
STATS_UNANSWERED = "Pertanyaan belum terjawab terbanyak:"
STATS_NO_UNANSWERED = "Belum ada pertanyaan yang tidak terjawab."
RELOAD_OK = "Basis pengetahuan dimuat ulang: versi {version} ({date}), {entries} topik."
RELOAD_REFUSED = (
    "Basis pengetahuan baru DITOLAK karena tidak lolos pemeriksaan (kb check): {count} masalah. "
    "Yang lama (versi {version}) tetap dipakai.\n\n{problems}"
)

# Telegram groups: typed answers reach the bot only as replies to its messages (privacy mode).
TG_GROUP_REPLY_HINT = "Di grup, ketik jawaban sebagai balasan (reply) ke pesan ini."
TG_GROUP_REPLY_PLACEHOLDER = "Ketik jawaban…"

# WhatsApp: list messages and paging of long menus (the list button and row titles have short limits).
WA_LIST_BUTTON = "Lihat pilihan"
WA_MORE = "Lainnya"
WA_MORE_DESCRIPTION = "Pilihan {start}–{end} dari {total}"
WA_CHOOSE = "Silakan pilih, atau ketik nomornya:"
WA_PAGE = "Pilihan lainnya ({start}–{end} dari {total}). Ketik nomornya atau pilih dari daftar:"
