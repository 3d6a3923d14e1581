import { createHmac } from "node:crypto";
import { JobValidationError, ManualClock } from "@svc-jobs/core";
import {
  canonicalJson,
  sign,
  signStandardWebhook,
  verify,
  verifyAny,
  verifyStandardWebhook,
  WebhookVerificationError,
} from "@svc-jobs/webhooks";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";

describe("canonicalJson", () => {
  it("sorts keys and drops spaces (the spec's vector)", () => {
    expect(canonicalJson({ z: 1, a: 2, m: 3 })).toBe('{"a":2,"m":3,"z":1}');
  });

  it("matches Python's json.dumps(sort_keys=True, separators=(',', ':'))", () => {
    // Expected strings produced by CPython 3.11 json.dumps with those arguments.
    expect(canonicalJson({ b: [1, { d: null, c: true }], a: "x" })).toBe(
      '{"a":"x","b":[1,{"c":true,"d":null}]}',
    );
    expect(canonicalJson({ name: "Zoë", emoji: "😀", ctrl: 'a\u0001\u007f\n\t"\\/' })).toBe(
      '{"ctrl":"a\\u0001\\u007f\\n\\t\\"\\\\/","emoji":"\\ud83d\\ude00","name":"Zo\\u00eb"}',
    );
    expect(canonicalJson({ n: [0.5, 1e-5, 1.5e-7, 0.0001, 123.456, -0, 1e21, 2 ** 53] })).toBe(
      '{"n":[0.5,1e-05,1.5e-07,0.0001,123.456,0,1000000000000000000000,9007199254740992]}',
    );
  });

  it("sorts keys by code point like Python, not by UTF-16 unit", () => {
    // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit.
    expect(canonicalJson({ "😀": 1, "～": 2 })).toBe('{"\\uff5e":2,"\\ud83d\\ude00":1}');
  });

  it("rejects what JSON cannot carry", () => {
    expect(() => canonicalJson({ a: undefined })).toThrow(JobValidationError);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(JobValidationError);
    expect(() => canonicalJson({ a: new Map() })).toThrow(JobValidationError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});

describe("sign / verify (svc-infra X-Signature)", () => {
  it("is the hex HMAC-SHA256 of the canonical bytes", () => {
    const expected = createHmac("sha256", "s3cret").update('{"a":2,"m":3,"z":1}').digest("hex");
    expect(sign("s3cret", { z: 1, a: 2, m: 3 })).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
    // A raw body string is signed as given.
    expect(sign("s3cret", '{"a":2,"m":3,"z":1}')).toBe(expected);
  });

  it("verifies the right secret and payload only", () => {
    const sig = sign("s3cret", { id: 1 });
    expect(verify("s3cret", { id: 1 }, sig)).toBe(true);
    expect(verify("s3cret", { id: 1 }, sig.toUpperCase())).toBe(true);
    expect(verify("other", { id: 1 }, sig)).toBe(false);
    expect(verify("s3cret", { id: 2 }, sig)).toBe(false);
    expect(verify("s3cret", { id: 1 }, sig.slice(0, 63))).toBe(false);
    expect(verify("s3cret", { id: 1 }, undefined)).toBe(false);
    expect(verify("s3cret", { id: 1 }, `${sig.slice(0, 63)}g`)).toBe(false);
  });

  it("verifyAny accepts any of several secrets (rotation)", () => {
    const sig = sign("old", { id: 1 });
    expect(verifyAny(["new", "old"], { id: 1 }, sig)).toBe(true);
    expect(verifyAny(["new", "newer"], { id: 1 }, sig)).toBe(false);
    expect(() => verifyAny([], { id: 1 }, sig)).toThrow(JobValidationError);
  });

  it("rejects an empty secret without echoing it", () => {
    expect(() => sign("", {})).toThrow(JobValidationError);
  });
});

describe("Standard Webhooks", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"a":2,"m":3,"z":1}';

  it("our signature verifies with the reference library", () => {
    const headers = signStandardWebhook(secret, {
      id: "msg_1",
      timestamp: new Date(),
      body,
    });
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ a: 2, m: 3, z: 1 });
  });

  it("the reference library's signature verifies with ours", () => {
    const now = new Date();
    const signature = new Webhook(secret).sign("msg_2", now, body);
    const verified = verifyStandardWebhook(
      body,
      {
        "webhook-id": "msg_2",
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      },
      { secrets: secret },
    );
    expect(verified).toEqual({ id: "msg_2", timestamp: Math.floor(now.getTime() / 1000) });
  });

  it("accepts any of several secrets and any of several signatures", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const old = "whsec_dGhlIG9sZCBzZWNyZXQgb2YgdGhpcyBlbmRwb2ludA==";
    const a = signStandardWebhook(old, { id: "m", timestamp: 1_700_000_000, body });
    const b = signStandardWebhook(secret, { id: "m", timestamp: 1_700_000_000, body });
    const both = `${a["webhook-signature"]} ${b["webhook-signature"]}`;
    const headers = new Headers({ ...a, "webhook-signature": both });
    expect(verifyStandardWebhook(body, headers, { secrets: [secret], clock }).id).toBe("m");
    expect(verifyStandardWebhook(body, { ...a }, { secrets: [secret, old], clock }).id).toBe("m");
    expect(() => verifyStandardWebhook(body, { ...a }, { secrets: [secret], clock })).toThrow(
      WebhookVerificationError,
    );
  });

  it("refuses replays outside the tolerance (default 300 s) and tampered bodies", () => {
    const clock = new ManualClock(1_700_000_000_000);
    const headers = { ...signStandardWebhook(secret, { id: "m", timestamp: 1_700_000_000, body }) };
    const reason = (fn: () => unknown) => {
      try {
        fn();
        return "ok";
      } catch (e) {
        return (e as WebhookVerificationError).reason;
      }
    };
    clock.advance(300);
    expect(reason(() => verifyStandardWebhook(body, headers, { secrets: secret, clock }))).toBe(
      "ok",
    );
    clock.advance(1);
    expect(reason(() => verifyStandardWebhook(body, headers, { secrets: secret, clock }))).toBe(
      "timestamp_too_old",
    );
    expect(
      reason(() =>
        verifyStandardWebhook(body, headers, { secrets: secret, clock, toleranceSeconds: 600 }),
      ),
    ).toBe("ok");
    clock.set(1_700_000_000_000 - 301_000);
    expect(reason(() => verifyStandardWebhook(body, headers, { secrets: secret, clock }))).toBe(
      "timestamp_too_new",
    );
    clock.set(1_700_000_000_000);
    expect(
      reason(() =>
        verifyStandardWebhook(body.replace("2", "3"), headers, { secrets: secret, clock }),
      ),
    ).toBe("invalid_signature");
    expect(
      reason(() =>
        verifyStandardWebhook(
          body,
          { ...headers, "webhook-id": "other" },
          { secrets: secret, clock },
        ),
      ),
    ).toBe("invalid_signature");
    expect(
      reason(() =>
        verifyStandardWebhook(
          body,
          { ...headers, "webhook-timestamp": "soon" },
          { secrets: secret, clock },
        ),
      ),
    ).toBe("invalid_timestamp");
    expect(reason(() => verifyStandardWebhook(body, {}, { secrets: secret, clock }))).toBe(
      "missing_headers",
    );
  });

  it("rejects a whsec_ secret whose key is not base64", () => {
    expect(() => signStandardWebhook("whsec_not base64!", { id: "m", timestamp: 1, body })).toThrow(
      JobValidationError,
    );
  });
});
