// Status words with a shape and a colour: the word is always there (colour is never the
// only signal).

const STATUS_ICON: Record<string, string> = {
  running: "●",
  completed: "✓",
  failed: "✕",
  interrupted: "‖",
  abandoned: "⊘",
  AUDIT_SEALED: "🔒",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`}>
      <span aria-hidden="true">{STATUS_ICON[status] ?? "•"} </span>
      {status}
    </span>
  );
}

const APPROVAL_ICON: Record<string, string> = { approved: "✓", rejected: "✕", pending: "…" };

export function ApprovalBadge({ approval }: { approval: string }) {
  return (
    <span className={`badge approval-${approval}`}>
      <span aria-hidden="true">{APPROVAL_ICON[approval] ?? "•"} </span>
      {approval}
    </span>
  );
}

export function HashState({ state, text }: { state: string; text: string }) {
  const icon = state === "computed" ? "✓" : state === "pending" ? "⧗" : state === "failed" ? "⚠" : "▤";
  return (
    <span className={`hash-state hs-${state}`}>
      <span aria-hidden="true">{icon} </span>
      {text}
    </span>
  );
}
