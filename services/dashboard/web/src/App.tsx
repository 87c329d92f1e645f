import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, getJson, prefetchJson, send, setUnauthorizedHandler } from "./api";
import { NotFound } from "./pages/NotFound";
import { RunsPage, runsListPath } from "./pages/Runs";
import { SignInPage } from "./pages/SignIn";
import { Link, match, navigate, useLocation } from "./router";
import { SessionContext, type Session } from "./session";
import type { Me } from "./types";

// The run page (the graph library and the charts), comparison and admin load when first
// opened: the runs list, where a reviewer starts, paints without parsing them
// (bench/dashboard.py, docs/decisions/dashboard-frontend.md).
const loadRunPage = () => import("./pages/Run");
const RunPage = lazy(() => loadRunPage().then((m) => ({ default: m.RunPage })));
// Opened at a run's address, its code and first data are fetched while the session is asked
// for; from any other page, its code once the page has settled, so that opening a run does
// not wait for it.
const opened = match("/runs/:runId", window.location.pathname)?.["runId"];
if (opened) void loadRunPage().then((m) => m.preloadRunPage(opened));
else window.setTimeout(() => void loadRunPage(), 3_000);
// The runs list's first page is asked for with the session, not after it.
if (window.location.pathname === "/runs") {
  prefetchJson(runsListPath(new URLSearchParams(window.location.search)));
}
const ComparePage = lazy(() => import("./pages/Compare").then((m) => ({ default: m.ComparePage })));
const AdminPage = lazy(() => import("./pages/Admin").then((m) => ({ default: m.AdminPage })));

type SessionState = { state: "loading" } | { state: "out" } | { state: "in"; me: Me };

export function App() {
  const [session, setSession] = useState<SessionState>({ state: "loading" });
  const { path, search } = useLocation();

  useEffect(() => {
    let live = true;
    getJson<Me>("/api/session").then(
      (me) => live && setSession({ state: "in", me }),
      () => live && setSession({ state: "out" }),
    );
    setUnauthorizedHandler(() => setSession({ state: "out" }));
    return () => {
      live = false;
      setUnauthorizedHandler(null);
    };
  }, []);

  const signOut = useCallback(async () => {
    try {
      await send("DELETE", "/api/session");
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
    setSession({ state: "out" });
    navigate("/signin");
  }, []);

  const context: Session | null = useMemo(
    () => (session.state === "in" ? { me: session.me, signOut } : null),
    [session, signOut],
  );

  useEffect(() => {
    // The page title names the page, for the browser's history and screen readers.
    const name = path.startsWith("/runs/") ? path.slice(6) : path.slice(1) || "runs";
    document.title = `${decodeURIComponentSafe(name)} — Cognify review`;
  }, [path]);

  if (session.state === "loading") return <Loading />;
  if (session.state === "out" || context === null) {
    const next = path === "/signin" ? search.get("next") : path + (search.size ? `?${search}` : "");
    return (
      <SignInPage
        next={next}
        onSignedIn={(me, to) => {
          setSession({ state: "in", me });
          navigate(to && to.startsWith("/") && !to.startsWith("//") ? to : "/runs", true);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={context}>
      <Header me={context.me} path={path} onSignOut={() => void signOut()} />
      <Suspense fallback={<Loading />}>
        <Routes path={path} me={context.me} />
      </Suspense>
    </SessionContext.Provider>
  );
}

function Loading() {
  return (
    <main className="page" aria-busy="true">
      <p role="status">Loading…</p>
    </main>
  );
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function Routes({ path, me }: { path: string; me: Me }) {
  if (path === "/" || path === "/signin") return <Redirect to="/runs" />;
  if (path === "/runs") return <RunsPage />;
  const run = match("/runs/:runId", path);
  if (run?.["runId"]) return <RunPage key={run["runId"]} runId={run["runId"]} />;
  if (path === "/compare") return <ComparePage />;
  if (path === "/admin") return me.role === "admin" ? <AdminPage /> : <NotFound what="The admin page is for admin keys only." />;
  return <NotFound />;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function Header({ me, path, onSignOut }: { me: Me; path: string; onSignOut: () => void }) {
  const nav = [
    { to: "/runs", label: "Runs" },
    { to: "/compare", label: "Compare" },
    ...(me.role === "admin" ? [{ to: "/admin", label: "Admin" }] : []),
  ];
  return (
    <header className="top">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <span className="brand" aria-hidden="true">
        Cognify
      </span>
      <nav aria-label="Main">
        <ul>
          {nav.map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={path === n.to || path.startsWith(`${n.to}/`) ? "page" : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <dl className="who" aria-label="Signed in as">
        <div>
          <dt>Workspace</dt>
          <dd>{me.workspace_id}</dd>
        </div>
        <div>
          <dt>Person</dt>
          <dd>
            {me.person.name}
            {me.person.title ? <span className="muted">, {me.person.title}</span> : null}
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>
            <span className={`role role-${me.role}`}>{me.role}</span>
          </dd>
        </div>
      </dl>
      <button type="button" className="secondary" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
