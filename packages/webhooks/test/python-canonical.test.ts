// Interop with svc-infra's Python signer: bodies posted the way Python senders post them,
// signed over CPython's json.dumps(payload, sort_keys=True, separators=(",", ":")).
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { JobValidationError } from "@svc-jobs/core";
import {
  canonicalJson,
  canonicalJsonFromText,
  sign,
  type VerifiedWebhookRequest,
  verify,
  verifyAny,
  verifyWebhookRequest,
  WebhookVerificationError,
} from "@svc-jobs/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type GoldenCase = { name: string; canonical: string; signature: string; bodies: string[] };
type Golden = { secret: string; cases: GoldenCase[] };

const generator = fileURLToPath(new URL("./fixtures/python-canonical.py", import.meta.url));
const golden = JSON.parse(
  readFileSync(new URL("./fixtures/python-canonical.json", import.meta.url), "utf8"),
) as Golden;
const { secret } = golden;
const run = promisify(execFile);

/** Runs python3 (CI installs it); fails with a clear message instead of skipping. */
async function python(args: string[]): Promise<string> {
  try {
    const { stdout } = await run("python3", args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error("python3 is not installed: install it (apt-get install -y python3)");
    }
    throw error;
  }
}

const hmacHex = (key: string, text: string) => createHmac("sha256", key).update(text).digest("hex");

describe("golden corpus of CPython json.dumps signatures", () => {
  it("covers what it promises", () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(15);
    const all = golden.cases.map((c) => c.canonical).join("\n");
    for (const token of ["10.0", "1e+16", "1.5e-07", "-0.0", "12345678901234567890"]) {
      expect(all).toContain(token);
    }
    for (const escaped of [
      "\\ud83d\\ude00",
      "\\ufffd",
      "\\u0000",
      '\\"',
      "\\\\",
      "/",
      "{}",
      "[]",
    ]) {
      expect(all).toContain(escaped);
    }
  });

  it("is what python3 prints today", async () => {
    const printed = JSON.parse(await python([generator])) as Golden & { regenerate: unknown };
    expect(printed).toEqual(
      JSON.parse(
        readFileSync(new URL("./fixtures/python-canonical.json", import.meta.url), "utf8"),
      ),
    );
  });

  describe.each(golden.cases)("$name", ({ canonical, signature, bodies }) => {
    it("each posted body canonicalises to Python's bytes, as text and as UTF-8", () => {
      for (const body of bodies) {
        expect(canonicalJsonFromText(body)).toBe(canonical);
        expect(canonicalJsonFromText(Buffer.from(body, "utf8"))).toBe(canonical);
      }
      expect(canonicalJsonFromText(canonical)).toBe(canonical);
    });

    it("Python's signature is the HMAC of that canonical form", () => {
      expect(sign(secret, canonical)).toBe(signature);
      expect(hmacHex(secret, canonical)).toBe(signature);
    });

    it("verify and verifyAny accept every posted body, and only with the secret", () => {
      for (const body of bodies) {
        expect(verify(secret, body, signature)).toBe(true);
        expect(verify(secret, Buffer.from(body, "utf8"), signature.toUpperCase())).toBe(true);
        expect(verifyAny(["rotated-out", secret], body, signature)).toBe(true);
        expect(verify(`${secret}x`, body, signature)).toBe(false);
      }
    });
  });

  it("sign(secret, object) still matches Python for every value a JS number carries", () => {
    // (A string payload is signed as raw text, so the top-level string case is left out.)
    const representable = golden.cases.filter(
      (c) =>
        typeof JSON.parse(c.canonical) !== "string" &&
        canonicalJson(JSON.parse(c.canonical)) === c.canonical,
    );
    for (const c of representable) expect(sign(secret, JSON.parse(c.canonical))).toBe(c.signature);
    expect(representable.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "unicode, emoji and U+FFFD",
        "control characters, quotes, backslashes and slashes",
        "keys sorted by code point",
        "keys that need escaping",
        "empty containers and strings",
        "lone surrogates (only sendable escaped)",
        "keys with lone surrogates sort by code point",
      ]),
    );
    // Floats with an integral value and integers over 2^53 are why bodies are
    // canonicalised from their text and not from JSON.parse.
    const floats = golden.cases.find((c) => c.name === "floats keep Python's repr")!;
    expect(canonicalJson(JSON.parse(floats.canonical))).not.toBe(floats.canonical);
  });
});

describe("canonicalJsonFromText", () => {
  it("copies number tokens exactly as written, never normalising them", () => {
    expect(canonicalJsonFromText('{"b": 1E5, "a": 1.50}')).toBe('{"a":1.50,"b":1E5}');
    // Python would sign {"a":100000.0} for this body: a rewritten number is a changed body.
    const python = hmacHex(secret, '{"a":100000.0}');
    expect(verify(secret, '{"a": 1E5}', python)).toBe(false);
    expect(verify(secret, '{"a": 100000.0}', python)).toBe(true);
  });

  it("sorts by code point where UTF-16 order differs", () => {
    const text = '{"\\ud83d\\ude00":1,"\\uffff":2,"\\ue000":3}';
    expect(canonicalJsonFromText(text)).toBe('{"\\ue000":3,"\\uffff":2,"\\ud83d\\ude00":1}');
    // JavaScript's default sort compares UTF-16 units and puts the emoji first.
    expect(["\uffff", "\ue000", "\u{1F600}"].sort()).toEqual(["\u{1F600}", "\ue000", "\uffff"]);
  });

  const refused: [text: string, message: RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    ['{"a":1} x', /unexpected "x" after the JSON value at position 8/],
    ['{"a":1}{"b":2}', /after the JSON value/],
    ['{"a":1}\u0000', /after the JSON value/],
    ['{"a":', /end of text/],
    ['{"a" 1}', /expected ":"/],
    ["[1,]", /expected a JSON value/],
    ['{"a":1,}', /expected a key/],
    ["{'a':1}", /expected a key/],
    ['{"a":01}', /expected "," or "}"/],
    ["[1.]", /expected "," or "]"/],
    ["[-]", /invalid number/],
    ["[.5]", /expected a JSON value/],
    ['{"a":NaN}', /NaN and Infinity/],
    ["[Infinity]", /NaN and Infinity/],
    ["[-Infinity]", /NaN and Infinity/],
    ["[tru]", /expected a JSON value/],
    ['"abc', /unterminated string/],
    ['"a\u0001"', /control character U\+0001/],
    ['"a\nb"', /control character U\+000A/],
    ['"\\x"', /invalid escape/],
    ['"\\u12G4"', /invalid \\u escape/],
    ["\ufeff{}", /unexpected U\+FEFF/],
    ['{"a":1,"a":2}', /the key "a" appears twice/],
    ['{"\\u0061":1,"a":2}', /the key "a" appears twice/],
    [`${"[".repeat(1001)}${"]".repeat(1001)}`, /nested over 1000 deep/],
  ];
  it.each(refused.map(([text, message]) => [JSON.stringify(text).slice(0, 30), text, message]))(
    "refuses %s",
    (_label, text, message) => {
      expect(() => canonicalJsonFromText(text)).toThrow(JobValidationError);
      expect(() => canonicalJsonFromText(text)).toThrow(message);
      // verify() answers false, never throws; exact bytes still verify as exact bytes.
      expect(verify(secret, text, hmacHex(secret, "{}"))).toBe(false);
      expect(verify(secret, text, hmacHex(secret, text))).toBe(true);
    },
  );

  it("accepts 1000 levels of nesting and refuses invalid UTF-8", () => {
    const deep = `${"[".repeat(1000)}${"]".repeat(1000)}`;
    expect(canonicalJsonFromText(deep)).toBe(deep);
    expect(() => canonicalJsonFromText(new Uint8Array([0x22, 0xff, 0x22]))).toThrow(
      /not valid UTF-8/,
    );
    expect(() => canonicalJsonFromText(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]))).toThrow(
      /not valid UTF-8/,
    );
  });
});

describe("verifyWebhookRequest on a loopback server, bodies signed by Python", () => {
  let server: Server;
  let url: string;
  let received: (VerifiedWebhookRequest | { error: string; message: string })[] = [];

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      try {
        const verified = await verifyWebhookRequest(req, { secrets: ["other", secret] });
        received.push(verified);
        res.writeHead(204).end();
      } catch (error) {
        const failure =
          error instanceof WebhookVerificationError
            ? { error: error.reason, message: error.message }
            : { error: "crash", message: String(error) };
        received.push(failure);
        res.writeHead(error instanceof WebhookVerificationError ? 401 : 500).end(failure.error);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = async (body: string | Uint8Array, signature: string) => {
    received = [];
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Signature": signature, "X-Event-Id": "7" },
      body,
    });
    return { status: res.status, text: await res.text(), seen: received[0] };
  };

  it("accepts every golden body with its Python signature and hands back the exact text", async () => {
    let posted = 0;
    for (const c of golden.cases) {
      for (const body of c.bodies) {
        const { status, seen } = await post(body, c.signature);
        expect({ name: c.name, body, status }).toEqual({ name: c.name, body, status: 204 });
        expect(seen).toMatchObject({ scheme: "hmac", id: "7", body });
        expect((seen as VerifiedWebhookRequest).payload).toEqual(JSON.parse(body));
        posted++;
      }
    }
    expect(posted).toBeGreaterThan(50);
  });

  it("accepts a live python3 sender posting json.dumps(payload) with its spaces and key order", async () => {
    const script = `
import hashlib, hmac, json, sys, urllib.request
url, secret = sys.argv[1], sys.argv[2]
payload = {"z_total": 10.0, "big": 1e16, "tiny": 1.5e-07, "neg_zero": -0.0,
           "id": 12345678901234567890, "name": "J\\u00f6rg \\U0001f600 \\ufffd", "items": [{"b": 1.0, "a": []}], "meta": {}}
canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
signature = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
body = json.dumps(payload).encode("utf-8")
request = urllib.request.Request(url, data=body, method="POST", headers={
    "Content-Type": "application/json", "X-Signature": signature, "X-Topic": "order.paid",
    "X-Event-Id": "py-1", "X-Attempt": "1"})
with urllib.request.urlopen(request) as response:
    print(json.dumps({"status": response.status, "body": body.decode("utf-8"), "canonical": canonical}))
`;
    received = [];
    const out = JSON.parse(await python(["-c", script, url, secret])) as {
      status: number;
      body: string;
      canonical: string;
    };
    expect(out.status).toBe(204);
    expect(out.body).toContain('"z_total": 10.0, "big": 1e+16');
    expect(received[0]).toMatchObject({
      scheme: "hmac",
      topic: "order.paid",
      id: "py-1",
      attempt: 1,
      body: out.body,
    });
    expect(canonicalJsonFromText(out.body)).toBe(out.canonical);
  });

  it("refuses a changed number, a wrong secret, and answers malformed bodies with invalid_body", async () => {
    const floats = golden.cases.find((c) => c.name === "floats keep Python's repr")!;
    const changed = floats.bodies[0]!.replace("10.0", "10");
    expect(await post(changed, floats.signature)).toMatchObject({
      status: 401,
      text: "invalid_signature",
    });
    expect(await post(floats.bodies[0]!, hmacHex("wrong", floats.canonical))).toMatchObject({
      status: 401,
      text: "invalid_signature",
    });
    const malformed: (string | Uint8Array)[] = [
      `${floats.canonical} trailing`,
      `${floats.canonical}${floats.canonical}`,
      '{"a": 1',
      "",
      '{"a":NaN}',
      '{"a":1,"a":1}',
      new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]),
      "[".repeat(5000),
    ];
    for (const body of malformed) {
      const { status, text, seen } = await post(body, floats.signature);
      expect({ body, status, text }).toEqual({ body, status: 401, text: "invalid_body" });
      expect((seen as { message: string }).message).toMatch(
        /^X-Signature does not match .*not JSON/,
      );
    }
    // Trailing whitespace is not garbage.
    expect((await post(`${floats.canonical}\r\n`, floats.signature)).status).toBe(204);
  });

  it("a body whose exact bytes are signed but that is not JSON is refused as invalid_body", async () => {
    const body = '{"a":1} trailing';
    const { status, text, seen } = await post(body, hmacHex(secret, body));
    expect({ status, text }).toEqual({ status: 401, text: "invalid_body" });
    expect((seen as { message: string }).message).toMatch(/^the signed body is not JSON: /);
    // Repeated keys are taken as signed when the exact bytes are (JSON.parse keeps the last).
    const repeated = '{"a":1,"a":2}';
    expect((await post(repeated, hmacHex(secret, repeated))).seen).toMatchObject({
      payload: { a: 2 },
    });
  });
});

describe("verifyWebhookRequest with a fetch Request and a framework-read body", () => {
  const floats = golden.cases.find((c) => c.name === "floats keep Python's repr")!;

  it("verifies the Python body from a Request", async () => {
    const request = new Request("http://receiver.invalid/hooks", {
      method: "POST",
      headers: { "X-Signature": floats.signature },
      body: floats.bodies[0]!,
    });
    const verified = await verifyWebhookRequest(request, { secrets: secret });
    expect(verified.body).toBe(floats.bodies[0]);
    expect(verified.payload).toMatchObject({ amount: 10, big: 1e16 });
  });

  it("rejects malformed bodies passed as `body` with a WebhookVerificationError", async () => {
    const headers = { "x-signature": floats.signature };
    const request = { headers, on() {} } as unknown as Parameters<typeof verifyWebhookRequest>[0];
    for (const body of ['{"a":1}]', Buffer.from("{\u00ff"), "nul\u0000"]) {
      const attempt = verifyWebhookRequest(request, { secrets: secret, body });
      await expect(attempt).rejects.toBeInstanceOf(WebhookVerificationError);
      await expect(attempt).rejects.toMatchObject({
        reason: "invalid_body",
        code: "ERR_WEBHOOK_VERIFICATION",
      });
    }
  });
});
