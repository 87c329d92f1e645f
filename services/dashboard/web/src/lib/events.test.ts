import { describe, expect, it } from "vitest";
import { configOf, filesOf, keyHyperparameters } from "./events";
import type { StoredEvent } from "../types";

let index = 0;
const ev = (type: string, payload: Record<string, unknown>): StoredEvent => ({
  index: index++,
  event_id: `e${index}`,
  hash: "",
  prev_hash: "",
  event: { type, payload },
});

describe("facts from events", () => {
  const events = [
    ev("run.config_captured", { config_id: "cfg", model_type: "gpt2", training_args: { learning_rate: 5e-5, max_steps: -1, seed: 42 } }),
    ev("checkpoint.saved", { checkpoint_id: "ckpt_10", step: 10, files: [{ path: "model.safetensors", size: 100 }, { path: "config.json", size: 3 }] }),
    ev("checkpoint.saved", { checkpoint_id: "ckpt_20", step: 20, files: [{ path: "model.safetensors", size: 200 }] }),
    ev("hash.computed", { target_id: "ckpt_10", files: [{ path: "model.safetensors", size: 100, sha256: "a".repeat(64) }, { path: "trainer_state.json", size: 7, sha256: "b".repeat(64) }] }),
  ];

  it("lists a checkpoint's files with their hashes, unhashed ones marked", () => {
    expect(filesOf(events, "ckpt_10")).toEqual([
      { path: "config.json", size: 3, sha256: null },
      { path: "model.safetensors", size: 100, sha256: "a".repeat(64) },
      { path: "trainer_state.json", size: 7, sha256: "b".repeat(64) },
    ]);
    expect(filesOf(events, "ckpt_20")).toEqual([{ path: "model.safetensors", size: 200, sha256: null }]);
    expect(filesOf(events, "nothing")).toEqual([]);
  });

  it("reads the configuration and its key hyperparameters with their source keys", () => {
    const hp = keyHyperparameters(configOf(events));
    expect(hp).toContainEqual({ label: "Learning rate", value: 5e-5, source: "training_args.learning_rate" });
    expect(hp.find((h) => h.label === "Max steps")).toBeUndefined();
    expect(hp[0]).toEqual({ label: "model type", value: "gpt2", source: "model_type" });
    expect(keyHyperparameters(null)).toEqual([]);
  });
});
