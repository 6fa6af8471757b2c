"""Vietnam's 54 ethnic groups, in the order of the official list (Decision 121-TCTK/PPCĐ).

Keys are stable ASCII; names are proper nouns, the same in every language.
"""
ETHNIC_GROUPS: dict[str, str] = {
    "kinh": "Kinh", "tay": "Tày", "thai": "Thái", "hoa": "Hoa", "khmer": "Khơ-me",
    "muong": "Mường", "nung": "Nùng", "hmong": "H'Mông", "dao": "Dao", "gia_rai": "Gia-rai",
    "ngai": "Ngái", "e_de": "Ê-đê", "ba_na": "Ba-na", "xo_dang": "Xơ-đăng", "san_chay": "Sán Chay",
    "co_ho": "Cơ-ho", "cham": "Chăm", "san_diu": "Sán Dìu", "hre": "Hrê", "mnong": "Mnông",
    "ra_glai": "Ra-glai", "xtieng": "Xtiêng", "bru_van_kieu": "Bru-Vân Kiều", "tho": "Thổ",
    "giay": "Giáy", "co_tu": "Cơ-tu", "gie_trieng": "Gié-Triêng", "ma": "Mạ", "kho_mu": "Khơ-mú",
    "co": "Co", "ta_oi": "Tà-ôi", "cho_ro": "Chơ-ro", "khang": "Kháng", "xinh_mun": "Xinh-mun",
    "ha_nhi": "Hà Nhì", "chu_ru": "Chu-ru", "lao": "Lào", "la_chi": "La Chí", "la_ha": "La Ha",
    "phu_la": "Phù Lá", "la_hu": "La Hủ", "lu": "Lự", "lo_lo": "Lô Lô", "chut": "Chứt",
    "mang": "Mảng", "pa_then": "Pà Thẻn", "co_lao": "Cơ Lao", "cong": "Cống", "bo_y": "Bố Y",
    "si_la": "Si La", "pu_peo": "Pu Péo", "brau": "Brâu", "o_du": "Ơ Đu", "ro_mam": "Rơ-măm",
}

assert len(ETHNIC_GROUPS) == 54
