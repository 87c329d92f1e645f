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
    "Appendix: full configuration",
]

# The template's own sections come first; compliance.py fills each, field by field, citing
# lineage or the organisation documentation (a unit test keeps these titles and its in step).
EU_AI_ACT = [  # EU AI Act, Article 11 / Annex IV: the nine points of technical documentation
    "1. General description of the AI system",
    "2. Development process, data and testing",
    "3. Monitoring, functioning and control",
    "4. Appropriateness of the performance metrics",
    "5. Risk management system",
    "6. Changes through the lifecycle",
    "7. Standards and specifications applied",
    "8. EU declaration of conformity",
    "9. Post-market monitoring plan",
]
HIPAA = [  # HIPAA Security Rule, 45 CFR §164.312 technical safeguards
    "PHI data handling attestation",
    "§164.312(a) Access control",
    "§164.312(b) Audit controls",
    "§164.312(c) Integrity",
    "§164.312(d) Person or entity authentication",
    "§164.312(a)(2)(iv) Encryption at rest (checkpoint storage)",
    "Incident response cross-reference",
]
HEALTHCARE = [  # the walkthrough's healthcare package
    "Model identification",
    "Intended use statement",
    "Training data provenance attestation",
    "Known limitations",
    "Human oversight",
]

SECTIONS: dict[ExportTemplate, list[str]] = {
    ExportTemplate.DEFAULT: COMMON,
    ExportTemplate.EU_AI_ACT: [*EU_AI_ACT, *COMMON],
    ExportTemplate.HIPAA: [*HIPAA, "Access control log", *COMMON],
    ExportTemplate.HEALTHCARE: [*HEALTHCARE, *COMMON],
}


def sections(template: ExportTemplate) -> list[str]:
    return SECTIONS[template]
