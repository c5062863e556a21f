-- 009_plan_content.sql: what an approval covers, kept beside the plan.
--
-- model_hashes holds each step model's content hash at the plan's target
-- commit, as computed when the plan was generated ({"schema.name": "<sha256>"}).
-- Apply recomputes them from the repository before anything runs and refuses
-- the plan (409 plan_content_changed) when one differs. The plan JSON itself
-- (plan_text) stays byte-identical to `ironlayer plan`. Plans made before this
-- migration have NULL here and must be generated again before they can run.
-- The table's row-level security policy and grants cover the new column.

ALTER TABLE plans ADD COLUMN model_hashes jsonb
    CHECK (model_hashes IS NULL OR jsonb_typeof(model_hashes) = 'object');
