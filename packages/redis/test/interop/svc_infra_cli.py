"""Command line for the interop tests: runs one svc-infra-style queue operation
(svc_infra_queue.py) and prints its result as one JSON line.

  svc_infra_cli.py URL PREFIX enqueue NAME PAYLOAD_JSON [DELAY [MAX_ATTEMPTS [BACKOFF]]]
  svc_infra_cli.py URL PREFIX reserve VT            -> the job, or null
  svc_infra_cli.py URL PREFIX ack ID
  svc_infra_cli.py URL PREFIX fail ID ERROR
  svc_infra_cli.py URL PREFIX work VT IDLE_SECONDS  -> reserves and acks until idle, one
                                                       JSON line per job it ran
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402

from svc_infra_queue import RedisJobQueue  # noqa: E402


def as_json(job):
    if job is None:
        return None
    return {
        "id": job.id,
        "name": job.name,
        "payload": job.payload,
        "available_at": job.available_at.isoformat(),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "backoff_seconds": job.backoff_seconds,
        "last_error": job.last_error,
    }


def main(argv):
    url, prefix, cmd, *rest = argv
    client = redis.Redis.from_url(url)
    vt = int(rest[0]) if cmd in ("reserve", "work") else 60
    queue = RedisJobQueue(client, prefix=prefix, visibility_timeout=vt)
    if cmd == "enqueue":
        name, payload = rest[0], json.loads(rest[1])
        delay = int(rest[2]) if len(rest) > 2 else 0
        max_attempts = int(rest[3]) if len(rest) > 3 else 5
        backoff = int(rest[4]) if len(rest) > 4 else 60
        print(json.dumps(as_json(queue.enqueue(name, payload, delay, max_attempts, backoff))))
    elif cmd == "reserve":
        print(json.dumps(as_json(queue.reserve_next())))
    elif cmd == "ack":
        queue.ack(rest[0])
        print("null")
    elif cmd == "fail":
        queue.fail(rest[0], rest[1])
        print("null")
    elif cmd == "work":
        idle = float(rest[1])
        last = time.monotonic()
        while time.monotonic() - last < idle:
            job = queue.reserve_next()
            if job is None:
                time.sleep(0.02)
                continue
            print(json.dumps(as_json(job)), flush=True)
            queue.ack(job.id)
            last = time.monotonic()
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
