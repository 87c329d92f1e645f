// The shapes the SPA reads: the BFF's session (Me) and the services' JSON answers as
// documented in their OpenAPI (lineage api.py/views.py, ingest http.py, exporter http.py)
// and docs/spec/lineage-graph.schema.json. Every view allows members it does not name.

export type Role = "reviewer" | "admin" | "writer";

export interface Person {
  name: string;
  title: string | null;
  email: string | null;
}

export interface Me {
  workspace_id: string;
  role: Role;
  key_id: string;
  person: Person;
}

export type NodeType = "dataset" | "config" | "checkpoint" | "eval" | "model";
export type HashStatus = "pending" | "computed" | "failed";
export type RunStatus =
  | "running"
  | "completed"
  | "failed"
  | "interrupted"
  | "abandoned"
  | "AUDIT_SEALED";

export interface LineageNode {
  type: NodeType;
  id: string;
  hash: string | null;
  timestamp: string;
  hash_status: HashStatus;
  hash_error?: string;
  step?: number;
  record_count?: number;
  schema_version?: string | null;
  evaluated_checkpoint?: string;
  source_version?: string;
  [member: string]: unknown;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface Lineage {
  run_id: string;
  status: RunStatus;
  sealed_at: string | null;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface RunRow {
  run_id: string;
  project: string;
  name: string | null;
  status: RunStatus;
  tags: Record<string, string>;
  started_at: string | null;
  last_event_at: string;
  sealed_at: string | null;
  // Not (yet) in lineage's RunRow; shown when the service answers them.
  approval?: string | null;
  findings_count?: number;
  open_findings?: number;
  ended_at?: string | null;
  [member: string]: unknown;
}

export interface RunList {
  runs: RunRow[];
  limit: number;
  offset: number;
  total?: number;
}

export interface Finding {
  id: string;
  kind: string;
  subject: string | null;
  opened_at: string;
  detail: Record<string, unknown>;
  resolved_at: string | null;
  resolution: Record<string, unknown> | null;
}

export interface SealRefusal {
  reasons: string[];
  request_id: string | null;
  requested_by: string;
  at: string;
  event_id: string;
}

export interface RunSummary extends RunRow {
  workspace_id: string;
  seq_high: number | null;
  sequence_gaps: { from: number; to: number }[];
  findings: Finding[];
  seal_refused?: SealRefusal | null;
}

export interface Point {
  step: number;
  value: number;
  epoch: number | null;
  time: string;
}

export interface MetricSeries {
  run_id: string;
  series: Record<string, Point[]>;
}

export interface Chain {
  valid: boolean;
  length: number;
  head: string | null;
  broken_event_id: string | null;
  broken_index: number | null;
  reason: string | null;
  message: string;
  /** When lineage read the chain to verify it (the run page's may be up to 15 s old). */
  checked_at?: string | null;
}

export interface StoredEvent {
  index: number;
  event_id: string;
  hash: string;
  prev_hash: string;
  event: StoredEventBody;
}

export interface StoredEventBody {
  type?: string;
  seq?: number | null;
  time?: string;
  payload?: Record<string, unknown>;
  [member: string]: unknown;
}

export interface EventPage {
  run_id: string;
  chain: Chain;
  total: number;
  events: StoredEvent[];
}

export interface Annotation {
  annotation_id: string;
  node_id: string;
  author: { name: string; role: string };
  text: string;
  time: string;
}

export interface Approval {
  event_id: string;
  decision: string;
  reviewer: { name: string; role: string };
  comment: string | null;
  time: string;
}

export const EXPORT_FORMATS = ["pdf", "json", "xlsx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_TEMPLATES = ["default", "eu_ai_act", "hipaa", "healthcare"] as const;
export type ExportTemplate = (typeof EXPORT_TEMPLATES)[number];

export interface Exported {
  run_id: string;
  workspace_id: string;
  format: ExportFormat;
  template: ExportTemplate;
  bucket: string;
  object_key: string;
  envelope_key: string;
  package_hash: string;
  size: number;
  retain_until: string;
}

export interface SealKeyEntry {
  key_id: string;
  public_key_b64?: string;
  [member: string]: unknown;
}

export interface SealKey {
  workspace_id: string;
  key_id: string;
  algorithm: string;
  public_key_pem: string;
  public_key_b64: string;
  keys: SealKeyEntry[];
}
