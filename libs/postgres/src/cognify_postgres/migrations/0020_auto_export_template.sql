-- Issue 15: auto-export on seal takes a template (PATCH /v2/workspaces/{id}/retention
-- `auto_export_template`); its retention floor (EU AI Act 10 years, HIPAA 6) is enforced by
-- ingest's rule (retention.py) and by the exporter's lock (docs/spec/retention.md).
ALTER TABLE retention_settings ADD COLUMN auto_export_template text NOT NULL DEFAULT 'default'
    CHECK (auto_export_template IN ('default', 'eu_ai_act', 'hipaa', 'healthcare'));
