"""Seal a run and export its packages: the steps, in order, over the adapters.

seal:   read the run, its chain and its refused events in one snapshot -> `seal.reasons`
        (and the chain, recomputed) -> publish `run.sealed` -> wait until lineage has
        folded it -> auto-export per the retention settings.
        Lineage refuses a stale seal (an event of the run stored after the chain was read):
        then the steps are taken again with the new chain, up to `seal_attempts` times.
        A seal the exporter will not make (reasons, or every seal stale) is published as
        `run.seal_refused` (every reason, the request it answers, who asked) before the
        caller hears of it, so the run shows it: nothing is refused in silence.
export: seal first when needed -> report from the store at the seal -> render and sign
        -> write to WORM storage (locked for the workspace's retention) -> `export.completed`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import cognify_events as ev
from cognify_lineage_model.model import SEALED, Run, iso

from . import archive, encryption, keys, metrics, modelsig, orgdocs, package, postgres, report, seal
from .objectstore import PackageStore
from .postgres import ExportRow, Pool

log = logging.getLogger("cognify_exporter")
Publish = Callable[..., Awaitable[None]]


class NotFound(LookupError):
    pass


class Refused(RuntimeError):
    """The run cannot be sealed; `reasons` says exactly what is missing."""

    def __init__(self, run_id: str, reasons: list[str]) -> None:
        super().__init__(f"run {run_id} cannot be sealed: " + "; ".join(reasons))
        self.reasons = reasons


class StaleSeal(RuntimeError):
    """Every seal published was refused by lineage as stale: events of the run kept
    arriving between reading its chain and the seal. The seal can be asked for again."""

    def __init__(self, run_id: str, attempts: int, reason: str) -> None:
        super().__init__(
            f"run {run_id} could not be sealed: lineage refused {attempts} run.sealed "
            f"events in a row as stale (events of the run arrived while sealing); "
            f"the last: {reason}"
        )
        self.reason = reason


def retain_until(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year + years)
    except ValueError:  # 29 February
        return now.replace(year=now.year + years, day=28)


def export_json(row: ExportRow) -> dict[str, Any]:
    return {
        "run_id": row.run_id,
        "workspace_id": row.workspace_id,
        "format": row.format.value,
        "template": row.template.value,
        "bucket": row.bucket,
        "object_key": row.object_key,
        "envelope_key": row.envelope_key,
        "package_hash": row.package_hash,
        "size": row.size,
        "retain_until": iso(row.retain_until),
    }


@dataclass
class Exporter:
    pool: Pool
    packages: PackageStore
    publish: Publish
    producer: ev.Producer
    master_key: bytes
    seal_wait_s: float = 30.0
    seal_attempts: int = 3  # seals published before giving up when lineage finds each stale
    archive_storage_class: str = archive.STORAGE_CLASS  # archive.py; settings.py
    # The last sealed run's report, by (run, chain head, events sealed): see sealed_report.
    _kept: tuple[tuple[str, str, int], report.Report] | None = field(
        default=None, init=False, repr=False
    )

    async def _run(self, run_id: str, workspace_id: str | None) -> Any:
        run = await postgres.run(self.pool, run_id)
        if run is None or (workspace_id is not None and run.workspace_id != workspace_id):
            raise NotFound(run_id)
        return run

    async def seal(
        self,
        run_id: str,
        sealed_by: str,
        workspace_id: str | None = None,
        formats: list[ev.ExportFormat] | None = None,
        template: ev.ExportTemplate = ev.ExportTemplate.DEFAULT,
        request_id: UUID | None = None,
    ) -> dict[str, Any]:
        """Seal the run (`request_id`: the `run.seal_requested` event this answers, if
        any); a refusal is published as `run.seal_refused`, then raised."""
        run = await self._run(run_id, workspace_id)
        try:
            run = await self._sealed(run, sealed_by)
        except Refused as exc:
            await self._refused(run, exc.reasons, sealed_by, request_id)
            raise
        except StaleSeal as exc:
            await self._refused(run, [str(exc)], sealed_by, request_id)
            raise
        await self.evidence(await self.sealed_report(run_id))  # the model's OMS signature
        retention = await postgres.retention(self.pool, run.workspace_id)
        wanted = [(f, template) for f in formats or []]
        auto = (retention.auto_export_format, retention.auto_export_template)
        if retention.auto_export_on_seal and auto not in wanted:  # with its own template
            wanted.append(auto)
        exports = [await self.export(run_id, f, t, sealed_by) for f, t in wanted]
        return {
            "run_id": run_id,
            "status": SEALED,
            "seal": dict(run.info["seal"]),
            "exports": [export_json(x) for x in exports],
        }

    async def _refused(
        self, run: Run, why: list[str], requested_by: str, request_id: UUID | None
    ) -> None:
        event = seal.refusal_event(
            run, why, requested_by, request_id, datetime.now(UTC), self.producer
        )
        await self.publish(event)

    async def _sealed(self, run: Run, sealed_by: str) -> Run:
        """Seal `run` (as read by the caller) unless it is sealed already; the run sealed."""
        run_id = run.run_id
        refusal = ""
        for _ in range(self.seal_attempts):
            if run.status == SEALED:
                break
            policy, _ = await postgres.documentation(self.pool, run.workspace_id)
            # One moment of the store: the state checked is the one folded from exactly
            # the chain the seal names (and a head committed meanwhile cannot look like
            # events removed).
            found = await postgres.snapshot(self.pool, run_id)
            if found is None:
                raise NotFound(run_id)
            run, chain = found.run, found.chain
            if run.status == SEALED:
                break
            problems = seal.reasons(run, policy, found.refusals, found.stale)
            if not chain.valid:
                problems.append(f"event chain broken: {chain.describe()}")
            if problems:
                metrics.SEALS.labels("refused").inc()
                raise Refused(run_id, problems)
            event = seal.seal_event(
                run,
                seal.Chain(chain.head, chain.length),
                sealed_by,
                datetime.now(UTC),
                self.producer,
            )
            await self.publish(event)
            stale = await self._until_sealed(run_id, event)
            if stale is None:
                metrics.SEALS.labels("sealed").inc()
            else:  # an event of the run came between the chain read and the seal: again
                metrics.SEALS.labels("stale").inc()
                log.warning("seal of %s refused by lineage as stale: %s", run_id, stale)
                refusal = stale
            run = await self._run(run_id, None)
        if run.status != SEALED:
            raise StaleSeal(run_id, self.seal_attempts, refusal)
        return run

    async def _until_sealed(self, run_id: str, event: ev.RunSealed) -> str | None:
        """Wait until lineage has folded a seal of the run (None), or has refused `event`
        as stale (its reason, from `refused_events`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seal_wait_s
        while not await postgres.is_sealed(self.pool, run_id):
            refused = await postgres.refusal(self.pool, event.event_id)
            if refused is not None:
                return refused
            if loop.time() > deadline:
                raise TimeoutError(
                    f"run.sealed for {run_id} was published but lineage has not folded it "
                    f"within {self.seal_wait_s:.0f} s; the export can be asked for again"
                )
            await asyncio.sleep(0.05)
        return None

    async def evidence(self, rep: report.Report) -> report.Report:
        """The report with what the exporter adds to it: the sealed model's OMS signature
        (signed from its manifest and stored once, locked as long as the longest template
        keeps a package that names it: modelsig.py) and the default encryption the S3 API
        states now for the buckets holding the run's packages and checkpoints
        (encryption.py)."""
        retention = await postgres.retention(self.pool, rep.run["workspace_id"])
        years = max(retention.retention_years, *ev.TEMPLATE_RETENTION_FLOORS.values())
        until = retain_until(datetime.now(UTC), years)
        rep = await modelsig.ensure(self.pool, self.packages, self.master_key, rep, until)
        named, _ = encryption.buckets(self.packages.bucket, [*rep.checkpoints, rep.model or {}])
        return replace(rep, encryption=tuple(await self.packages.encryption(named)))

    async def sealed_report(self, run_id: str) -> report.Report:
        """`report(run_id)`, built once for the exports that follow it: everything in a
        sealed run's report is fixed by its seal (report.py), so the formats of one seal
        (auto-export, a CLI asking for several) read the store once. Only the last one is
        kept: a run of 100,000 metric points takes ~2 s to read and build (bench/export.py)
        and tens of MB to hold."""
        run = await postgres.run_summary(self.pool, run_id)
        if run is None or run.status != SEALED:
            return await self.report(run_id)  # refused there, with the reason
        s = run.info["seal"]
        key = (run_id, str(s["chain_head"]), int(s["event_count"]))
        if self._kept is not None and self._kept[0] == key:
            return self._kept[1]
        rep = await self.report(run_id)
        self._kept = (key, rep)
        return rep

    async def report(self, run_id: str) -> report.Report:
        run = await self._run(run_id, None)
        if run.status != SEALED:
            raise Refused(run_id, ["run not sealed"])
        s = run.info["seal"]
        count, head = int(s["event_count"]), str(s["chain_head"])
        quoted = await postgres.quoted_events(self.pool, run_id, count)
        _, docs = await postgres.documentation(self.pool, run.workspace_id)
        changes = await postgres.documentation_events(self.pool, run.workspace_id, run_id)
        assert run.sealed_at is not None
        access = await postgres.access_log(self.pool, run.workspace_id, run_id, run.sealed_at)
        key = await postgres.seal_key(self.pool, run.workspace_id, self.master_key)
        sealed = report.Seal(
            str(seal.seal_id(run_id, head)),
            iso(run.sealed_at),
            str(s["sealed_by"]),
            head,
            count,
            key.key_id,
        )
        # each decision judged as the package records it: against the sealed chain only
        stale = await postgres.stale_decisions(self.pool, run, count)
        return report.build(run, quoted, sealed, docs, access, orgdocs.fold(changes, docs), stale)

    async def export(
        self,
        run_id: str,
        fmt: ev.ExportFormat,
        template: ev.ExportTemplate,
        requested_by: str,
        workspace_id: str | None = None,
    ) -> ExportRow:
        run = await postgres.run_summary(self.pool, run_id)  # its row: no graph, no points
        if run is None or (workspace_id is not None and run.workspace_id != workspace_id):
            raise NotFound(run_id)
        found = await postgres.export_row(self.pool, run_id, fmt, template)
        if found is not None:
            return found
        if run.status != SEALED:
            await self.seal(run_id, requested_by, workspace_id)
        rep = await self.evidence(await self.sealed_report(run_id))
        stored = await postgres.seal_key(self.pool, run.workspace_id, self.master_key)
        private = keys.open_private(stored, self.master_key)
        key = package.object_key(run.workspace_id, run_id, fmt, template)
        # An attempt that stopped after storing the package (locked: it stays) left the bytes
        # to sign; rendering again could give other bytes (a newer exporter) and an envelope
        # that does not match the package stored.
        earlier = await self.packages.stored(key)
        with metrics.RENDER_SECONDS.labels(fmt.value).time():
            if earlier is None:
                pkg = await asyncio.to_thread(package.build, rep, fmt, template, private)
            else:
                pkg = await asyncio.to_thread(package.attest, rep, fmt, template, earlier, private)
        retention = await postgres.retention(self.pool, run.workspace_id)
        # never shorter than the template's floor (EU AI Act 10 years, HIPAA 6), whatever
        # the workspace's setting says (docs/spec/retention.md)
        years = max(retention.retention_years, ev.TEMPLATE_RETENTION_FLOORS[template])
        until = retain_until(datetime.now(UTC), years)
        written = await self.packages.write(key, pkg, package.CONTENT_TYPES[fmt], until)
        await archive.apply(
            self.packages.store,
            run.workspace_id,
            retention.archive_after_days,
            self.archive_storage_class,
        )
        digest, size = pkg.package_hash, len(pkg.data)
        row = ExportRow(
            run_id,
            fmt,
            template,
            run.workspace_id,
            self.packages.bucket,
            key,
            package.envelope_key(key),
            digest,
            size,
            until,
        )
        await postgres.record_export(self.pool, row)
        await self.publish(
            ev.ExportCompleted(
                workspace_id=run.workspace_id,
                project=run.project,
                run_id=run_id,
                producer=self.producer,
                payload=ev.ExportCompletedPayload(
                    format=fmt,
                    template=template,
                    bucket=row.bucket,
                    object_key=key,
                    package_hash=digest,
                    size=size,
                    retain_until=until,
                ),
            )
        )
        metrics.EXPORTS.labels(fmt.value, "written" if written else "existing").inc()
        return row

    async def public_key(self, workspace_id: str) -> keys.SealedKey:
        return await postgres.seal_key(self.pool, workspace_id, self.master_key)
