"""Log-in throttling shared by several workers through Redis (RATELIMIT_STORAGE_URI).

Runs when a Redis server answers at $CDT_TEST_REDIS_URL (default redis://127.0.0.1:6379/15);
skipped otherwise. Two app instances stand for two gunicorn workers: failures counted by one
are seen by the other, which the per-process memory storage cannot do."""
from __future__ import annotations

import os
import uuid

import pytest

from cdt import create_app
from cdt.extensions import db, limiter
from tests.conftest import BASE_CONFIG

REDIS_URL = os.environ.get("CDT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis():
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
        client.ping()
        return client
    except Exception:
        return None


@pytest.fixture
def redis_client():
    client = _redis()
    if client is None:
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.close()


def test_throttle_is_shared_between_workers_through_redis(database_url, redis_client):
    prefix = f"cdt-test-{uuid.uuid4().hex[:8]}"
    config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": prefix}
    workers = [create_app(config), create_app(config)]
    try:
        with workers[0].app_context():
            assert type(limiter.storage).__name__ == "RedisStorage"
        clients = [w.test_client() for w in workers]
        for i in range(5):  # alternate workers: 3 failures on one, 2 on the other
            response = clients[i % 2].post("/login", data={"username": "commune", "password": "wrong password x"})
            assert response.status_code == 200
        response = clients[1].post("/login", data={"username": "commune", "password": "wrong password x"})
        assert response.status_code == 429
        assert "Quá nhiều lần thử" in response.text
        assert any(prefix in key.decode() for key in redis_client.scan_iter(f"*{prefix}*"))
    finally:
        for key in redis_client.scan_iter(f"*{prefix}*"):
            redis_client.delete(key)
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()

