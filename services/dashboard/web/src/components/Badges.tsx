// Status words with a shape and a colour: the word is always there (colour is never the
// only signal).

const STATUS_ICON: Record<string, string> = {
  running: "●",
  completed: "✓",
  failed: "✕",
  interrupted: "‖",
  abandoned: "⊘",
};

/** A padlock drawn inline (no emoji font is assumed on a reviewer's machine). */
export function LockIcon() {
  return (
    <svg className="lock" width="11" height="13" viewBox="0 0 11 13" aria-hidden="true" focusable="false">
      <rect x="0.5" y="5.5" width="10" height="7" rx="1" />
      <path d="M2.5 5.5V3.5a3 3 0 0 1 6 0v2" fill="none" />
    </svg>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`}>
      {status === "AUDIT_SEALED" ? <LockIcon /> : <span aria-hidden="true">{STATUS_ICON[status] ?? "•"}</span>} {status}
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
  const icon = state === "computed" ? "✓" : state === "pending" ? "◷" : state === "failed" ? "✕" : "▤";
  return (
    <span className={`hash-state hs-${state}`}>
      <span aria-hidden="true">{icon} </span>
      {text}
    </span>
  );
}
