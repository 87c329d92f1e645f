// Checking a downloaded audit package in the browser, as `cognify verify-package` does
// (docs/spec/trust.md): the package's SHA-256, its DSSE envelope (exactly one Ed25519
// signature over the PAE of an in-toto statement) under the workspace seal key fetched from
// the exporter's authenticated API, and a statement subject equal to the package's hash.
// WebCrypto does the hashing and the signature; the rest is pure.

export const PAYLOAD_TYPE = "application/vnd.in-toto+json";
const OTHER_SUBJECTS = ["chain-head:", "dataset:", "model:"];

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return Array.from(view, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Standard base64 with canonical padding only; null for anything else. */
export function strictB64(text: unknown): Uint8Array | null {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  let raw: string;
  try {
    raw = atob(text);
  } catch {
    return null;
  }
  if (btoa(raw) !== text) return null;
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** DSSE v1 pre-authentication encoding. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  const type = enc.encode(payloadType);
  const head = enc.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export interface ParsedEnvelope {
  payload: Uint8Array;
  signature: Uint8Array;
  keyid: string | null;
}

/** The envelope's parts, or why it is refused. */
export function parseEnvelope(envelope: unknown): ParsedEnvelope | string {
  if (envelope === null || typeof envelope !== "object") return "the envelope is not a JSON object";
  const keys = Object.keys(envelope).sort().join(",");
  if (keys !== "payload,payloadType,signatures") return `unexpected envelope members: ${keys}`;
  const e = envelope as { payloadType: unknown; payload: unknown; signatures: unknown };
  if (e.payloadType !== PAYLOAD_TYPE) return `payloadType is not ${PAYLOAD_TYPE}`;
  const payload = strictB64(e.payload);
  if (payload === null) return "the payload is not canonical base64";
  if (!Array.isArray(e.signatures) || e.signatures.length !== 1) return "not exactly one signature";
  const entry = e.signatures[0] as { sig?: unknown; keyid?: unknown } | null;
  const signature = strictB64(entry?.sig);
  if (signature?.length !== 64) return "the signature is not 64 bytes of base64";
  return { payload, signature, keyid: typeof entry?.keyid === "string" ? entry.keyid : null };
}

/** Why the statement does not vouch for a package of SHA-256 `packageHex` signed with
 * `keyId`; null when it does. */
export function statementProblem(payload: Uint8Array, packageHex: string, keyId: string): string | null {
  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    return "the statement is not JSON";
  }
  const s = statement as { subject?: unknown; predicate?: { seal?: { key_id?: unknown } } } | null;
  if (!Array.isArray(s?.subject)) return "the statement has no subjects";
  const packages = (s.subject as { name?: unknown; digest?: { sha256?: unknown } }[]).filter(
    (sub) => typeof sub.name === "string" && !OTHER_SUBJECTS.some((p) => (sub.name as string).startsWith(p)),
  );
  if (packages.length !== 1) return "not exactly one package subject";
  if (packages[0]?.digest?.sha256 !== packageHex) return "the signed package hash is not this file's SHA-256";
  const sealKey = s.predicate?.seal?.key_id;
  if (sealKey !== undefined && sealKey !== keyId) return "the statement names another seal key";
  return null;
}

export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", data));
}

/** `ed25519:` + SHA-256 of the raw public key (the exporter's key id). */
export async function keyIdOf(rawPublicKey: Uint8Array): Promise<string> {
  return `ed25519:${await sha256Hex(rawPublicKey.slice().buffer)}`;
}

export interface Verdict {
  packageHash: string; // sha256:<hex> of the bytes downloaded
  verified: boolean;
  why: string; // what was checked, or why it failed
}

/** Verify package bytes against their envelope under one of the workspace's seal keys
 * (raw 32-byte Ed25519 public keys, base64). */
export async function verifyPackage(
  data: ArrayBuffer,
  envelope: unknown,
  publicKeysB64: readonly string[],
): Promise<Verdict> {
  const hex = await sha256Hex(data);
  const packageHash = `sha256:${hex}`;
  const parsed = parseEnvelope(envelope);
  if (typeof parsed === "string") return { packageHash, verified: false, why: parsed };
  for (const b64 of publicKeysB64) {
    const raw = strictB64(b64);
    if (raw?.length !== 32) continue;
    const keyId = await keyIdOf(raw);
    if (parsed.keyid !== null && parsed.keyid !== keyId && !keyId.startsWith(parsed.keyid)) continue;
    let ok = false;
    try {
      const key = await crypto.subtle.importKey("raw", raw.slice().buffer, { name: "Ed25519" }, false, ["verify"]);
      const message = pae(PAYLOAD_TYPE, parsed.payload);
      ok = await crypto.subtle.verify({ name: "Ed25519" }, key, parsed.signature.slice().buffer, message.slice().buffer);
    } catch (err) {
      return { packageHash, verified: false, why: `this browser cannot check Ed25519: ${String(err)}` };
    }
    if (!ok) return { packageHash, verified: false, why: "the signature does not verify under the seal key" };
    const problem = statementProblem(parsed.payload, hex, keyId);
    if (problem !== null) return { packageHash, verified: false, why: problem };
    return { packageHash, verified: true, why: `signed by seal key ${keyId.slice(0, 24)}…` };
  }
  return { packageHash, verified: false, why: "no seal key of the workspace matches the envelope's key id" };
}
