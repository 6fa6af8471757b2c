"""The seeded topic catalogue (admin keeps it current afterwards)."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from cdt.extensions import db
from cdt.training.models import TrainingTopic

SEED_TOPICS = [
    ("online_public_services", "Dịch vụ công trực tuyến", "Online public services"),
    ("vneid", "Định danh điện tử VNeID", "VNeID electronic identification"),
    ("cashless_payment", "Thanh toán không dùng tiền mặt", "Cashless payment"),
    ("ecommerce", "Thương mại điện tử, đưa sản phẩm OCOP lên sàn", "E-commerce: OCOP products on marketplaces"),
    ("information_security", "An toàn thông tin, phòng chống lừa đảo trực tuyến", "Information security and online fraud"),
    ("digital_skills", "Kỹ năng số cơ bản", "Basic digital skills"),
]


def ensure_topics() -> dict[str, int]:
    """Insert the seeded topics that are missing; return {code: id} for all topics."""
    have = dict(db.session.execute(select(TrainingTopic.code, TrainingTopic.id)).all())
    for code, name_vi, name_en in SEED_TOPICS:
        if code not in have:
            topic = TrainingTopic(code=code, name_vi=name_vi, name_en=name_en)
            db.session.add(topic)
            db.session.flush()
            have[code] = topic.id
    return have


def slug(text: str) -> str:
    """'E-commerce: OCOP products' -> 'e_commerce_ocop_products' (a topic code)."""
    import re

    from cdt.core.text import fold

    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")[:40] or "topic"


topics_group = AppGroup("topics", help="Training topic catalogue.")


@topics_group.command("seed")
def seed_command() -> None:
    """Add the seeded training topics that are missing (safe to run on every start)."""
    before = db.session.scalar(select(func.count()).select_from(TrainingTopic))
    ensure_topics()
    db.session.commit()
    after = db.session.scalar(select(func.count()).select_from(TrainingTopic))
    click.echo(f"Training topics: {after} ({after - before} added).")
