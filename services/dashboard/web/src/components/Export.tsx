import { useId, useState, type SyntheticEvent } from "react";
import { ApiError, errorText, exporterPath, getJson, request, runPath, send } from "../api";
import { verifyPackage, type Verdict } from "../lib/dsse";
import { bytes, time } from "../lib/format";
import { FullHash } from "./FullHash";
import { EXPORT_FORMATS, EXPORT_TEMPLATES, type Exported, type ExportFormat, type ExportTemplate, type Me } from "../types";

// Export (the exporter's POST /v1/runs/{run}/exports), then the package downloaded through
// the proxy and checked in the browser: its SHA-256 and its DSSE signature under the
// workspace's seal keys (src/lib/dsse.ts).

interface ExportResult {
  exported: Exported;
  verdict: Verdict | null;
  verifyError: string | null;
  url: string;
}

export function ExportForm({ me, runId }: { me: Me; runId: string }) {
  const id = useId();
  const [format, setFormat] = useState<ExportFormat>("pdf");
  const [template, setTemplate] = useState<ExportTemplate>("default");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reasons, setReasons] = useState<string[]>([]);
  const [result, setResult] = useState<ExportResult | null>(null);

  const run = async (e: SyntheticEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setReasons([]);
    setResult(null);
    try {
      const exported = await send<Exported>("POST", exporterPath(`${runPath(runId)}/exports`), { format, template });
      if (!exported) throw new Error("the exporter answered nothing");
      const url = exporterPath(`${runPath(runId)}/exports/${exported.template}/${exported.format}`);
      setResult({ exported, verdict: null, verifyError: null, url });
      try {
        const [data, envelope, key] = await Promise.all([
          request("GET", url).then((r) => r.arrayBuffer()),
          getJson<unknown>(`${url}/envelope`),
          getJson<{ public_key_b64: string; keys?: { public_key_b64?: string }[] }>(
            exporterPath(`workspaces/${encodeURIComponent(me.workspace_id)}/seal-key`),
          ),
        ]);
        const keys = [key.public_key_b64, ...(key.keys ?? []).map((k) => k.public_key_b64 ?? "")].filter(Boolean);
        const verdict = await verifyPackage(data, envelope, keys);
        setResult({ exported, verdict, verifyError: null, url });
      } catch (err) {
        setResult({ exported, verdict: null, verifyError: errorText(err), url });
      }
    } catch (err) {
      setError(errorText(err));
      if (err instanceof ApiError) setReasons(err.reasons);
    } finally {
      setBusy(false);
    }
  };

  const v = result?.verdict;
  return (
    <form className="stack" onSubmit={(e) => void run(e)} aria-labelledby={`${id}-t`}>
      <h3 id={`${id}-t`}>Export</h3>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-f`}>Format</label>
          <select id={`${id}-f`} value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
            {EXPORT_FORMATS.map((f) => (
              <option key={f} value={f}>
                {f.toUpperCase()}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-tpl`}>Template</label>
          <select id={`${id}-tpl`} value={template} onChange={(e) => setTemplate(e.target.value as ExportTemplate)}>
            {EXPORT_TEMPLATES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={busy}>
          Export
        </button>
        {busy ? <span role="status">Exporting and checking…</span> : null}
      </div>
      {error ? (
        <div role="alert" className="error">
          <p>Export failed: {error}</p>
          {reasons.length > 0 ? (
            <ul>
              {reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {result ? (
        <div className="export-result" role="status">
          <dl className="facts">
            <dt>Package</dt>
            <dd>
              <a href={result.url} download>
                Download {result.exported.format.toUpperCase()} ({bytes(result.exported.size)})
              </a>
            </dd>
            <dt>Package SHA-256</dt>
            <dd>
              <FullHash hash={v?.packageHash ?? result.exported.package_hash} />
              {v && v.packageHash !== result.exported.package_hash ? (
                <strong className="error"> differs from the exporter's {result.exported.package_hash}</strong>
              ) : null}
            </dd>
            <dt>Signature</dt>
            <dd>
              {v ? (
                v.verified && v.packageHash === result.exported.package_hash ? (
                  <span className="ok">
                    <span aria-hidden="true">✓ </span>Signature verified <span className="muted small">({v.why})</span>
                  </span>
                ) : (
                  <span className="error">
                    <span aria-hidden="true">✕ </span>Signature NOT verified <span className="small">({v.why})</span>
                  </span>
                )
              ) : result.verifyError ? (
                <span className="error">
                  <span aria-hidden="true">✕ </span>Signature NOT verified <span className="small">({result.verifyError})</span>
                </span>
              ) : (
                "checking…"
              )}
            </dd>
            <dt>Kept until</dt>
            <dd>{time(result.exported.retain_until)} (WORM)</dd>
          </dl>
        </div>
      ) : null}
    </form>
  );
}

