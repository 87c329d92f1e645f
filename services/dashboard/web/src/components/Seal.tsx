import { useState } from "react";
import { ApiError, errorText, exporterPath, runPath, send } from "../api";
import { LockIcon } from "./Badges";

// Sealing (the exporter's POST /v1/runs/{run}/seal): every reason it cannot seal yet is
// listed as the exporter gave it (409); a seal not folded in time (503) is asked again.

export function SealForm({ runId, disabled, onChanged }: { runId: string; disabled: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [reasons, setReasons] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seal = async (attempt = 0): Promise<void> => {
    setBusy(true);
    setError(null);
    setReasons(null);
    try {
      await send("POST", exporterPath(`${runPath(runId)}/seal`), {});
      setBusy(false);
      onChanged();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setReasons(err.reasons.length > 0 ? err.reasons : [err.message]);
      } else if (err instanceof ApiError && err.status === 503 && attempt < 3) {
        setError("The seal is not folded yet; trying again in 5 seconds…");
        await new Promise((r) => setTimeout(r, 5_000));
        return seal(attempt + 1);
      } else {
        setError(errorText(err));
      }
      setBusy(false);
    }
  };
  return (
    <div className="stack">
      <h3>Seal</h3>
      <p className="small muted">Sealing makes the run read-only for good and signs its audit package.</p>
      <div className="row">
        <button type="button" className="seal" disabled={disabled || busy} onClick={() => void seal()}>
          <LockIcon /> Seal run
        </button>
        {busy ? <span role="status">Sealing…</span> : null}
      </div>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {reasons ? (
        <div role="alert" aria-label="Cannot seal yet" className="refusal">
          <h4>Cannot seal yet</h4>
          <ul>
            {reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

