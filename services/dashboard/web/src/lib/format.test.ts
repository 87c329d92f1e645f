import { describe, expect, it } from "vitest";
import { bytes, hashPieces, metric, plural, shortHash, time } from "./format";
import { match } from "../router";

describe("format", () => {
  it("shortens hashes keeping the algorithm", () => {
    expect(shortHash(`sha256:${"ab".repeat(32)}`)).toBe("sha256:abababababab…");
    expect(shortHash(null)).toBe("");
  });
  it("cuts a hash where it may wrap, losing nothing", () => {
    const hash = `sha256:${"0123456789abcdef".repeat(4)}`;
    expect(hashPieces(hash)).toEqual(["sha256:", ...Array<string>(4).fill("0123456789abcdef")]);
    expect(hashPieces(hash).join("")).toBe(hash);
    expect(hashPieces("abc")).toEqual(["abc"]);
    expect(hashPieces("")).toEqual([]);
  });
  it("says one year, not one years", () => {
    expect(plural(1, "year")).toBe("1 year");
    expect(plural(10, "year")).toBe("10 years");
    expect(plural(0, "year")).toBe("0 years");
  });
  it("prints sizes, times and metrics", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(1536)).toBe("1.50 KiB");
    expect(time("2025-09-12T16:45:00+00:00")).toBe("2025-09-12 16:45:00 UTC");
    expect(metric(0.123456)).toBe("0.1235");
    expect(metric(0.00002)).toBe("2.000e-5");
    expect(metric(1500)).toBe("1,500");
  });
});

describe("routes", () => {
  it("matches a run id, decoded", () => {
    expect(match("/runs/:runId", "/runs/run%3Aa")).toEqual({ runId: "run:a" });
    expect(match("/runs/:runId", "/runs")).toBeNull();
    expect(match("/runs/:runId", "/runs/%E0%A4%A")).toBeNull();
  });
});
