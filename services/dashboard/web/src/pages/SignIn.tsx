import { useId, useState, type SyntheticEvent } from "react";
import { ApiError, send } from "../api";
import type { Me } from "../types";

export function SignInPage({ next, onSignedIn }: { next: string | null; onSignedIn: (me: Me, next: string | null) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const helpId = useId();

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await send<Me>("POST", "/api/session", { api_key: key.trim() });
      if (me) onSignedIn(me, next);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? "This API key is not valid (or was revoked)." : String(err instanceof Error ? err.message : err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">Cognify review</h1>
        <p className="muted">Sign in with your workspace API key (reviewer, admin or writer). Who you are comes from the key.</p>
        <label htmlFor={inputId}>API key</label>
        <input
          id={inputId}
          name="api_key"
          type="text"
          className="secret"
          autoComplete="off"
          spellCheck={false}
          required
          aria-describedby={helpId}
          aria-invalid={error !== null}
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <p id={helpId} className="hint">
          Starts with <code>cgk_</code>. It is kept in an HttpOnly session cookie, never in this page.
        </p>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy || key.trim() === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
