import { useState, type ReactNode } from "react";

/** A <details> whose content is rendered only once opened (a run of 2,000 steps has tables
 * and charts nobody needs in the first paint). */
export function LazyDetails({ summary, children, className }: { summary: ReactNode; children: () => ReactNode; className?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details className={className} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{summary}</summary>
      {open ? children() : null}
    </details>
  );
}
