import { Link } from "../router";

export function NotFound({ what }: { what?: string }) {
  return (
    <main id="main" className="page narrow">
      <h1>Not found</h1>
      <p>{what ?? "There is nothing here, or nothing this key may see. A run of another workspace is not found either."}</p>
      <p>
        <Link to="/runs">Back to the runs</Link>
      </p>
    </main>
  );
}
