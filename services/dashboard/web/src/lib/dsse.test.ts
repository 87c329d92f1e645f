import { describe, expect, it } from "vitest";
import { PAYLOAD_TYPE, keyIdOf, pae, parseEnvelope, sha256Hex, strictB64, verifyPackage } from "./dsse";

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

async function sealed(packageBytes: Uint8Array, tamper?: (statement: Record<string, unknown>) => void) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const keyId = await keyIdOf(raw);
  const hex = await sha256Hex(packageBytes.slice().buffer);
  const statement: Record<string, unknown> = {
    _type: "https://in-toto.io/Statement/v1",
    subject: [
      { name: "run_a.default.pdf", digest: { sha256: hex } },
      { name: "chain-head:run_a", digest: { sha256: "c".repeat(64) } },
    ],
    predicateType: "https://cognify.dev/audit-package/v1",
    predicate: { seal: { key_id: keyId } },
  };
  tamper?.(statement);
  const payload = new TextEncoder().encode(JSON.stringify(statement));
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, pae(PAYLOAD_TYPE, payload).slice().buffer));
  const envelope = { payloadType: PAYLOAD_TYPE, payload: b64(payload), signatures: [{ keyid: keyId, sig: b64(sig) }] };
  return { envelope, key: b64(raw), hex };
}

describe("verifyPackage", () => {
  const pkg = new TextEncoder().encode("%PDF-1.7 the package");

  it("verifies a package signed by the workspace key and gives its SHA-256", async () => {
    const { envelope, key, hex } = await sealed(pkg);
    const verdict = await verifyPackage(pkg.slice().buffer, envelope, [key]);
    expect(verdict).toMatchObject({ verified: true, packageHash: `sha256:${hex}` });
  });

  it("refuses a changed package", async () => {
    const { envelope, key } = await sealed(pkg);
    const changed = new TextEncoder().encode("%PDF-1.7 the packagE");
    const verdict = await verifyPackage(changed.slice().buffer, envelope, [key]);
    expect(verdict.verified).toBe(false);
    expect(verdict.why).toMatch(/not this file's SHA-256/);
  });

  it("refuses a signature by another key than the workspace's", async () => {
    const { envelope } = await sealed(pkg);
    const other = await sealed(pkg);
    const verdict = await verifyPackage(pkg.slice().buffer, envelope, [other.key]);
    expect(verdict.verified).toBe(false);
  });

  it("refuses a second signature, even a valid one", async () => {
    const { envelope, key } = await sealed(pkg);
    const doubled = { ...envelope, signatures: [...envelope.signatures, ...envelope.signatures] };
    expect((await verifyPackage(pkg.slice().buffer, doubled, [key])).why).toBe("not exactly one signature");
  });

  it("refuses a statement naming another seal key", async () => {
    const { envelope, key } = await sealed(pkg, (s) => (s["predicate"] = { seal: { key_id: "ed25519:00" } }));
    expect((await verifyPackage(pkg.slice().buffer, envelope, [key])).verified).toBe(false);
  });
});

describe("envelope parsing", () => {
  it("accepts only canonical base64", () => {
    expect(strictB64("aGk=")).toEqual(new Uint8Array([104, 105]));
    expect(strictB64("aGl=")).toBeNull();
    expect(strictB64("aGk")).toBeNull();
  });

  it("refuses unknown members and payload types", () => {
    expect(parseEnvelope({ payloadType: PAYLOAD_TYPE, payload: "", signatures: [], extra: 1 })).toMatch(/unexpected/);
    expect(parseEnvelope({ payloadType: "text/plain", payload: "", signatures: [] })).toMatch(/payloadType/);
  });

  it("builds DSSE's PAE", () => {
    expect(new TextDecoder().decode(pae("t", new TextEncoder().encode("ab")))).toBe("DSSEv1 1 t 2 ab");
  });
});
