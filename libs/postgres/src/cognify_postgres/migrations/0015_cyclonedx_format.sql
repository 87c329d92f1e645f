-- Issue 15: `cyclonedx` (a CycloneDX 1.6 ML-BOM, docs/spec/package.md) is an export format
-- beside pdf, json and xlsx: in the exporter's index and as a workspace's auto-export format.
ALTER TABLE exports DROP CONSTRAINT exports_format_check;
ALTER TABLE exports ADD CONSTRAINT exports_format_check
    CHECK (format IN ('pdf', 'json', 'xlsx', 'cyclonedx'));
ALTER TABLE retention_settings DROP CONSTRAINT retention_settings_auto_export_format_check;
ALTER TABLE retention_settings ADD CONSTRAINT retention_settings_auto_export_format_check
    CHECK (auto_export_format IN ('pdf', 'json', 'xlsx', 'cyclonedx'));
