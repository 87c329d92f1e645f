// The signed-in reviewer (GET /api/session), shared by every page.

import { createContext, useContext } from "react";
import type { Me } from "./types";

export interface Session {
  me: Me;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error("useSession outside a signed-in page");
  return s;
}

/** Who may review (annotate, approve, reject, seal): reviewer and admin keys, not writers. */
export function mayReview(me: Me): boolean {
  return me.role === "reviewer" || me.role === "admin";
}
