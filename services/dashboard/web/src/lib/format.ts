// Formatting for display (pure).

export function shortHash(hash: string | null | undefined): string {
  if (!hash) return "";
  const [algo, hex] = hash.includes(":") ? hash.split(":", 2) : ["", hash];
  const head = (hex ?? "").slice(0, 12);
  return algo ? `${algo}:${head}…` : `${head}…`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u] ?? ""}`;
}

/** An ISO time as "2025-09-12 16:45:00 UTC" (reviewers compare times across zones). */
export function time(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A metric value: up to 4 significant digits, exponent for the very small or large. */
export function metric(v: unknown): string {
  if (typeof v !== "number") return v === null || v === undefined ? "—" : JSON.stringify(v);
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(3);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return String(Number(v.toPrecision(4)));
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

/** A hash in the pieces it may wrap between: the algorithm with its colon, then 16 digits
 * at a time, so a wrapped hash never leaves one digit alone on its last line. */
export function hashPieces(hash: string): string[] {
  const colon = hash.indexOf(":");
  const head = colon >= 0 ? [hash.slice(0, colon + 1)] : [];
  const digits = hash.slice(colon + 1);
  const pieces: string[] = [];
  for (let i = 0; i < digits.length; i += 16) pieces.push(digits.slice(i, i + 16));
  return [...head, ...pieces];
}

/** "1 year", "10 years": a count with its noun, singular for exactly one. */
export function plural(n: number, noun: string): string {
  return `${count(n)} ${n === 1 ? noun : `${noun}s`}`;
}

export function statusLabel(status: string): string {
  return status === "AUDIT_SEALED" ? "AUDIT_SEALED (sealed)" : status;
}

/** Any JSON value as a short readable cell. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v === "" ? "(empty)" : v;
  if (typeof v === "number") return metric(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  return JSON.stringify(v);
}
