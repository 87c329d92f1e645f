-- An admin may change a workspace's compliance tier after its creation (issue 16):
-- `PUT /v2/workspaces/{ws}/tier` on ingest, which publishes `workspace.tier_changed` and then
-- updates the row. Ingest may write that one column of `workspaces`, nothing else of it.
GRANT UPDATE (compliance_tier) ON workspaces TO cognify_ingest;
