"""Name folding for search without diacritics."""
from unidecode import unidecode


def fold(text: str) -> str:
    """'Nguyễn Văn  An' -> 'nguyen van an' (what name search compares)."""
    return " ".join(unidecode(text or "").lower().split())
