"""A Redis job queue that follows svc-infra's documented and observed RedisJobQueue
behaviour (the Python library svc-jobs shares queues with), written for the interop tests
of @svc-jobs/redis. It is our own code, not svc-infra's: it writes and reads the same keys
and encodings, including svc-infra's quirks, so the tests can prove that a Python service
and a Node service share one queue (docs/redis-layout.md, "Sharing a queue with svc-infra").

What it does, step by step, as svc-infra does:
- enqueue: INCR {p}:seq gives the id; HSET {p}:job:{id} with id, name, payload (JSON),
  available_at (the ENQUEUE time as datetime.isoformat(), even for a delayed job),
  attempts, max_attempts, backoff_seconds (no last_error); then ZADD {p}:delayed with the
  integer epoch seconds of now + delay, or LPUSH {p}:ready.
- reserve: moves due delayed ids to ready (read, then a pipeline), requeues timed-out
  reservations (LREM processing, LPUSH ready, ZREM processing_vt, HDEL visible_at; the
  expiry counts no attempt), then RPOPLPUSH ready -> processing with ZADD processing_vt in
  one Lua call; attempts + 1 beyond max_attempts sends the job to the DLQ (LPUSH) instead.
- ack: LREM processing, ZREM processing_vt, DEL the hash.
- fail: at max_attempts to the DLQ (last_error not written); otherwise last_error,
  available_at = now + backoff_seconds * max(1, attempts), and ZADD delayed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

_RESERVE_LUA = """
local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if id then redis.call('ZADD', KEYS[3], ARGV[1], id) end
return id
"""


@dataclass
class Job:
    id: str
    name: str
    payload: Any
    available_at: datetime
    attempts: int
    max_attempts: int
    backoff_seconds: int
    last_error: Optional[str]


class RedisJobQueue:
    def __init__(self, client, prefix: str = "jobs", visibility_timeout: int = 60):
        self._r = client
        self._p = prefix
        self._vt = int(visibility_timeout)
        self._reserve = client.register_script(_RESERVE_LUA)

    def _k(self, name: str) -> str:
        return f"{self._p}:{name}"

    def _job(self, job_id: str) -> str:
        return f"{self._p}:job:{job_id}"

    def enqueue(self, name: str, payload: Any, delay_seconds: int = 0, max_attempts: int = 5,
                backoff_seconds: int = 60) -> Job:
        job_id = str(self._r.incr(self._k("seq")))
        now = datetime.now(timezone.utc)
        fields = {
            "id": job_id,
            "name": name,
            "payload": json.dumps(payload),
            "available_at": now.isoformat(),
            "attempts": "0",
            "max_attempts": str(max_attempts),
            "backoff_seconds": str(backoff_seconds),
            "last_error": None,
        }
        self._r.hset(self._job(job_id), mapping={k: v for k, v in fields.items() if v is not None})
        if delay_seconds > 0:
            self._r.zadd(self._k("delayed"), {job_id: int(now.timestamp() + delay_seconds)})
        else:
            self._r.lpush(self._k("ready"), job_id)
        return Job(job_id, name, payload, now, 0, max_attempts, backoff_seconds, None)

    def _move_due_delayed(self, now_s: int) -> None:
        ids = self._r.zrangebyscore(self._k("delayed"), "-inf", now_s)
        if not ids:
            return
        pipe = self._r.pipeline()
        for job_id in ids:
            pipe.lpush(self._k("ready"), job_id)
            pipe.zrem(self._k("delayed"), job_id)
        pipe.execute()

    def _requeue_timed_out(self, now_s: int) -> None:
        ids = self._r.zrangebyscore(self._k("processing_vt"), "-inf", now_s)
        if not ids:
            return
        pipe = self._r.pipeline()
        for job_id in ids:
            pipe.lrem(self._k("processing"), 1, job_id)
            pipe.lpush(self._k("ready"), job_id)
            pipe.zrem(self._k("processing_vt"), job_id)
            pipe.hdel(self._job(job_id), "visible_at")
        pipe.execute()

    def reserve_next(self) -> Optional[Job]:
        now_s = int(time.time())
        self._move_due_delayed(now_s)
        self._requeue_timed_out(now_s)
        job_id = self._reserve(
            keys=[self._k("ready"), self._k("processing"), self._k("processing_vt")],
            args=[now_s + self._vt],
        )
        if job_id is None:
            return None
        job_id = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
        data = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in self._r.hgetall(self._job(job_id)).items()
        }
        if not data:
            return None
        attempts = int(data.get("attempts", "0")) + 1
        max_attempts = int(data.get("max_attempts", "5"))
        if attempts > max_attempts:
            self._r.lrem(self._k("processing"), 1, job_id)
            self._r.zrem(self._k("processing_vt"), job_id)
            self._r.lpush(self._k("dlq"), job_id)
            return None
        self._r.hset(self._job(job_id), mapping={
            "attempts": str(attempts),
            "visible_at": str(now_s + self._vt),
        })
        return Job(
            id=job_id,
            name=data["name"],
            payload=json.loads(data["payload"]),
            available_at=datetime.fromisoformat(data["available_at"]),
            attempts=attempts,
            max_attempts=max_attempts,
            backoff_seconds=int(data.get("backoff_seconds", "60")),
            last_error=data.get("last_error"),
        )

    def ack(self, job_id: str) -> None:
        self._r.lrem(self._k("processing"), 1, job_id)
        self._r.zrem(self._k("processing_vt"), job_id)
        self._r.delete(self._job(job_id))

    def fail(self, job_id: str, error: Optional[str] = None) -> None:
        key = self._job(job_id)
        attempts, max_attempts, backoff = self._r.hmget(
            key, "attempts", "max_attempts", "backoff_seconds")
        attempts = int(attempts or 0)
        max_attempts = int(max_attempts or 5)
        backoff = int(backoff or 60)
        if attempts >= max_attempts:
            self._r.lrem(self._k("processing"), 1, job_id)
            self._r.zrem(self._k("processing_vt"), job_id)
            self._r.lpush(self._k("dlq"), job_id)
            return
        delay = backoff * max(1, attempts)
        available_at = datetime.now(timezone.utc) + timedelta(seconds=delay)
        self._r.hset(key, mapping={
            "last_error": error or "",
            "available_at": available_at.isoformat(),
        })
        self._r.lrem(self._k("processing"), 1, job_id)
        self._r.zrem(self._k("processing_vt"), job_id)
        self._r.zadd(self._k("delayed"), {job_id: int(available_at.timestamp())})
