import {
  assertPublicDestination,
  isPrivateAddress,
  WebhookDestinationError,
} from "@svc-jobs/webhooks";
import { describe, expect, it } from "vitest";

describe("isPrivateAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "::",
    "::1",
    "[::1]",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "2002:c0a8:0101::1",
    "ff02::1",
    "not an ip",
  ])("%s is not public", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("%s is public", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe("assertPublicDestination", () => {
  const never = async () => {
    throw new Error("lookup must not be called for a literal address");
  };

  it("refuses private literals, localhost and non-http schemes without connecting", async () => {
    for (const url of [
      "http://10.0.0.1/hook",
      "http://127.0.0.1:8080/hook",
      "http://2130706433/hook", // 127.0.0.1 as one number
      "http://[::1]/hook",
      "http://[::ffff:169.254.169.254]/latest/meta-data",
    ]) {
      await expect(assertPublicDestination(url, { lookup: never }), url).rejects.toBeInstanceOf(
        WebhookDestinationError,
      );
    }
    await expect(assertPublicDestination("http://localhost:9/hook")).rejects.toThrow(
      /localhost resolves to/,
    );
    await expect(
      assertPublicDestination("ftp://example.com/x", { allowPrivateNetworks: true }),
    ).rejects.toThrow(/scheme "ftp:"/);
    await expect(assertPublicDestination("not a url")).rejects.toBeInstanceOf(
      WebhookDestinationError,
    );
  });

  it("refuses a public-looking name that resolves to a private address", async () => {
    const lookup = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.1.2.3", family: 4 },
    ];
    const error = await assertPublicDestination("https://hooks.example.com/x?token=secret", {
      lookup,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookDestinationError);
    expect((error as WebhookDestinationError).address).toBe("10.1.2.3");
    // The query string may carry credentials: it never appears in errors.
    expect((error as Error).message).not.toContain("secret");
    expect((error as WebhookDestinationError).destination).toBe("https://hooks.example.com/x");
  });

  it("accepts public addresses, and private ones when allowed", async () => {
    const lookup = async () => [{ address: "93.184.216.34", family: 4 }];
    const ok = await assertPublicDestination("https://hooks.example.com/x", { lookup });
    expect(ok.addresses).toEqual([{ address: "93.184.216.34", family: 4 }]);
    const allowed = await assertPublicDestination("http://10.0.0.1/x", {
      allowPrivateNetworks: true,
      lookup: never,
    });
    expect(allowed.url.hostname).toBe("10.0.0.1");
  });
});
