// Facts the page reads from the run's stored events (GET /v1/runs/{id}/events), pure:
// the configuration, a node's files with their SHA-256, a dataset's provenance.

import type { StoredEvent } from "../types";

type Payload = Record<string, unknown>;

function payloads(events: readonly StoredEvent[], type: string): Payload[] {
  return events.filter((e) => e.event.type === type).map((e) => e.event.payload ?? {});
}

/** The run's configuration as captured (the last `run.config_captured`), or null. */
export function configOf(events: readonly StoredEvent[]): Payload | null {
  const all = payloads(events, "run.config_captured");
  return all[all.length - 1] ?? null;
}

export interface FileRow {
  path: string;
  size: number | null;
  sha256: string | null; // null: not hashed (yet)
}

interface FileEntry {
  path?: unknown;
  size?: unknown;
  sha256?: unknown;
}

/** The files of a checkpoint or model: what its event listed, with the SHA-256 the last
 * `hash.computed` of it gave each (and files only the hasher saw). */
export function filesOf(events: readonly StoredEvent[], nodeId: string): FileRow[] {
  const rows = new Map<string, FileRow>();
  const listed = [...payloads(events, "checkpoint.saved"), ...payloads(events, "model.registered")];
  for (const p of listed) {
    const owner = p["model_id"] ?? p["checkpoint_id"]; // a model names its checkpoint too
    if (owner !== nodeId) continue;
    for (const f of (p["files"] ?? []) as FileEntry[]) {
      if (typeof f.path !== "string") continue;
      rows.set(f.path, { path: f.path, size: typeof f.size === "number" ? f.size : null, sha256: null });
    }
  }
  const hashed = payloads(events, "hash.computed").filter((p) => p["target_id"] === nodeId);
  const last = hashed[hashed.length - 1];
  for (const f of (last?.["files"] ?? []) as FileEntry[]) {
    if (typeof f.path !== "string") continue;
    const old = rows.get(f.path);
    rows.set(f.path, {
      path: f.path,
      size: typeof f.size === "number" ? f.size : (old?.size ?? null),
      sha256: typeof f.sha256 === "string" ? f.sha256 : null,
    });
  }
  return [...rows.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** A dataset's registration payload (provenance, source, format), or null. */
export function datasetOf(events: readonly StoredEvent[], datasetId: string): Payload | null {
  const all = payloads(events, "dataset.registered").filter((p) => p["dataset_id"] === datasetId);
  return all[all.length - 1] ?? null;
}

const KEY_ARGS: [string, string][] = [
  ["learning_rate", "Learning rate"],
  ["num_train_epochs", "Epochs"],
  ["max_steps", "Max steps"],
  ["per_device_train_batch_size", "Batch size per device"],
  ["gradient_accumulation_steps", "Gradient accumulation"],
  ["lr_scheduler_type", "LR schedule"],
  ["warmup_ratio", "Warmup ratio"],
  ["warmup_steps", "Warmup steps"],
  ["weight_decay", "Weight decay"],
  ["optim", "Optimizer"],
  ["seed", "Seed"],
  ["bf16", "bf16"],
  ["fp16", "fp16"],
];

export interface Hyperparameter {
  label: string;
  value: unknown;
  source: string; // where in the configuration it was read
}

/** The hyperparameters a reviewer looks at first, each with the key it came from. */
export function keyHyperparameters(config: Payload | null): Hyperparameter[] {
  if (config === null) return [];
  const out: Hyperparameter[] = [];
  for (const key of ["model_type", "parameter_count", "trainable_parameter_count", "optimizer", "lr_scheduler", "trainer_class"]) {
    const v = config[key];
    if (v !== null && v !== undefined) out.push({ label: key.replace(/_/g, " "), value: v, source: key });
  }
  const args = (config["training_args"] ?? {}) as Payload;
  for (const [key, label] of KEY_ARGS) {
    // the optimizer and schedule already named above, as the SDK recorded them
    if ((key === "optim" && config["optimizer"]) || (key === "lr_scheduler_type" && config["lr_scheduler"])) continue;
    const v = args[key];
    if (v === null || v === undefined || (key === "max_steps" && v === -1)) continue;
    out.push({ label, value: v, source: `training_args.${key}` });
  }
  const peft = config["peft_config"] as Payload | null | undefined;
  if (peft) {
    for (const key of ["peft_type", "r", "lora_alpha", "lora_dropout"]) {
      if (peft[key] !== undefined) out.push({ label: `PEFT ${key}`, value: peft[key], source: `peft_config.${key}` });
    }
  }
  return out;
}
