"""The privacy notice's version: shown on /privacy and on the consent form, stored with each consent.

Change NOTICE_VERSION (and NOTICE_DATE) whenever the text of templates/privacy/notice.html changes
in substance: consents recorded afterwards name the new version, earlier ones keep theirs.
"""
from __future__ import annotations

import os
from datetime import date

NOTICE_VERSION = "1.0"
NOTICE_DATE = date(2026, 1, 1)


def notice_version() -> str:
    """'1.0 (2026-01-01)': what a consent record stores."""
    return f"{NOTICE_VERSION} ({NOTICE_DATE.isoformat()})"


def contact() -> str | None:
    """Who answers questions about personal data (CDT_PRIVACY_CONTACT: an office, a phone, an
    email); None: the notice names the commune's People's Committee and the province's department."""
    value = (os.environ.get("CDT_PRIVACY_CONTACT") or "").strip()
    return value or None
