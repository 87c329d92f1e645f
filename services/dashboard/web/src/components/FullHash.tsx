import { Fragment } from "react";
import { hashPieces } from "../lib/format";

/** A full hash, wrapping only between groups of 16 digits (its text is the hash, exactly). */
export function FullHash({ hash, id }: { hash: string; id?: string }) {
  return (
    <code id={id} className="full-hash">
      {hashPieces(hash).map((piece, i) => (
        <Fragment key={i}>
          {i > 0 ? <wbr /> : null}
          {piece}
        </Fragment>
      ))}
    </code>
  );
}
