"""The report templates: which sections each one has, and which organisation-supplied
text each needs (pure). Organisation text is never invented: a template shows
"not supplied" where the workspace or the run notes give nothing."""

from __future__ import annotations

from cognify_events import ExportTemplate

NOT_SUPPLIED = "not supplied"

COMMON = [
    "Run summary",
    "Dataset provenance",
    "Hyperparameters",
    "Training metrics",
    "Evaluation results",
    "Checkpoint inventory",
    "Lineage graph",
    "Findings",
    "Annotations",
    "Approval record",
    "Seal certificate",
]

SECTIONS: dict[ExportTemplate, list[str]] = {
    ExportTemplate.DEFAULT: COMMON,
    # EU AI Act, Article 11 / Annex IV technical documentation (the audit-trail seed's list).
    ExportTemplate.EU_AI_ACT: [
        "Model identification",
        "Training data description",
        "Performance on standard benchmarks",
        "Known limitations and failure modes",
        "Deployment restrictions and acceptable use policy",
        *COMMON,
    ],
    # HIPAA Security Rule technical safeguard documentation.
    ExportTemplate.HIPAA: [
        "PHI data handling attestation",
        "Access control log",
        "Encryption-at-rest attestation",
        "Incident response cross-reference",
        *COMMON,
    ],
    # The walkthrough's healthcare package.
    ExportTemplate.HEALTHCARE: [
        "Model identification",
        "Intended use statement",
        "Training data provenance attestation",
        "Training configuration",
        "Evaluation results by benchmark",
        "Known limitations",
        *COMMON,
    ],
}


def sections(template: ExportTemplate) -> list[str]:
    return SECTIONS[template]
