-- 011_compat.sql: what the reference's clients (IronLayer's web UI, users'
-- scripts) read that we did not store: its run statuses, a model's creation
-- time, who made an environment and whether it is production, and the
-- displayable prefix of a stored LLM key.

-- Run statuses are the reference's PENDING, RUNNING, SUCCESS, FAIL and
-- CANCELLED. FAILED was our spelling of FAIL; SKIPPED (a step not run because
-- an upstream step did not succeed) is a CANCELLED run whose error_message
-- says why.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
UPDATE runs SET status = 'FAIL' WHERE status = 'FAILED';
UPDATE runs SET status = 'CANCELLED' WHERE status = 'SKIPPED';
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('PENDING', 'RUNNING', 'SUCCESS', 'FAIL', 'CANCELLED'));

-- When the catalog first saw the model: its first version's time.
ALTER TABLE models ADD COLUMN created_at timestamptz;
UPDATE models m SET created_at = coalesce(
    (SELECT min(v.created_at) FROM model_versions v
     WHERE v.tenant_id = m.tenant_id AND v.model_name = m.name), m.updated_at);
ALTER TABLE models ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE models ALTER COLUMN created_at SET NOT NULL;

ALTER TABLE environments ADD COLUMN is_production boolean NOT NULL DEFAULT false;
ALTER TABLE environments ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- The key's type marker (its leading characters up to a '-', at most 8: sk-ant-,
-- sk-proj-, sk-), shown like llm_key_last4 so a person can tell which key is
-- stored; never a random character. NULL for keys stored before this
-- migration (they are sealed: nothing can derive it here).
ALTER TABLE tenant_settings ADD COLUMN llm_key_prefix text
    CHECK (length(llm_key_prefix) <= 8);
